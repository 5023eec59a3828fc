"""Interop: Authlib as an OpenID Connect client against a running Mockgram.

An independent library does everything a relying party does, over real HTTP: discovery, RFC 7591
registration, the code flow with PKCE (S256) and a nonce while a scripted browser plays John,
the id_token checked with Authlib's own OIDC rules (`CodeIDToken`: iss, aud, exp, iat, nonce,
at_hash) against the published JWKS, userinfo, a refresh (rotated refresh token, a new id_token
for the same person), then revocation (RFC 7009) and introspection (RFC 7662).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from tests.e2e.authlib_helpers import (
    AUTHLIB_WARNINGS,
    REDIRECT_URI,
    interop_mockgram,
    john_approves,
)
from tests.e2e.servers import serve

pytestmark = AUTHLIB_WARNINGS

SCOPE = "openid profile email offline_access photos.read"


def _validated_id_token(
    id_token: str,
    *,
    metadata: dict[str, Any],
    client_id: str,
    nonce: str | None,
    access_token: str,
) -> CodeIDToken:
    """What Authlib's OpenIDMixin.parse_id_token does: JWKS signature, then CodeIDToken rules."""
    jwks = httpx.get(metadata["jwks_uri"], timeout=10).json()
    decoded = jwt.decode(
        id_token,
        key=KeySet.import_key_set(jwks),
        registry=JWSRegistry(algorithms=metadata["id_token_signing_alg_values_supported"]),
    )
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {"iss": {"values": [metadata["issuer"]]}},
        {"nonce": nonce, "client_id": client_id, "access_token": access_token},
    )
    claims.validate(leeway=5)
    return claims


def test_authlib_oidc_client_code_flow_id_token_userinfo_refresh_revoke(tmp_path: Path) -> None:
    with serve(interop_mockgram(tmp_path)) as base_url:
        metadata = httpx.get(f"{base_url}/.well-known/openid-configuration", timeout=10).json()
        assert metadata["issuer"] == base_url
        assert "openid" in metadata["scopes_supported"]

        registration = httpx.post(
            metadata["registration_endpoint"],
            json={
                "client_name": "Authlib OIDC interop",
                "redirect_uris": [REDIRECT_URI],
                "token_endpoint_auth_method": "client_secret_basic",
                "scope": SCOPE,
            },
            timeout=10,
        )
        assert registration.status_code == 201, registration.text
        registered = registration.json()
        client_id = registered["client_id"]

        with OAuth2Client(
            client_id=client_id,
            client_secret=registered["client_secret"],
            scope=SCOPE,
            redirect_uri=REDIRECT_URI,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",
            timeout=10,
        ) as client:
            _run_flow(client, base_url=base_url, metadata=metadata, client_id=client_id)


def _run_flow(
    client: OAuth2Client, *, base_url: str, metadata: dict[str, Any], client_id: str
) -> None:
    """Code flow, id_token, userinfo, refresh, introspection, revocation — as Authlib does them."""
    verifier, nonce = generate_token(48), generate_token(24)
    authorization_url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )

    # Steps 1–4: John signs in and consents; Mockgram redirects back with code, state, iss.
    location = john_approves(base_url, authorization_url, "Authlib OIDC interop")
    assert location.startswith(REDIRECT_URI + "?"), location
    returned = httpx.URL(location).params
    assert returned["iss"] == base_url and returned["state"] == state

    # Step 5: the code for tokens, an id_token among them.
    token = client.fetch_token(
        metadata["token_endpoint"],
        authorization_response=location,
        state=state,
        code_verifier=verifier,
    )
    assert token["token_type"].lower() == "bearer"
    assert {"access_token", "id_token", "refresh_token"} <= set(token)
    id_claims = _validated_id_token(
        token["id_token"],
        metadata=metadata,
        client_id=client_id,
        nonce=nonce,
        access_token=token["access_token"],
    )
    assert id_claims["nonce"] == nonce

    # Userinfo speaks of the same person (OIDC Core §5.3.2), with profile and email.
    userinfo = client.get(metadata["userinfo_endpoint"])
    assert userinfo.status_code == 200, userinfo.text
    info = userinfo.json()
    assert info["sub"] == id_claims["sub"]
    assert info["preferred_username"] == "john"
    assert "name" in info and "email" in info

    # Refresh: a rotated refresh token and a new id_token for the same sub (OIDC Core §12.2).
    first_refresh = token["refresh_token"]
    refreshed = client.refresh_token(metadata["token_endpoint"], refresh_token=first_refresh)
    assert refreshed["refresh_token"] != first_refresh
    refreshed_claims = _validated_id_token(
        refreshed["id_token"],
        metadata=metadata,
        client_id=client_id,
        nonce=None,
        access_token=refreshed["access_token"],
    )
    assert refreshed_claims["sub"] == id_claims["sub"]
    assert refreshed_claims["iss"] == id_claims["iss"]
    assert client.get(f"{base_url}/api/photos").status_code == 200

    # Introspection sees the refreshed access token as active.
    introspected = client.introspect_token(
        metadata["introspection_endpoint"], token=refreshed["access_token"]
    )
    assert introspected.status_code == 200
    assert introspected.json()["active"] is True
    assert introspected.json()["client_id"] == client_id

    # Revocation of the refresh token ends the grant: the API refuses the access token at once.
    revoked = client.revoke_token(
        metadata["revocation_endpoint"],
        token=refreshed["refresh_token"],
        token_type_hint="refresh_token",
    )
    assert revoked.status_code == 200 and revoked.content == b""
    refused = client.get(f"{base_url}/api/photos")
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    gone = client.introspect_token(
        metadata["introspection_endpoint"], token=refreshed["access_token"]
    )
    assert gone.json() == {"active": False}
    with pytest.raises(OAuthError) as refused_refresh:
        client.refresh_token(metadata["token_endpoint"], refresh_token=refreshed["refresh_token"])
    assert refused_refresh.value.error == "invalid_grant"
