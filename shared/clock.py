"""Time, one way: timezone-aware UTC everywhere, and naive values from SQLite read as UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Timezone-aware now; every timestamp in the database is UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive; read them as the UTC they were written as."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
