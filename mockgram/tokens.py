"""Access tokens as JWTs (RFC 9068): issued at the token endpoint, checked by the photos API.

A reader can paste one into any JWT decoder and see who it is for, which app holds it and
what it may do. The `jti` is recorded so a token can be revoked before it expires.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from sqlmodel import Session

from mockgram.keys import ALGORITHMS, SigningKeys
from mockgram.models import IssuedToken, User
from mockgram.oauth.claims import access_token_extra_claims
from mockgram.settings import MockgramSettings
from shared.clock import as_utc, utcnow
from shared.hashing import new_token


class InvalidAccessToken(Exception):
    """The token is malformed, forged, expired, revoked or meant for another audience."""


@dataclass(frozen=True)
class AccessToken:
    """What the resource server learns from a valid access token."""

    jti: str
    user_id: int | None  # None: the client's own token (client credentials), no person
    client_id: str
    scopes: frozenset[str]
    claims: dict[str, Any] = field(default_factory=dict)  # as signed: iat, exp, aud, iss, sub…


def issue_access_token(
    session: Session,
    *,
    keys: SigningKeys,
    settings: MockgramSettings,
    user_id: int | None,
    client_id: str,
    scope: str,
    code_hash: str | None = None,
    grant_id: str | None = None,
    audience: list[str] | None = None,
    act: dict[str, Any] | None = None,
    max_ttl: int | None = None,
    jkt: str | None = None,
) -> tuple[str, int]:
    """Sign an access token and record its jti (the caller commits). Returns (token, expires_in).

    `user_id` None: the client's own token (RFC 6749 §4.4), whose `sub` is the client_id
    (RFC 9068 §2.2). `audience`: the resources it is for (RFC 8707), the photos API by default.
    `act`: who acts for the subject (RFC 8693 §4.1). `max_ttl`: a shorter life than usual."""
    now = utcnow()
    ttl = settings.access_token_ttl_seconds
    if max_ttl is not None:
        ttl = max(1, min(ttl, max_ttl))
    jti = new_token(16)
    user = None if user_id is None else session.get(User, user_id)
    audience = audience or [settings.api_audience]
    # RFC 9068 §2.2.1: the person's rule may add identity claims; the protocol's own win.
    extra = {} if user is None else access_token_extra_claims(user, settings=settings)
    # RFC 9068 §2.2: with no resource owner (client credentials), sub names the client.
    person = str(user_id) if user is None else user.subject
    subject = client_id if user_id is None else person
    claims = extra | {
        "iss": settings.issuer,
        "sub": subject,
        # RFC 9068 §3 / RFC 8707 §2.2: one audience as a string, several as a list.
        "aud": audience[0] if len(audience) == 1 else audience,
        "client_id": client_id,
        "scope": scope,
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + ttl,
        "jti": jti,
    }
    if act is not None:
        claims["act"] = act  # RFC 8693 §4.1: the actor, beside the subject it acts for
    if jkt is not None:
        # RFC 9449 §6.1: bound to the client's DPoP key, by the key's thumbprint (RFC 7638).
        claims["cnf"] = {"jkt": jkt}
    # RFC 9068 §2.1: signed with an asymmetric algorithm (RS256 unless configured), never none.
    key = keys.for_alg(settings.signing_alg)
    header = {"alg": settings.signing_alg, "typ": "at+jwt", "kid": str(key.kid)}
    token = jwt.encode(header, claims, key)
    session.add(
        IssuedToken(
            jti=jti,
            client_id=client_id,
            user_id=user_id,
            scope=scope,
            audience=" ".join(audience),
            code_hash=code_hash,
            grant_id=grant_id,
            issued_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    return token, ttl


def signed_claims(token: str, *, keys: SigningKeys) -> dict[str, Any]:
    """The claims of a JWT Mockgram signed as an access token; expiry is not looked at here."""
    try:
        decoded = jwt.decode(token, keys.public_set, algorithms=list(ALGORITHMS))
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidAccessToken(
            "The access token is malformed or its signature is invalid."
        ) from exc
    if str(decoded.header.get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
        raise InvalidAccessToken("This is not an access token (typ must be at+jwt).")
    return dict(decoded.claims)


def checked_claims(
    token: str,
    *,
    keys: SigningKeys,
    settings: MockgramSettings,
    audiences: list[str] | None = None,
) -> dict[str, Any]:
    """Signature, type, issuer, audience and expiry (RFC 9068 §4): all the token itself says.

    `audiences`: the resources whose tokens are welcome (the photos API when None)."""
    claims = signed_claims(token, keys=keys)
    aud = claims.get("aud")
    aud = aud if isinstance(aud, list) else [aud]
    if claims.get("iss") != settings.issuer:
        raise InvalidAccessToken("The access token was issued by someone else.")
    # RFC 8707 §2.2 / RFC 9068 §4: a token for another resource server is not for us.
    if not set(audiences or [settings.api_audience]) & set(aud):
        raise InvalidAccessToken("The access token is meant for another audience.")
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= int(utcnow().timestamp()):
        raise InvalidAccessToken("The access token expired.")
    return claims


def active_token(session: Session, claims: dict[str, Any]) -> AccessToken:
    """The issued token the checked claims name, unless revoked since (our revocation list)."""
    record = session.get(IssuedToken, str(claims.get("jti", "")))
    if record is None or record.revoked_at is not None:
        raise InvalidAccessToken("The access token was revoked.")
    if as_utc(record.expires_at) <= utcnow():
        raise InvalidAccessToken("The access token expired.")
    return AccessToken(
        jti=record.jti,
        user_id=record.user_id,
        client_id=record.client_id,
        scopes=frozenset(record.scope.split()),
        claims=claims,
    )


def verify_access_token(
    session: Session,
    token: str,
    *,
    keys: SigningKeys,
    settings: MockgramSettings,
    audiences: list[str] | None = None,
) -> AccessToken:
    """Check signature, type, issuer, audience, expiry and revocation (RFC 9068 §4)."""
    claims = checked_claims(token, keys=keys, settings=settings, audiences=audiences)
    return active_token(session, claims)
