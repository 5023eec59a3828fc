"""Discovery — authorization server metadata (RFC 8414 §2, §3) and the JWKS (RFC 7517 §5).

A client reads these once to learn every endpoint and what Mockgram supports. Both answers are
precomputed bytes, built once per app: discovery is the hottest endpoint an AS has.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from starlette.responses import Response

from mockgram.clients import AUTH_METHODS
from mockgram.scopes import SCOPES
from mockgram.settings import MockgramSettings

router = APIRouter()

CACHE_PUBLIC = "public, max-age=300"


def build_metadata(settings: MockgramSettings) -> dict[str, object]:
    """The RFC 8414 §2 document; `issuer` is exactly the configured public URL (§3.3)."""
    issuer = settings.issuer
    metadata: dict[str, object] = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
    }
    if settings.registration_open:
        metadata["registration_endpoint"] = f"{issuer}/oauth/register"
    metadata |= {
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,  # RFC 9207 §3
        "service_documentation": f"{issuer}/developers",
    }
    return metadata


def metadata_bytes(request: Request) -> bytes:
    """The metadata JSON, computed on first use and kept on the app."""
    cached = getattr(request.app.state, "metadata_json", None)
    if cached is None:
        cached = json.dumps(build_metadata(request.app.state.settings)).encode()
        request.app.state.metadata_json = cached
    return cached


@router.get("/.well-known/oauth-authorization-server")
async def authorization_server_metadata(request: Request) -> Response:
    """RFC 8414 §3: the metadata document."""
    return Response(
        metadata_bytes(request),
        media_type="application/json",
        headers={"Cache-Control": CACHE_PUBLIC},
    )


@router.get("/.well-known/jwks.json")
async def jwks(request: Request) -> Response:
    """The public keys that verify Mockgram's tokens (RFC 7517 §5)."""
    return Response(
        request.app.state.keys.jwks_json,
        media_type="application/json",
        headers={"Cache-Control": CACHE_PUBLIC},
    )
