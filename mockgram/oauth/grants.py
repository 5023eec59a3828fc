"""A grant and the tokens issued under it (RFC 6749 §1.3, §5.1, §6; RFC 9700 §4.14.2).

One code redemption starts a grant: a family id, the client, John, the scope he granted, when
he signed in, and (from its first refresh token on) the family's absolute end. Every token
issued from it, the first access and refresh tokens as well as each rotated refresh token and
its access token, carries the family id, so revoking the grant reaches all of them. Both grants
of the token endpoint answer with the same body (§5.1); this module builds it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from mockgram.deps import Provider
from mockgram.models import RefreshToken
from mockgram.settings import MockgramSettings
from mockgram.tokens import issue_access_token
from shared.clock import as_utc, utcnow
from shared.hashing import hash_secret, new_token

REFRESH_TOKEN_BYTES = 32  # 256 bits; RFC 6749 §10.10 asks for at least 128


@dataclass(frozen=True)
class Grant:
    """What one code redemption granted, shared by every token of its family."""

    grant_id: str
    client_id: str
    user_id: int
    scope: str  # what John granted: a refresh may ask for this or less, never more (§6)
    auth_time: datetime | None  # when John signed in: each id_token of the grant says so
    # The family's absolute end, set by its first refresh token; rotation carries it over.
    expires_at: datetime | None = None
    # RFC 8707: the resource named at the authorization request; None: the photos API.
    resource: str | None = None
    # RFC 9449 §5: the DPoP key a public client's refresh tokens are bound to.
    jkt: str | None = None


def new_grant(
    *,
    client_id: str,
    user_id: int,
    scope: str,
    auth_time: datetime | None,
    resource: str | None = None,
) -> Grant:
    """A fresh family for the tokens of one code redemption."""
    return Grant(new_token(16), client_id, user_id, scope, auth_time, resource=resource)


def grant_of(token: RefreshToken) -> Grant:
    """The family a stored refresh token belongs to."""
    return Grant(
        token.grant_id,
        token.client_id,
        token.user_id,
        token.scope,
        token.auth_time,
        as_utc(token.expires_at),
        token.resource,
        token.jkt,
    )


def issue_refresh_token(session: Session, settings: MockgramSettings, grant: Grant) -> str:
    """Create a refresh token of the family (the caller commits); returns it."""
    token = new_token(REFRESH_TOKEN_BYTES)
    now = utcnow()
    # A new grant's clock starts with its first refresh token (RFC 9700 §4.14.2).
    expires_at = grant.expires_at or now + timedelta(seconds=settings.refresh_token_ttl_seconds)
    # The row is its grant's facts, the token's hash and when it was issued.
    own = {"token_hash": hash_secret(token), "issued_at": now, "expires_at": expires_at}
    session.add(RefreshToken(**(asdict(grant) | own)))
    return token


def issue_tokens(
    session: Session,
    provider: Provider,
    grant: Grant,
    *,
    scope: str,
    with_refresh_token: bool,
    code_hash: str | None = None,
    audience: list[str] | None = None,
    jkt: str | None = None,
) -> dict[str, str | int]:
    """§5.1: an access token for `scope` (and `audience`, RFC 8707), a refresh token when due
    (the caller commits).

    `jkt`: the DPoP key the request proved; the access token is bound to it (RFC 9449 §5).
    """
    access_token, expires_in = issue_access_token(
        session,
        keys=provider.keys,
        settings=provider.settings,
        user_id=grant.user_id,
        client_id=grant.client_id,
        scope=scope,
        code_hash=code_hash,
        grant_id=grant.grant_id,
        audience=audience,
        jkt=jkt,
    )
    body: dict[str, str | int] = {
        "access_token": access_token,
        # RFC 9449 §5: a DPoP-bound token says so, so the client sends it with the DPoP scheme.
        "token_type": "Bearer" if jkt is None else "DPoP",
        "expires_in": expires_in,
        "scope": scope,
    }
    if with_refresh_token:
        body["refresh_token"] = issue_refresh_token(session, provider.settings, grant)
    return body


def kinds_in(body: dict[str, str | int]) -> tuple[str, ...]:
    """The tokens a token response carries, for the TokensIssued event."""
    return tuple(name for name in ("access_token", "refresh_token", "id_token") if name in body)
