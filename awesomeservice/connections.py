"""The stored Mockgram connection of a user: saved after step 5, read for step 6, kept alive
by refreshing, revoked and forgotten on "Disconnect Mockgram".

Refresh (RFC 6749 §6, RFC 9700 §4.14): when the access token has expired, one request — even
with several workers serving John at once — claims the refresh, trades the refresh token for
a new pair and *replaces* the stored one (SECURITY.md C9). If the refresh fails, John connects
again. Disconnect (RFC 7009 §2): the refresh token (ending the grant) and the access token are
revoked at Mockgram, then forgotten here whatever Mockgram said. The calls themselves are in
awesomeservice/oauth/token_endpoint.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import httpx
from sqlalchemy import or_, update
from sqlmodel import Session, col, delete, select

from awesomeservice.backchannel import MockgramUnavailable, back_channel
from awesomeservice.events import Events
from awesomeservice.models import MockgramConnection
from awesomeservice.oauth.discovery import Discovery, ProviderMetadata
from awesomeservice.oauth.dpop import DpopKey, DpopSender
from awesomeservice.oauth.id_token import IdTokenRejected
from awesomeservice.oauth.token_endpoint import (
    Client,
    Revocation,
    SubjectChanged,
    TokenError,
    TokenSet,
    checked_id_token,
    client_for,
    kept_subject,
    refresh,
    revoke,
)
from awesomeservice.settings import AwesomeServiceSettings
from shared.clock import as_utc, utcnow
from shared.db import Database


def print_shop_client(
    metadata: ProviderMetadata, settings: AwesomeServiceSettings, dpop_key: DpopKey | None = None
) -> Client:
    """AwesomeService's own client at Mockgram (Connect, refresh, revocation); with a DPoP key
    (AWESOMESERVICE_USE_DPOP) its token calls prove it (RFC 9449 §5)."""
    client = client_for(metadata, settings.client_id, settings.client_secret)
    if dpop_key is None:
        return client
    return replace(client, dpop=DpopSender(dpop_key, settings.mockgram_url))


# Refresh a little early, so a token does not expire on its way to the API.
EXPIRY_SKEW_SECONDS = 30
# A refresh claimed longer ago than this was abandoned (its worker died); another may take over.
STALE_CLAIM_SECONDS = 30


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


class RefreshFailed(Exception):
    """The refresh was refused or its answer could not be trusted; the connection is gone."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message

    @classmethod
    def because(cls, exc: TokenError | IdTokenRejected | SubjectChanged) -> RefreshFailed:
        """The refusal, in the words the photos page shows."""
        if isinstance(exc, TokenError):
            return cls(
                exc.error,
                f"Mockgram refused to renew the access ({exc.error}). Connect again to continue.",
            )
        if isinstance(exc, IdTokenRejected):
            return cls(exc.reason, f"The renewed id_token was refused: {exc.message}")
        return cls(
            "sub_changed",
            "The renewed id_token is about another person (its sub changed), "
            "so nothing from it was kept (OIDC Core §12.2).",
        )


class RefreshBusy(Exception):
    """Another request is refreshing this connection right now; try again in a moment."""


