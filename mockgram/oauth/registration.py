"""Step 0 by machine — dynamic client registration (RFC 7591 §3).

A developer's program POSTs JSON metadata and gets back a client_id (chosen by Mockgram) and,
for a confidential client, a secret. The rules are those of the developer portal
(mockgram/clients.py). Set MOCKGRAM_REGISTRATION_OPEN=false to close this door (403).
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from mockgram.clients import (
    register_client,
    validate_auth_method,
    validate_name,
    validate_redirect_uris,
    validate_scope,
)
from mockgram.db import SessionDep
from mockgram.oauth.errors import NO_STORE_HEADERS, InvalidClientMetadataError, OAuthError
from shared.clock import as_utc

router = APIRouter()


@router.post("/oauth/register")
async def register(request: Request, session: SessionDep) -> Response:
    """RFC 7591 §3.1: register a client from its JSON metadata; 201 with its credentials."""
    settings = request.app.state.settings
    if not settings.registration_open:
        return JSONResponse(
            {"error": "access_denied", "error_description": "Registration is closed."},
            status_code=403,
            headers=NO_STORE_HEADERS,
        )
    try:
        metadata = parse_metadata(await request.body())
        name = validate_name(metadata.get("client_name"))
        redirect_uris = validate_redirect_uris(metadata.get("redirect_uris"))
        auth_method = validate_auth_method(metadata.get("token_endpoint_auth_method"))
        scope = validate_scope(metadata.get("scope"))
        check_flow_metadata(metadata)
    except OAuthError as exc:
        return JSONResponse(exc.as_dict(), status_code=400, headers=NO_STORE_HEADERS)

    client, secret = register_client(
        session,
        name=name,
        redirect_uris=redirect_uris,
        token_endpoint_auth_method=auth_method,
        scope=scope,
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
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "scope": client.allowed_scopes,
    }
    return JSONResponse(body, status_code=201, headers=NO_STORE_HEADERS)


def parse_metadata(raw: bytes) -> dict[str, object]:
    """The request body as a JSON object (RFC 7591 §3.1)."""
    try:
        metadata = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidClientMetadataError("The body must be a JSON object.") from exc
    if not isinstance(metadata, dict):
        raise InvalidClientMetadataError("The body must be a JSON object.")
    return metadata


def check_flow_metadata(metadata: dict[str, object]) -> None:
    """grant_types and response_types, when given, must be ones Mockgram supports (§2.1)."""
    for field, supported in (("grant_types", "authorization_code"), ("response_types", "code")):
        value = metadata.get(field)
        if value is None:
            continue
        if not isinstance(value, list) or any(item != supported for item in value):
            raise InvalidClientMetadataError(f"{field} may only contain {supported!r}.")
