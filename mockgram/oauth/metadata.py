"""Discovery — OpenID Provider / authorization server metadata and the JWKS.

One document (build_metadata) answers at both well-known addresses: OIDC Discovery §3–4
(`/.well-known/openid-configuration`) and RFC 8414 §2–3 (`/.well-known/oauth-authorization-server`);
it carries every field either requires. The JWKS (RFC 7517 §5) holds the RS256 and ES256
public keys. A client reads these once to learn every endpoint and what Mockgram supports. All
answers are precomputed bytes, built once per app: discovery is the hottest endpoint an AS has.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from starlette.responses import Response

from mockgram.clients import AUTH_METHODS, ID_TOKEN_ALGS, RESPONSE_TYPES
from mockgram.deps import KeysDep, SettingsDep
from mockgram.oauth.device import DEVICE_AUTHORIZATION_PATH
from mockgram.oauth.dpop import ALGS as DPOP_ALGS
from mockgram.oauth.end_session import END_SESSION_PATH
from mockgram.oauth.par import PAR_PATH
from mockgram.oauth.responses import RESPONSE_MODES
from mockgram.oauth.token import AUTHORIZATION_CODE, GRANTS
from mockgram.scopes import catalog
from mockgram.settings import MockgramSettings
from shared.oauth_spec import JWKS_PATH, OAUTH_METADATA_PATH, OIDC_DISCOVERY_PATH

router = APIRouter()

CACHE_PUBLIC = "public, max-age=300"
# OIDC Discovery §3: the claims Mockgram can put in id_tokens and userinfo answers.
CLAIMS_SUPPORTED = (
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "azp",
    "at_hash",
    "c_hash",
    "name",
    "preferred_username",
    "picture",
    "email",
    "email_verified",
)


def build_metadata(settings: MockgramSettings) -> dict[str, object]:
    """The discovery document; `issuer` is exactly the configured public URL (RFC 8414 §3.3)."""
    issuer = settings.issuer
    metadata: dict[str, object] = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "userinfo_endpoint": f"{issuer}/oauth/userinfo",  # OIDC Discovery §3
        "jwks_uri": f"{issuer}{JWKS_PATH}",
    }
    if settings.registration_open:
        metadata["registration_endpoint"] = f"{issuer}/oauth/register"
    metadata |= {
        "revocation_endpoint": f"{issuer}/oauth/revoke",  # RFC 7009, RFC 8414 §2
        "introspection_endpoint": f"{issuer}/oauth/introspect",  # RFC 7662, RFC 8414 §2
        # RFC 8628 §4: where a device asks for its codes.
        "device_authorization_endpoint": f"{issuer}{DEVICE_AUTHORIZATION_PATH}",
        "scopes_supported": list(catalog(settings.configured_scopes)),
        "response_types_supported": list(RESPONSE_TYPES),
        "response_modes_supported": list(RESPONSE_MODES),
        "grant_types_supported": grant_types_supported(),
        "subject_types_supported": ["public"],  # OIDC Discovery §3: one sub per person
        "id_token_signing_alg_values_supported": list(ID_TOKEN_ALGS),
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        # Introspection is for confidential clients only (RFC 7662 §2.1).
        "introspection_endpoint_auth_methods_supported": [
            method for method in AUTH_METHODS if method != "none"
        ],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": list(CLAIMS_SUPPORTED),
        "prompt_values_supported": ["none", "login", "consent"],
        "authorization_response_iss_parameter_supported": True,  # RFC 9207 §3
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "service_documentation": f"{issuer}/developers",
        # RFC 9126 §5: where to push requests, and whether every client must (the setting);
        # a client registered with require_pushed_authorization_requests must anyway (§6).
        "pushed_authorization_request_endpoint": f"{issuer}{PAR_PATH}",
        "require_pushed_authorization_requests": settings.require_pushed_authorization_requests,
        "end_session_endpoint": f"{issuer}{END_SESSION_PATH}",  # RP-Initiated Logout §2.1
        # RFC 9449 §5.1: DPoP proofs Mockgram verifies, at its token endpoint and its APIs.
        "dpop_signing_alg_values_supported": list(DPOP_ALGS),
    }
    return metadata


def grant_types_supported() -> list[str]:
    """Exactly the grants the token endpoint answers, plus implicit (RFC 8414 §2)."""
    return [AUTHORIZATION_CODE, "implicit", *(g for g in GRANTS if g != AUTHORIZATION_CODE)]


def metadata_bytes(request: Request, settings: MockgramSettings) -> bytes:
    """The metadata JSON, computed on first use and kept on the app."""
    cached = getattr(request.app.state, "metadata_json", None)
    if cached is None:
        cached = json.dumps(build_metadata(settings)).encode()
        request.app.state.metadata_json = cached
    return cached


@router.get(OIDC_DISCOVERY_PATH)
@router.get(OAUTH_METADATA_PATH)
async def authorization_server_metadata(request: Request, settings: SettingsDep) -> Response:
    """OIDC Discovery §4 and RFC 8414 §3: the same metadata document at both addresses."""
    return Response(
        metadata_bytes(request, settings),
        media_type="application/json",
        headers={"Cache-Control": CACHE_PUBLIC},
    )


@router.get(JWKS_PATH)
async def jwks(keys: KeysDep) -> Response:
    """The public keys that verify Mockgram's tokens (RFC 7517 §5)."""
    return Response(
        keys.jwks_json,
        media_type="application/json",
        headers={"Cache-Control": CACHE_PUBLIC},
    )