def _claim_refresh(session: Session, connection: MockgramConnection) -> bool:
    """Atomically mark the connection as being refreshed; False if someone else holds it."""
    now = utcnow()
    statement = (
        update(MockgramConnection)
        .where(
            col(MockgramConnection.id) == connection.id,
            col(MockgramConnection.refresh_token) == connection.refresh_token,
            or_(
                col(MockgramConnection.refresh_claimed_at).is_(None),
                col(MockgramConnection.refresh_claimed_at)
                < now - timedelta(seconds=STALE_CLAIM_SECONDS),
            ),
        )
        .values(refresh_claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    claimed = session.exec(statement).rowcount  # type: ignore[attr-defined]
    session.commit()
    return bool(claimed == 1)


def _release_claim(session: Session, connection: MockgramConnection) -> None:
    """Give up this request's claim on the refresh."""
    stored = session.get(MockgramConnection, connection.id)
    if stored is not None:
        stored.refresh_claimed_at = None


def _store_refreshed(
    session: Session, connection_id: int | None, tokens: TokenSet, subject: str | None
) -> MockgramConnection | None:
    """Replace the stored tokens with the refreshed ones, in one commit; None when the
    connection was forgotten meanwhile (a Disconnect while the refresh was on its way)."""
    connection = session.get(MockgramConnection, connection_id)
    if connection is None:
        return None
    connection.access_token = tokens.access_token
    connection.expires_at = tokens.expires_at
    connection.scope = tokens.scope
    # C9, RFC 6749 §6: a new refresh token replaces the old one, which must not be used again;
    # when none is returned the old one stays valid.
    if tokens.refresh_token is not None:
        connection.refresh_token = tokens.refresh_token
    connection.subject = subject
    connection.refreshed_at = utcnow()
    connection.refresh_claimed_at = None
    return connection


def needs_refresh(connection: MockgramConnection | None) -> bool:
    """True when the access token has (nearly) expired and a refresh token can renew it."""
    return (
        connection is not None
        and bool(connection.refresh_token)
        and access_token_expired(connection, skew_seconds=EXPIRY_SKEW_SECONDS)
    )


async def fresh_connection(
    database: Database,
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    discovery: Discovery,
    user_id: int,
    *,
    events: Events,
    dpop_key: DpopKey | None = None,
) -> MockgramConnection | None:
    """The user's connection with an unexpired access token, refreshed if needed; or None."""
    connection = await database.run(get_connection, user_id)
    if connection is None or not access_token_expired(connection, skew_seconds=EXPIRY_SKEW_SECONDS):
        return connection
    if not connection.refresh_token:
        await database.run(forget_connection, user_id)  # expired and nothing to renew it with
        return None
    if not await database.run(_claim_refresh, connection):
        # Several workers may serve John at once; only one may spend the refresh token.
        current = await database.run(get_connection, user_id)
        if current is not None and not access_token_expired(current):
            return current  # the other request finished first
        raise RefreshBusy
    try:
        return await refresh_connection(
            database, http, events, settings, discovery, connection, dpop_key=dpop_key
        )
    except MockgramUnavailable:
        # Nothing learned: let a later request try again.
        await database.run(_release_claim, connection)
        raise


async def refresh_connection(
    database: Database,
    http: httpx.AsyncClient,
    events: Events,
    settings: AwesomeServiceSettings,
    discovery: Discovery,
    connection: MockgramConnection,
    *,
    dpop_key: DpopKey | None = None,
) -> MockgramConnection | None:
    """RFC 6749 §6: the refresh_token grant; the stored tokens replaced in one commit (None
    when the connection was disconnected while the refresh was on its way)."""
    assert connection.refresh_token is not None
    metadata = await discovery.metadata(http, settings.mockgram_url)
    try:
        tokens = await refresh(
            http,
            events,
            back_channel(metadata.token_endpoint, settings),
            print_shop_client(metadata, settings, dpop_key),
            refresh_token=connection.refresh_token,
            scope=connection.scope,
        )
        # Connect sends no nonce, and a refreshed id_token carries none of ours.
        checked = await checked_id_token(
            http,
            events,
            discovery,
            metadata,
            client_id=settings.client_id,
            tokens=tokens,
            nonce=None,
        )
        subject = kept_subject(checked, connection.subject)
    except (TokenError, IdTokenRejected, SubjectChanged) as exc:
        await database.run(forget_connection, connection.user_id)
        raise RefreshFailed.because(exc) from exc
    return await database.run(_store_refreshed, connection.id, tokens, subject)


# ── Disconnect: RFC 7009 ─────────────────────────────────────────────────────────────────────


def tokens_to_revoke(connection: MockgramConnection) -> list[tuple[str, str]]:
    """(token_type_hint, token): the refresh token first, as revoking it ends the grant."""
    pairs = [("refresh_token", connection.refresh_token), ("access_token", connection.access_token)]
    return [(hint, token) for hint, token in pairs if token]


async def revoke_connection(
    http: httpx.AsyncClient,
    events: Events,
    settings: AwesomeServiceSettings,
    discovery: Discovery,
    connection: MockgramConnection,
) -> list[Revocation]:
    """Ask Mockgram to revoke this connection's tokens (RFC 7009 §2.1)."""
    tokens = tokens_to_revoke(connection)
    try:
        metadata = await discovery.metadata(http, settings.mockgram_url)
    except MockgramUnavailable as exc:
        return [Revocation(hint, "unreachable", exc.detail) for hint, _ in tokens]
    endpoint = metadata.revocation_endpoint
    return await revoke(
        http,
        events,
        back_channel(endpoint, settings) if endpoint else None,
        print_shop_client(metadata, settings),
        tokens,
    )
