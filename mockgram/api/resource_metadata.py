"""Step 6, found by a program: the photos API describes itself (RFC 9728).

A client that meets the photos API without knowing it (an AI agent, a generic OAuth library)
learns from `GET /.well-known/oauth-protected-resource/api` which authorization server issues
its tokens, which scopes it knows and how it takes a token. The photos API points there from
every 401/403 it answers: `resource_metadata="…"` in `WWW-Authenticate` (RFC 9728 §5.1).

The resource identifier is `{issuer}/api`, the `aud` of its tokens (RFC 9068 §3, RFC 8707).
RFC 9728 §3.1 puts its metadata at the well-known path with `/api` appended; the bare
`/.well-known/oauth-protected-resource` answers the same document, for clients that look
there first (the host's only protected resource is the photos API).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from mockgram.bearer import RESOURCE_METADATA_PATH
from mockgram.deps import SettingsDep
from mockgram.settings import MockgramSettings

router = APIRouter(tags=["photos API (resource server)"])

WELL_KNOWN = "/.well-known/oauth-protected-resource"
API_SCOPES = ["photos.read", "photos.write"]


def resource_metadata(settings: MockgramSettings) -> dict[str, object]:
    """RFC 9728 §2: what the photos API says about itself."""
    return {
        "resource": settings.api_audience,  # §2: the identifier, the tokens' aud
        "authorization_servers": [settings.issuer],  # §2: whose tokens it takes
        "scopes_supported": API_SCOPES,
        "bearer_methods_supported": ["header"],  # RFC 6750 §2.1 only (mockgram/bearer.py)
        "resource_signing_alg_values_supported": [settings.signing_alg],
        "resource_name": "Mockgram photos API",
    }


@router.get(RESOURCE_METADATA_PATH, summary="The photos API's metadata (RFC 9728)")
@router.get(WELL_KNOWN, summary="The photos API's metadata (RFC 9728)", include_in_schema=False)
async def protected_resource_metadata(settings: SettingsDep) -> JSONResponse:
    """RFC 9728 §3.2: the metadata as JSON."""
    return JSONResponse(resource_metadata(settings), headers={"Cache-Control": "max-age=300"})
