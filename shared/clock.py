"""Time, one way: timezone-aware UTC everywhere, and naive values from SQLite read as UTC.

The clock can be skewed for the duration of a request (`skewed`): Mockgram's control plane
(mockgram/control/) keeps an offset in the database and applies it around each request, so a
test can move every worker's clock at once — codes and tokens then expire as if time had passed.
A context variable carries the offset, so it follows the request into its worker threads and
concurrent requests never see each other's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

_skew: ContextVar[timedelta] = ContextVar("clock_skew", default=timedelta(0))


def utcnow() -> datetime:
    """Timezone-aware now (skewed when a control-plane offset applies); stored times are UTC."""
    return datetime.now(UTC) + _skew.get()


def epoch_seconds() -> int:
    """utcnow() as whole seconds since the epoch (a JWT NumericDate, RFC 7519 §2)."""
    return int(utcnow().timestamp())


@contextmanager
def skewed(offset: timedelta) -> Iterator[None]:
    """Within the block (and threads it starts work in), utcnow() is off by `offset`."""
    token = _skew.set(offset)
    try:
        yield
    finally:
        _skew.reset(token)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive; read them as the UTC they were written as."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
