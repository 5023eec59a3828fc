"""Remembered consent: what John already granted each app (RFC 6749 §3.3, §4.1.1).

One row per user and client holding the union of every scope he allowed, so the second
"Connect Mockgram" skips the consent page when nothing new is asked.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

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
    """Add `scope` to John's consent for this client, in the caller's transaction.

    Plain statements rather than a loaded row flushed later: an insert that does nothing when
    the row exists, then a compare-and-set update that only applies to the scope just read.
    Two tabs allowing different scopes at once both end up in the union, and no write depends
    on an object the session holds going stale before the caller commits.
    """
    wanted = set(scope.split())
    for _ in range(3):
        insert_row(session, user_id=user_id, client_id=client_id, scope=scope)
        held = current_scope(session, user_id=user_id, client_id=client_id)
        if held is None:  # a database without INSERT … ON CONFLICT, or revoked meanwhile
            continue
        union = normalize_scope(set(held.split()) | wanted)
        if union == held:
            return
        statement = (
            update(Consent)
            .where(
                col(Consent.user_id) == user_id,
                col(Consent.client_id) == client_id,
                col(Consent.scope) == held,
            )
            .values(scope=union, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if session.exec(statement).rowcount == 1:  # type: ignore[call-overload]
            return
    raise RuntimeError("the consent kept changing under us")


def current_scope(session: Session, *, user_id: int, client_id: str) -> str | None:
    """The scope stored for this user and client, read from the database, not the session."""
    statement = select(Consent.scope).where(
        col(Consent.user_id) == user_id, col(Consent.client_id) == client_id
    )
    return session.exec(statement).first()


def insert_row(session: Session, *, user_id: int, client_id: str, scope: str) -> None:
    """Create the row unless it exists, in the caller's transaction (no savepoint, no race)."""
    dialect = session.get_bind().dialect.name
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(dialect)
    now = utcnow()
    if insert is None:
        if current_scope(session, user_id=user_id, client_id=client_id) is None:
            session.add(Consent(user_id=user_id, client_id=client_id, scope=scope))
            session.flush()
        return
    statement = insert(Consent).values(
        user_id=user_id, client_id=client_id, scope=scope, granted_at=now, updated_at=now
    )
    session.exec(statement.on_conflict_do_nothing(index_elements=["user_id", "client_id"]))
