"""The stored Mockgram connection of a user: save after step 5, read for step 6, forget.

Refresh and revocation are in awesomeservice/token_lifecycle.py.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, delete, select

from awesomeservice.models import MockgramConnection
from awesomeservice.oauth_client import TokenSet
from shared.clock import as_utc, utcnow


def get_connection(session: Session, user_id: int) -> MockgramConnection | None:
    """The user's connection, or None."""
    return session.exec(
        select(MockgramConnection).where(MockgramConnection.user_id == user_id)
    ).first()


def access_token_expired(connection: MockgramConnection, *, skew_seconds: int = 0) -> bool:
    """True when the access token is past (or within `skew_seconds` of) its expiry."""
    if connection.expires_at is None:
        return False
    return as_utc(connection.expires_at) <= utcnow() + timedelta(seconds=skew_seconds)


def usable_connection(session: Session, user_id: int) -> MockgramConnection | None:
    """The connection if its token is valid or can be refreshed; a dead one is forgotten."""
    connection = get_connection(session, user_id)
    if connection is None:
        return None
    if access_token_expired(connection) and not connection.refresh_token:
        forget_connection(session, user_id)
        return None
    return connection


def save_connection(
    session: Session, user_id: int, tokens: TokenSet, *, subject: str | None = None
) -> MockgramConnection:
    """Insert or replace the user's tokens, in one commit."""
    connection = get_connection(session, user_id) or MockgramConnection(
        user_id=user_id, access_token=""
    )
    connection.access_token = tokens.access_token
    connection.token_type = tokens.token_type
    connection.scope = tokens.scope
    connection.expires_at = tokens.expires_at
    connection.refresh_token = tokens.refresh_token
    connection.connected_at = utcnow()
    connection.subject = subject
    connection.refreshed_at = None
    connection.refresh_claimed_at = None
    session.add(connection)
    session.commit()
    session.refresh(connection)
    return connection


def forget_connection(session: Session, user_id: int) -> None:
    """Delete the stored tokens of this user."""
    session.exec(delete(MockgramConnection).where(MockgramConnection.user_id == user_id))
    session.commit()
