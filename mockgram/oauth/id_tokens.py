"""The id_token: who signed in, for which app, when (OIDC Core §2, §3.1.3.6, §3.2.2.10, §3.3.2.11).

A JWT signed with the algorithm the client registered (`id_token_signed_response_alg`: RS256
by default, or ES256), never `alg: none`. It says who John is (`sub`, the same as the access
token's), who it is for (`aud` = [client_id], `azp` = client_id), when (`iat`,
`exp`, `auth_time`: when John last typed his password), and echoes the request's `nonce`.

When the id_token travels beside an access token or a code in the front channel, it binds them
(§3.2.2.10, §3.3.2.11): `at_hash` / `c_hash` = base64url of the left half of the hash the
signing alg uses (SHA-256 for both RS256 and ES256) over the ASCII token or code.
"""

from __future__ import annotations

from datetime import datetime

from joserfc import jwt
from sqlmodel import Session

from mockgram.control.faults import UNPUBLISHED_KEY
from mockgram.deps import Provider
from mockgram.keys import ALGORITHMS, RS256, unpublished_key
from mockgram.models import AuthorizationCode, Client, User
from mockgram.oauth.claims import id_token_extra_claims, user_claims
from mockgram.oauth.errors import InvalidGrantError
from shared.clock import as_utc, utcnow
from shared.oauth_spec import left_half_hash


def signing_alg(client: Client) -> str:
    """The client's registered algorithm; RS256 when it registered none (OIDC Registration §2)."""
    alg = client.id_token_signed_response_alg or RS256
    return alg if alg in ALGORITHMS else RS256


def numeric_date(moment: datetime | None) -> int | None:
    """A stored time as a JWT NumericDate, seconds since the epoch (RFC 7519 §2)."""
    return None if moment is None else int(as_utc(moment).timestamp())


def issue_id_token(
    provider: Provider,
    client: Client,
    user: User,
    scope: str,
    *,
    nonce: str | None = None,
    auth_time: int | None = None,
    access_token: str | None = None,
    code: str | None = None,
    include_claims: bool = False,
    session: Session | None = None,
) -> str:
    """Sign an id_token for `user` and `client` (OIDC Core §2); see the module docstring."""
    settings = provider.settings
    alg = signing_alg(client)
    now = int(utcnow().timestamp())
    claims: dict[str, object] = {
        "iss": settings.issuer,  # §2: exactly the issuer of the discovery document
        "sub": user.subject,  # §2: locally unique, never reassigned
        "aud": [client.client_id],  # §2: the client_id is among the audiences
        "azp": client.client_id,  # §2: the party the token was issued to
        "iat": now,
        "exp": now + settings.id_token_ttl_seconds,
    }
    if auth_time is not None:
        claims["auth_time"] = auth_time  # §2: when John authenticated (required with max_age)
    if nonce is not None:
        claims["nonce"] = nonce  # §3.1.3.6 / §3.2.2.10: echoed unchanged
    if access_token is not None:
        claims["at_hash"] = left_half_hash(access_token, alg)  # §3.2.2.10
    if code is not None:
        claims["c_hash"] = left_half_hash(code, alg)  # §3.3.2.11
    if include_claims:
        # §5.4: with response_type=id_token no access token exists, so the claims ride here.
        claims = user_claims(user, scope=scope, settings=settings) | claims
    # The person's release rule (mockgram/oauth/claims.py); the protocol's own claims win.
    claims = id_token_extra_claims(user, settings=settings) | claims
    key = provider.keys.for_alg(alg)
    # Control plane (tests only): a queued fault signs this one with a key nobody published.
    if session is not None and provider.faults.take(session, UNPUBLISHED_KEY) is not None:
        key = unpublished_key(alg)
    header = {"alg": alg, "typ": "JWT", "kid": str(key.kid)}
    return jwt.encode(header, claims, key)


def id_token_for_code(
    session: Session, provider: Provider, client: Client, record: AuthorizationCode
) -> str:
    """The token endpoint's id_token for a redeemed code (OIDC Core §3.1.3.3, §3.1.3.6)."""
    user = session.get(User, record.user_id)
    if user is None:
        raise InvalidGrantError("The user this code was issued for no longer exists.")
    # §3.1.3.6: the nonce of the authorization request, and when John signed in for it.
    auth_time = numeric_date(record.auth_time)
    return issue_id_token(
        provider,
        client,
        user,
        record.scope,
        nonce=record.nonce,
        auth_time=auth_time,
        session=session,
    )
