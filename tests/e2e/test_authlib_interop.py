"""Interop: an independent client library (Authlib's OAuth2Client) against a running Mockgram.

It registers through RFC 7591, runs the authorization code flow with PKCE (S256) while a scripted
browser plays John at the login and consent pages, and reads /api/photos with its token.
"""

from __future__ import annotations

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client

from tests.e2e.authlib_helpers import (
    AUTHLIB_WARNINGS,
    REDIRECT_URI,
    interop_mockgram,
    john_approves,
)
from tests.e2e.servers import serve

pytestmark = AUTHLIB_WARNINGS


def test_authlib_oauth2client_registers_runs_code_flow_with_pkce_and_reads_photos(
    mockgram_database_url: str,
) -> None:
    with serve(interop_mockgram(mockgram_database_url)) as base_url:
        metadata = httpx.get(f"{base_url}/.well-known/oauth-authorization-server").json()
        assert metadata["issuer"] == base_url

        registration = httpx.post(
            metadata["registration_endpoint"],
            json={
                "client_name": "Authlib interop",
                "redirect_uris": [REDIRECT_URI],
                "token_endpoint_auth_method": "client_secret_basic",
                "scope": "photos.read",
            },
        )
        assert registration.status_code == 201, registration.text
        registered = registration.json()

        client = OAuth2Client(
            client_id=registered["client_id"],
            client_secret=registered["client_secret"],
            scope="photos.read",
            redirect_uri=REDIRECT_URI,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",
            timeout=10,
        )
        verifier = generate_token(48)
        authorization_url, state = client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier
        )
        assert "code_challenge=" in authorization_url

        location = john_approves(base_url, authorization_url, "Authlib interop")
        assert location.startswith(REDIRECT_URI + "?")
        returned = httpx.URL(location).params
        assert returned["iss"] == base_url and returned["state"] == state

        token = client.fetch_token(
            metadata["token_endpoint"],
            authorization_response=location,
            state=state,
            code_verifier=verifier,
        )
        assert token["token_type"].lower() == "bearer"
        assert token["scope"] == "photos.read"

        photos = client.get(f"{base_url}/api/photos")
        assert photos.status_code == 200
        assert len(photos.json()["photos"]) >= 10

        refused = client.delete(f"{base_url}/api/photos/{photos.json()['photos'][0]['id']}")
        assert refused.status_code == 403
        assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
        client.close()
