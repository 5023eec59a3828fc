"""Interop: an independent client library (Authlib's OAuth2Client) against a running Mockgram.

It registers through RFC 7591, runs the authorization code flow with PKCE (S256) while a scripted
browser plays John at the login and consent pages, and reads /api/photos with its token.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client

from mockgram.app import create_app
from mockgram.settings import MockgramSettings
from tests.e2e.browser import Browser, find_form
from tests.e2e.servers import serve

# Authlib's httpx integration uses httpx APIs that httpx now deprecates: their warnings, not ours.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The httpx module is deprecated"),
]

DEMO_PASSWORD = "interop-password"
REDIRECT_URI = "http://127.0.0.1:9/callback"  # never visited: the test reads the redirect itself


def _mockgram(tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(base_url: str):  # type: ignore[no-untyped-def]
        return create_app(
            MockgramSettings(
                issuer=base_url,
                database_url=f"sqlite:///{tmp_path / 'mockgram.db'}",
                secret_key="interop-session-key",
                demo_password=DEMO_PASSWORD,
            )
        )

    return make


def _john_approves(base_url: str, authorization_url: str) -> str:
    """Play John's browser from the authorization URL to the redirect back; return its Location."""
    with httpx.Client(timeout=10) as http:
        browser = Browser({base_url: http})
        response = browser.follow(browser.get(authorization_url))  # → the login page
        assert response.status_code == 200
        response = browser.submit(
            find_form(response.text, "/login"), username="john", password=DEMO_PASSWORD
        )
        response = browser.follow(response)  # → the consent page
        assert "Authlib interop" in response.text
        response = browser.submit(
            find_form(response.text, "/consent"), button=("decision", "allow")
        )
        assert response.status_code in (302, 303)
        return response.headers["location"]


def test_authlib_oauth2client_registers_runs_code_flow_with_pkce_and_reads_photos(
    tmp_path: Path,
) -> None:
    with serve(_mockgram(tmp_path)) as base_url:
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

        location = _john_approves(base_url, authorization_url)
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
