"""Token introspection — "is this token still good, and what may it do?" (RFC 7662).

A confidential client posts a token and learns whether it is active and, if so, what it says:
handy for a client that keeps opaque refresh tokens, and for a reader who wants to see what
Mockgram thinks of a token without decoding it. The checklist: client authentication (RFC 7662
§2.1) → `token` present → find it as either kind → active? → the answer.

Decisions, written down:
- Confidential clients only (§4: the endpoint must not become a token-scanning oracle). No
  credentials, bad credentials or a public client → 401 `invalid_client` with
  `WWW-Authenticate: Basic` (§2.3).
- A client introspects only tokens issued to itself: another client's token, even an active
  one, is `{"active": false}` (§2.2 leaves it to the AS; §4 warns against telling strangers).
- Anything not active — unknown, malformed, forged, expired, revoked, rotated away, foreign —
  is exactly `{"active": false}` (§2.2: "SHOULD NOT include any additional information").
- An active access token answers active, scope, client_id, username, token_type ("Bearer",
  or "DPoP" with its `cnf` when DPoP-bound, RFC 9449 §6.2), exp, iat, sub, aud, iss and jti,
  as signed in the JWT. An active refresh token answers the
  same minus aud and jti (it is not for the API) and minus token_type, which RFC 7662 defines
  as an access token type (RFC 6749 §7.1) and a refresh token does not have.
- `token_type_hint` only changes which kind is looked up first (§2.1); unknown hints are ignored.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlmodel import Session
from starlette.responses import Response

from mockgram.deps import Provider
from mockgram.models import Client, User
from mockgram.oauth.back_channel import BackChannelDep, refuse_other_methods, require_token
from mockgram.oauth.client_auth import BASIC_CHALLENGE
from mockgram.oauth.errors import (
    NO_STORE_HEADERS,
    InvalidClientError,
    OAuthError,
    json_error,
)
from mockgram.oauth.refresh import find_refresh_token
from mockgram.oauth.resources import known_resources
from mockgram.tokens import InvalidAccessToken, verify_access_token
from shared.clock import as_utc, utcnow

router = APIRouter()

INACTIVE: dict[str, Any] = {"active": False}


@router.post("/oauth/introspect")
def introspection_endpoint(call: BackChannelDep) -> Response:
    """Say whether a token is active and what it carries (RFC 7662 §2.1, §2.2)."""
    try:
        form, client = call.form_and_client()
        # §2.1, §4: only clients that can keep a secret may ask.
        if client.is_public:
            raise InvalidClientError("Introspection is for confidential clients only.")
        # §2.1: token is REQUIRED.
        token = require_token(form)
    except InvalidClientError as exc:
        # §2.3: a failed client authentication is 401 with a challenge.
        exc.headers = {**BASIC_CHALLENGE, **exc.headers}
        return json_error(exc)
    except OAuthError as exc:
        return json_error(exc)
    hint = form.get("token_type_hint")
    answer = introspect(call.session, call.provider, token=token, client=client, hint=hint)
    return JSONResponse(answer, headers=NO_STORE_HEADERS)


# RFC 7662 §2.1: the introspection endpoint takes POST only.
refuse_other_methods(router, "/oauth/introspect", "introspection")


def introspect(
    session: Session,
    provider: Provider,
    *,
    token: str,
    client: Client,
    hint: str | None,
) -> dict[str, Any]:
    """The §2.2 answer for one token, as either kind."""
    kinds = [access_token_answer, refresh_token_answer]
    if hint == "refresh_token":
        kinds.reverse()  # §2.1: the hint only decides where to look first
    for answer in kinds:
        found = answer(session, provider, token, client)
        if found is not None:
            return found
    return INACTIVE


def access_token_answer(
    session: Session, provider: Provider, token: str, client: Client
) -> dict[str, Any] | None:
    """Active claims of a valid access token of this client; INACTIVE or None (not one)."""
    settings = provider.settings
    try:
        # The resource server's own checks: signature, typ, iss, aud, exp, revocation; a token
        # for any resource Mockgram serves (RFC 8707) is one it can speak about.
        audiences = known_resources(settings)
        keys = provider.keys
        access = verify_access_token(
            session, token, keys=keys, settings=settings, audiences=audiences
        )
    except InvalidAccessToken:
        return None
    if access.client_id != client.client_id:
        return INACTIVE  # a foreign token: nothing to say about it
    # A client's own token (client credentials) has no person, hence no username.
    user = None if access.user_id is None else session.get(User, access.user_id)
    if access.user_id is not None and user is None:
        return INACTIVE
    claims = access.claims
    answer: dict[str, Any] = {
        "active": True,
        "scope": str(claims.get("scope", "")),
        "client_id": access.client_id,
        # RFC 9449 §6.2: a DPoP-bound token is of type DPoP, and shows the key it is bound to.
        "token_type": "DPoP" if "cnf" in claims else "Bearer",
        "exp": claims.get("exp"),
        "iat": claims.get("iat"),
        "sub": claims.get("sub"),
        "aud": claims.get("aud"),
        "iss": claims.get("iss"),
        "jti": access.jti,
    }
    if user is not None:
        answer["username"] = user.username
    if "act" in claims:
        answer["act"] = claims["act"]  # RFC 8693 §4.1: who acts for the subject
    if "cnf" in claims:
        answer["cnf"] = claims["cnf"]
    return answer


def refresh_token_answer(
    session: Session, provider: Provider, token: str, client: Client
) -> dict[str, Any] | None:
    """Active facts of a usable refresh token of this client; INACTIVE or None (not one)."""
    record = find_refresh_token(session, token)
    if record is None:
        return None
    usable = (
        record.client_id == client.client_id
        and record.revoked_at is None
        and record.used_at is None  # rotated away: no longer valid
        and as_utc(record.expires_at) > utcnow()
    )
    user = session.get(User, record.user_id)
    if not usable or user is None:
        return INACTIVE
    return {
        "active": True,
        "scope": record.scope,
        "client_id": record.client_id,
        "username": user.username,
        "exp": int(as_utc(record.expires_at).timestamp()),
        "iat": int(as_utc(record.issued_at).timestamp()),
        "sub": user.subject,
        "iss": provider.settings.issuer,
    }
