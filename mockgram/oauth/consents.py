"""Remembered consent: what John already granted each app (RFC 6749 §3.3, §4.1.1).

One row per user and client holding the union of every scope he allowed, so the second
"Connect Mockgram" skips the consent page when nothing new is asked.
"""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from mockgram.models import Consent
from mockgram.scopes import normalize_scope
from shared.clock import utcnow


def find(session: Session, *, user_id: int, client_id: str) -> Consent | None:
    """The consent John gave this client, if any."""
    statement = select(Consent).where(Consent.user_id == user_id, Consent.client_id == client_id)
    return session.exec(statement).first()


def covers(session: Session, *, user_id: int, client_id: str, scope: str) -> bool:
    """True when John already allowed this client every scope in `scope`."""
    consent = find(session, user_id=user_id, client_id=client_id)
    return consent is not None and set(scope.split()) <= set(consent.scope.split())


def remember(session: Session, *, user_id: int, client_id: str, scope: str) -> None:
    """Add `scope` to John's consent for this client (upsert; the caller commits)."""
    insert_row(session, user_id=user_id, client_id=client_id, scope=scope)
    consent = find(session, user_id=user_id, client_id=client_id)
    if consent is None:  # a database without INSERT … ON CONFLICT: plain insert
        session.add(Consent(user_id=user_id, client_id=client_id, scope=scope))
        return
    consent.scope = normalize_scope(set(consent.scope.split()) | set(scope.split()))
    consent.updated_at = utcnow()
    session.add(consent)


def insert_row(session: Session, *, user_id: int, client_id: str, scope: str) -> None:
    """Create the row unless it exists, in the caller's transaction (no savepoint, no race)."""
    dialect = session.get_bind().dialect.name
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(dialect)
    if insert is None:
        return
    now = utcnow()
    statement = insert(Consent).values(
        user_id=user_id, client_id=client_id, scope=scope, granted_at=now, updated_at=now
    )
    session.exec(statement.on_conflict_do_nothing(index_elements=["user_id", "client_id"]))
