"""After step 5: keep the Connect token alive and let it go.

Refresh — RFC 6749 §6, RFC 9700 §4.14 (rotation): when the access token has expired, trade the
refresh token for a new pair and *replace* the stored refresh token (checklist C9); a refreshed
id_token must keep `iss` and `sub` (OIDC Core §12.2). If the refresh fails, John connects again.

Revocation — RFC 7009 §2: "Disconnect Mockgram" asks Mockgram to revoke the refresh token (which
ends the whole grant) and the access token, then forgets both here whatever Mockgram said.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import or_, update
from sqlmodel import Session, col

from awesomeservice.backchannel import MockgramUnavailable, send
from awesomeservice.connections import access_token_expired, forget_connection, get_connection
from awesomeservice.discovery import Discovery, back_channel
from awesomeservice.id_token import IdTokenRejected
from awesomeservice.models import MockgramConnection
from awesomeservice.oauth_client import (
    TokenError,
    TokenSet,
    client_secret_basic,
    token_request,
    validate_connect_id_token,
)
from awesomeservice.settings import AwesomeServiceSettings
from shared.clock import utcnow
from shared.db import Database

# Refresh a little early, so a token does not expire on its way to the API.
EXPIRY_SKEW_SECONDS = 30
# A refresh claimed longer ago than this was abandoned (its worker died); another may take over.
STALE_CLAIM_SECONDS = 30


class RefreshFailed(Exception):
    """The refresh was refused or its answer could not be trusted; the connection is gone."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


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
        return await refresh_connection(database, http, settings, discovery, connection)
    except MockgramUnavailable:
        # Nothing learned: let a later request try again.
        await database.run(_release_claim, connection)
        raise


async def refresh_connection(
    database: Database,
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    discovery: Discovery,
    connection: MockgramConnection,
) -> MockgramConnection | None:
    """RFC 6749 §6: the refresh_token grant; the stored tokens replaced in one commit (None
    when the connection was disconnected while the refresh was on its way)."""
    assert connection.refresh_token is not None
    metadata = await discovery.metadata(http, settings.mockgram_url)
    try:
        tokens = await token_request(
            http,
            settings,
            token_endpoint=metadata.token_endpoint,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            # RFC 6749 §6: scope omitted means the scope originally granted.
            form={"grant_type": "refresh_token", "refresh_token": connection.refresh_token},
            requested_scope=connection.scope,
        )
    except TokenError as exc:
        await database.run(forget_connection, connection.user_id)
        raise RefreshFailed(
            exc.error,
            f"Mockgram refused to renew the access ({exc.error}). Connect again to continue.",
        ) from exc
    subject = connection.subject
    if tokens.id_token is not None:
        try:
            # OIDC Core §12.2: same iss (checked against metadata.issuer) and, below, same sub;
            # a refreshed id_token carries no nonce of ours.
            refreshed = await validate_connect_id_token(http, settings, discovery, metadata, tokens)
        except IdTokenRejected as exc:
            await database.run(forget_connection, connection.user_id)
            raise RefreshFailed(
                exc.reason, f"The renewed id_token was refused: {exc.message}"
            ) from exc
        if subject is not None and refreshed.sub != subject:
            await database.run(forget_connection, connection.user_id)
            raise RefreshFailed(
                "sub_changed",
                "The renewed id_token is about another person (its sub changed), "
                "so nothing from it was kept (OIDC Core §12.2).",
            )
        subject = refreshed.sub
    return await database.run(_store_refreshed, connection.id, tokens, subject)


# ── Disconnect: RFC 7009 ─────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Revocation:
    """What happened to one token at Mockgram."""

    token_type_hint: str
    outcome: str  # "revoked", "refused", "unreachable", "unsupported"
    detail: str = ""


async def revoke(
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    discovery: Discovery,
    connection: MockgramConnection,
) -> list[Revocation]:
    """Revoke the refresh token (ending the grant), then the access token (RFC 7009 §2.1)."""
    pairs = [("refresh_token", connection.refresh_token), ("access_token", connection.access_token)]
    tokens = [(hint, token) for hint, token in pairs if token]
    try:
        metadata = await discovery.metadata(http, settings.mockgram_url)
    except MockgramUnavailable as exc:
        return [Revocation(hint, "unreachable", exc.detail) for hint, _ in tokens]
    if metadata.revocation_endpoint is None:
        return [Revocation(hint, "unsupported") for hint, _ in tokens]
    results: list[Revocation] = []
    for hint, token in tokens:
        try:
            response = await send(
                http,
                "POST",
                back_channel(metadata.revocation_endpoint, settings),
                # RFC 7009 §2.1: the token, a hint of its type, and the client's authentication.
                data={"token": token, "token_type_hint": hint},
                headers={
                    "Authorization": client_secret_basic(settings.client_id, settings.client_secret)
                },
            )
        except MockgramUnavailable as exc:
            results.append(Revocation(hint, "unreachable", exc.detail))
            continue
        # RFC 7009 §2.2: 200 means revoked (or already invalid — the same to us).
        if response.status_code == 200:
            results.append(Revocation(hint, "revoked"))
        else:
            results.append(Revocation(hint, "refused", f"HTTP {response.status_code}"))
    return results
