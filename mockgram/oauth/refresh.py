"""Refresh tokens and the refresh_token grant (RFC 6749 §1.5, §6; RFC 9700 §4.14).

AwesomeService's access token lives fifteen minutes; the refresh token lets its back end get a
new one without sending John through steps 1–4 again. The grant reads as a checklist: client
authentication (done by the token endpoint) → token known → issued to this client → not used
before (else reuse: the family is revoked) → family not expired → not revoked → scope no wider
than granted → single use (the atomic rotation claim) → new tokens.

Decisions, written down:
- Who gets one: the authorization_code grant issues a refresh token when the granted scope
  holds `offline_access` (OIDC Core §11), or always when the client is confidential — a server
  that keeps its secret can keep a refresh token as well (RFC 6749 §1.5 leaves it to the AS). A
  public client (a SPA) gets one only by asking for offline_access and John consenting to it.
  Never the implicit flow, never the authorization endpoint (RFC 6749 §4.2.2).
- Opaque and random (256 bits), stored as its SHA-256 only, like codes and client secrets.
- One grant, one family: every token issued from one code redemption — access and refresh —
  carries the same `grant_id`. Rotation on every use, for every client (RFC 9700 §4.14.2): the
  old refresh token is claimed atomically (UPDATE … SET used_at WHERE used_at IS NULL) and a new
  one issued. Presenting a used one again is reuse: `invalid_grant`, and the whole family is
  revoked, newest tokens included, because Mockgram cannot tell the thief from John's app.
  Reuse is looked for before anything the request adds (a wider `scope` would otherwise earn
  an `invalid_scope` and leave the family alive); a refused scope does not burn the token.
- Only the client a token was issued to can trigger that: another client's token is
  `invalid_grant` and changes nothing (RFC 6749 §10.4), so a stranger cannot log John out.
- The family has an absolute expiry (`refresh_token_ttl_seconds`, default 30 days from the
  code redemption); rotation carries it over, so a refresh token is never immortal.
- `scope` may narrow the new access token (§6); the new refresh token keeps the grant's scope,
  so the next refresh may ask for all of it again.
"""

from __future__ import annotations

from typing import NoReturn

from fastapi.responses import JSONResponse
from sqlmodel import Session, col

from mockgram.deps import Provider
from mockgram.events import Events, RefreshTokenReused, TokensIssued
from mockgram.models import Client, IssuedToken, RefreshToken, User
from mockgram.oauth import dpop
from mockgram.oauth.errors import (
    NO_STORE_HEADERS,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
)
from mockgram.oauth.grants import grant_of, issue_tokens, kinds_in
from mockgram.oauth.id_tokens import issue_id_token, numeric_date
from mockgram.oauth.resources import within
from mockgram.scopes import has_openid, normalize_scope
from shared.clock import as_utc, utcnow
from shared.db import stamp_unset
from shared.hashing import hash_secret

OFFLINE_ACCESS = "offline_access"


def gets_refresh_token(client: Client, scope: str) -> bool:
    """The code grant's rule: offline_access asked and granted, or a confidential client."""
    return OFFLINE_ACCESS in scope.split() or not client.is_public


def find_refresh_token(session: Session, token: str) -> RefreshToken | None:
    """The stored refresh token for a presented value, looked up by its hash."""
    return session.get(RefreshToken, hash_secret(token))


def revoke_grant(session: Session, grant_id: str) -> None:
    """Revoke a whole family: its refresh tokens and its access tokens (the caller commits)."""
    stamp_unset(session, col(RefreshToken.revoked_at), col(RefreshToken.grant_id) == grant_id)
    stamp_unset(session, col(IssuedToken.revoked_at), col(IssuedToken.grant_id) == grant_id)


def revoke_refresh_tokens_of(session: Session, *, user_id: int, client_id: str) -> None:
    """Revoke every refresh token a client holds for one person (the caller commits)."""
    stamp_unset(
        session,
        col(RefreshToken.revoked_at),
        col(RefreshToken.user_id) == user_id,
        col(RefreshToken.client_id) == client_id,
    )


def reuse_detected(
    session: Session, events: Events, record: RefreshToken, client: Client
) -> NoReturn:
    """Revoke the whole family of a reused refresh token and refuse (RFC 9700 §4.14.2)."""
    revoke_grant(session, record.grant_id)
    reused = RefreshTokenReused(
        user_id=record.user_id, client_id=client.client_id, grant_id=record.grant_id
    )
    events.announce(session, reused)
    session.commit()
    raise InvalidGrantError(
        "The refresh token was already used; every token of this grant is now revoked."
    )


