"""Step 0 by machine — dynamic client registration (RFC 7591 §3).

A developer's program POSTs JSON metadata and gets back a client_id (chosen by Mockgram) and,
for a confidential client, a secret. The rules are those of the developer portal
(mockgram/clients.py). Set MOCKGRAM_REGISTRATION_OPEN=false to close this door (403).

Who may register, in the order checked:
- MOCKGRAM_REGISTRATION_TOKEN set: the request must carry it as `Authorization: Bearer …`
  (RFC 7591 §3: an initial access token), else 401 in RFC 6750 §3's form — a challenge
  without an error code when no token was sent, `invalid_token` when a wrong one was.
- every registration counts against the client address's hourly limit
  (MOCKGRAM_REGISTRATIONS_PER_HOUR, mockgram/rate_limits.py): past it, 429 with Retry-After
  and `temporarily_unavailable`; only a registration that would be stored is counted.
- the client is stored unverified (RFC 7591 §5: its metadata is self-asserted): the consent
  page says so, and its errors are not redirected before John signs in (RFC 9700 §4.11.2).

Without `scope` a client may ask for clients.DEFAULT_SCOPE ("openid profile email
photos.read"), and the answer's `scope` says so (RFC 7591 §3.2.1). A public client
(`token_endpoint_auth_method: none`) may register a private-use URI scheme redirect such as
`com.example.app:/callback` (RFC 8252 §7.1).

OpenID Connect Dynamic Client Registration §2 adds `id_token_signed_response_alg` (RS256, the
default, or ES256; anything else, `none` included, is invalid_client_metadata). response_types
is a list of supported response types (default ["code"]); Mockgram stores the words they use
and allows every combination of them, and the answer lists those combinations. grant_types,
when sent, must match them (RFC 7591 §2.1: code ↔ authorization_code, token/id_token ↔
implicit). A machine client, registered only for grants without a browser (`client_credentials`,
token exchange), needs no redirect_uris and has no response types; client_credentials needs a
confidential client (RFC 6749 §4.4). RFC 9449 §5.2 adds `dpop_bound_access_tokens` (a boolean,
default false): such a client must send a DPoP proof with every token request.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from mockgram import rate_limits
from mockgram.bearer import BearerError, no_token, token_from_header
from mockgram.clients import (
    allowed_response_types,
    grant_types_for,
    register_client,
    validate_auth_method,
    validate_dpop_bound,
    validate_fapi2,
    validate_flag,
    validate_grant_types,
    validate_id_token_alg,
    validate_name,
    validate_post_logout_redirect_uris,
    validate_redirect_uris,
    validate_response_types,
    validate_scope,
)
from mockgram.db import SessionDep
from mockgram.deps import SettingsDep
from mockgram.oauth.errors import (
    NO_STORE_HEADERS,
    AccessDeniedError,
    InvalidClientMetadataError,
    OAuthError,
    RateLimitedError,
    json_error,
)
from mockgram.settings import MockgramSettings
from shared.clock import as_utc
from shared.hashing import constant_equals

router = APIRouter()


async def request_body(request: Request) -> bytes:
    """The raw body, awaited on the event loop so that the endpoint itself can be synchronous."""
    return await request.body()


@router.post("/oauth/register")
def register(
    request: Request,
    body: Annotated[bytes, Depends(request_body)],
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """RFC 7591 §3.1: register a client from its JSON metadata; 201 with its credentials."""
    if not settings.registration_open:
        return json_error(AccessDeniedError("Registration is closed."))
    try:
        check_initial_access_token(request, settings)
    except BearerError as exc:
        return exc.response()
    try:
        metadata = parse_metadata(body)
        name = validate_name(metadata.get("client_name"))
        auth_method = validate_auth_method(metadata.get("token_endpoint_auth_method"))
        public = auth_method == "none"
        response_types = validate_response_types(
            metadata.get("response_types"), grant_types=metadata.get("grant_types")
        )
        # RFC 7591 §2: a client with no response type (a device, a machine) needs no redirect URI.
        redirect_uris = validate_redirect_uris(
            metadata.get("redirect_uris"), public=public, response_types=response_types
        )
        scope = validate_scope(metadata.get("scope"))
        grant_types = validate_grant_types(
            metadata.get("grant_types"), response_types=response_types, public=public
        )
        id_token_alg = validate_id_token_alg(metadata.get("id_token_signed_response_alg"))
        # RP-Initiated Logout §3.1, RFC 9126 §6, and Mockgram's FAPI 2.0 switch.
        logout_uris = validate_post_logout_redirect_uris(
            metadata.get("post_logout_redirect_uris"), public=auth_method == "none"
        )
        require_par = validate_flag(
            metadata.get("require_pushed_authorization_requests"),
            "require_pushed_authorization_requests",
        )
        fapi2 = validate_flag(metadata.get("fapi2_security_profile"), "fapi2_security_profile")
        validate_fapi2(fapi2, response_types=response_types, auth_method=auth_method)
        dpop_bound = validate_dpop_bound(metadata.get("dpop_bound_access_tokens"))
    except OAuthError as exc:
        return json_error(exc)

    limit = rate_limits.Limit(rate_limits.REGISTRATIONS, settings.registrations_per_hour)
    address = rate_limits.client_address(request)
    if wait := rate_limits.take(session, limit, address=address):
        return too_many_registrations(wait)
    client, secret = register_client(
        session,
        name=name,
        redirect_uris=redirect_uris,
        token_endpoint_auth_method=auth_method,
        scope=scope,
        response_types=response_types,
        grant_types=grant_types,
        id_token_signed_response_alg=id_token_alg,
        post_logout_redirect_uris=logout_uris,
        require_pushed_authorization_requests=require_par,
        fapi2_security_profile=fapi2,
        dpop_bound_access_tokens=dpop_bound,
    )
    # RFC 7591 §3.2.1: the credentials plus every registered metadata value.
    body: dict[str, object] = {"client_id": client.client_id}
    if secret is not None:
        body["client_secret"] = secret
        body["client_secret_expires_at"] = 0  # never expires
    body |= {
        "client_id_issued_at": int(as_utc(client.created_at).timestamp()),
        "client_name": client.name,
        "redirect_uris": client.redirect_uri_list,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "grant_types": client.grant_types.split() or grant_types_for(client.response_types),
        "response_types": allowed_response_types(client),
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "scope": client.allowed_scopes,
        "post_logout_redirect_uris": client.post_logout_redirect_uri_list,
        "require_pushed_authorization_requests": client.require_pushed_authorization_requests,
        "fapi2_security_profile": client.fapi2_security_profile,
        "dpop_bound_access_tokens": client.dpop_bound_access_tokens,  # RFC 9449 §5.2
    }
    return JSONResponse(body, status_code=201, headers=NO_STORE_HEADERS)


def check_initial_access_token(request: Request, settings: MockgramSettings) -> None:
    """RFC 7591 §3: with MOCKGRAM_REGISTRATION_TOKEN set, only its holders may register."""
    expected = settings.registration_token
    if expected is None:
        return  # open registration: no initial access token (RFC 7591 §3)
    presented = token_from_header(request.headers.getlist("authorization"))
    if presented is None:
        raise no_token()  # RFC 6750 §3.1: no credentials, no error code
    if not constant_equals(expected, presented):
        raise BearerError(401, "invalid_token", "The initial access token is not valid.")


def too_many_registrations(wait: int) -> Response:
    """429 with Retry-After (RFC 6585 §4): this address registered enough clients this hour."""
    error = RateLimitedError(
        f"Too many registrations from this address; try again in {wait} seconds."
    )
    response = json_error(error)
    response.headers["Retry-After"] = str(wait)  # RFC 9110 §10.2.3
    return response


def parse_metadata(raw: bytes) -> dict[str, object]:
    """The request body as a JSON object (RFC 7591 §3.1)."""
    try:
        metadata = json.loads(raw)
    # A body nested thousands deep exhausts the parser's recursion: still the sender's mistake.
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidClientMetadataError("The body must be a JSON object.") from exc
    if not isinstance(metadata, dict):
        raise InvalidClientMetadataError("The body must be a JSON object.")
    return metadata
