"""Rate limits per client address on what strangers can make Mockgram store (SECURITY.md M8).

Two things cost Mockgram a stored row for an anonymous request: a registered client (RFC 7591
§3, and the developer portal) and a pending authorization request (RFC 6749 §4.1.1, kept until
John answers it). Each is counted per client address in fixed windows of an hour, in the
database (RateLimitCount), so every worker and replica sees the same count. Past the limit the
answer is 429 with Retry-After until the window ends (RFC 6585 §4, RFC 9110 §10.2.3).

- An IPv6 address counts by its /64 network: one host usually holds a whole /64, so counting
  single addresses would give it 2^64 allowances.
- The address is stored only as a hash, and a window's row is deleted once the window is over
  (whenever a new row is made), so the table holds at most one row per address and kind.
- A limit of 0 switches that limit off (benchmarks, or a test suite that hammers one endpoint).
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from starlette.requests import Request

from mockgram.models import RateLimitCount
from shared.clock import utcnow
from shared.hashing import hash_secret

WINDOW = timedelta(hours=1)
# Tries at the counter before a request racing others for a new window is told to wait.
ATTEMPTS = 5
REGISTRATIONS = "registration"
AUTHORIZATION_REQUESTS = "authorization_request"


@dataclass(frozen=True)
class Limit:
    """At most `per_window` of `kind` per client address in each window (0: no limit)."""

    kind: str
    per_window: int
    window: timedelta = WINDOW


def client_address(request: Request) -> str:
    """The address the request came from, as the server saw it."""
    return request.client.host if request.client else ""


def address_key(address: str) -> str:
    """The hash an address is counted under: IPv6 by its /64 network, anything else as is."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return hash_secret(address)
    if parsed.version == 6:
        return hash_secret(str(ipaddress.ip_network(f"{parsed}/64", strict=False)))
    return hash_secret(str(parsed))


def window_start(now: datetime, window: timedelta) -> datetime:
    """The start of the fixed window `now` falls in (windows are aligned to the epoch)."""
    seconds = int(window.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=UTC)


def take(db: Session, limit: Limit, *, address: str, now: datetime | None = None) -> int:
    """Count one more `limit.kind` for `address`: 0 when allowed, else seconds to wait.

    Commits. The count goes up in one UPDATE guarded by `count < limit`, so of racing workers
    only as many as there are places left get one.
    """
    if limit.per_window <= 0:
        return 0
    now = now or utcnow()
    start = window_start(now, limit.window)
    end = start + limit.window
    key = address_key(address)
    this_window = (
        col(RateLimitCount.kind) == limit.kind,
        col(RateLimitCount.address_hash) == key,
        col(RateLimitCount.window_start) == start,
    )
    for _attempt in range(ATTEMPTS):
        taken = db.exec(
            update(RateLimitCount)  # type: ignore[call-overload]
            .where(*this_window, col(RateLimitCount.count) < limit.per_window)
            .values(count=RateLimitCount.count + 1)
        ).rowcount
        if taken:
            db.commit()
            return 0
        counted = db.exec(select(RateLimitCount.count).where(*this_window)).first()
        if counted is not None and counted >= limit.per_window:
            db.rollback()
            return max(1, math.ceil((end - now).total_seconds()))
        if counted is not None:
            continue  # another worker started this window after our UPDATE looked: count there
        # The first of this window: sweep the windows that are over, then start this one.
        db.exec(delete(RateLimitCount).where(col(RateLimitCount.window_end) <= now))  # type: ignore[call-overload]
        db.add(
            RateLimitCount(
                kind=limit.kind, address_hash=key, window_start=start, window_end=end, count=1
            )
        )
        try:
            db.commit()
            return 0
        except IntegrityError:
            db.rollback()  # another worker started this window meanwhile: count in its row
    # Reached only when racing workers kept taking the places left: the window is full.
    return max(1, math.ceil((end - now).total_seconds()))