def refresh_grant(
    session: Session,
    provider: Provider,
    *,
    client: Client,
    form: dict[str, str],
    jkt: str | None = None,
) -> JSONResponse:
    """The refresh_token grant, check by check (RFC 6749 §6); the client is authenticated.

    `jkt`: the DPoP key the request proved (RFC 9449 §5), if any.
    """
    record = find_presented(session, form, client, provider.events)
    # RFC 9449 §5: a refresh token bound to a DPoP key needs a proof by that key.
    dpop.check_refresh_binding(record.jkt, jkt)
    scope = narrowed_scope(record, form)
    rotate(session, record, client, provider.events)
    user = session.get(User, record.user_id)
    if user is None:
        raise InvalidGrantError("The person this grant belongs to no longer exists.")
    # §6: the new refresh token keeps the grant's whole scope and the family's expiry.
    grant = grant_of(record)
    # RFC 8707 §2.2: a refresh may name the grant's resource (or none), never another.
    authorized = grant.resource or provider.settings.api_audience
    requested = form.get("resource")
    audience = within([requested] if requested else [authorized], [authorized])
    body = issue_tokens(
        session,
        provider,
        grant,
        scope=scope,
        with_refresh_token=True,
        audience=audience,
        jkt=jkt,
    )
    if has_openid(scope):
        # OIDC Core §12.2: same iss, sub, aud; auth_time of the original sign-in; no nonce.
        access_token, auth_time = str(body["access_token"]), numeric_date(grant.auth_time)
        body["id_token"] = issue_id_token(
            provider,
            client,
            user,
            scope,
            auth_time=auth_time,
            access_token=access_token,
            session=session,
        )
    issued = TokensIssued(
        user_id=grant.user_id,
        client_id=grant.client_id,
        grant="refresh_token",
        kinds=kinds_in(body),
    )
    provider.events.announce(session, issued)
    session.commit()
    return JSONResponse(body, headers=NO_STORE_HEADERS)


def find_presented(
    session: Session, form: dict[str, str], client: Client, events: Events
) -> RefreshToken:
    """The presented token: known, this client's, unused, unexpired, unrevoked (§6, §10.4)."""
    # §6: refresh_token is required; it is looked up by its hash.
    presented = form.get("refresh_token")
    if presented is None:
        raise InvalidRequestError("refresh_token is required.")
    record = find_refresh_token(session, presented)
    if record is None:
        raise InvalidGrantError("The refresh token is invalid.")
    # §6, §10.4: the token is bound to the client it was issued to.
    if record.client_id != client.client_id:
        raise InvalidGrantError("The refresh token was issued to another client.")
    # RFC 9700 §4.14.2: a rotated token presented again is reuse — the family goes first,
    # whatever else the request carries (a wider scope must not let a replay slip past).
    if record.used_at is not None:
        reuse_detected(session, events, record, client)
    # RFC 9700 §4.14.2: the family's absolute expiry.
    if as_utc(record.expires_at) <= utcnow():
        raise InvalidGrantError("The refresh token has expired.")
    # RFC 7009 §2.2: a revoked token is refused.
    if record.revoked_at is not None:
        raise InvalidGrantError("The refresh token was revoked.")
    return record


def narrowed_scope(record: RefreshToken, form: dict[str, str]) -> str:
    """§6: the requested scope, which must not include anything not originally granted."""
    requested = form.get("scope")
    if requested is None:
        return record.scope
    wanted = set(requested.split())
    if not wanted or not wanted <= set(record.scope.split()):
        raise InvalidScopeError("A refresh may ask for the granted scope or less, not more.")
    return normalize_scope(wanted)


def rotate(session: Session, record: RefreshToken, client: Client, events: Events) -> None:
    """RFC 9700 §4.14.2: exactly one request may use this token; a second is reuse.

    The claim is atomic, so of two racing requests the loser is caught as a reuse too.
    """
    used = col(RefreshToken.used_at)
    if stamp_unset(session, used, col(RefreshToken.token_hash) == record.token_hash) != 1:
        reuse_detected(session, events, record, client)
