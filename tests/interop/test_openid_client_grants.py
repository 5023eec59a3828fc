"""Interop: panva's openid-client (certified) runs client credentials and token exchange against
a real Mockgram; Authlib runs client credentials too. One server for the module."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client

from tests.e2e.authlib_helpers import (
    AUTHLIB_WARNINGS,
    REDIRECT_URI,
    interop_mockgram,
    john_approves,
)
from tests.e2e.servers import serve
from tests.interop.openid_client import run_script

pytestmark = AUTHLIB_WARNINGS

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


@dataclass(frozen=True)
class Server:
    base_url: str
    client_id: str
    client_secret: str


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """A running Mockgram (in-memory SQLite: the point here is the client library, and one
    server serves the module) and a client registered (RFC 7591) for the code flow and both
    grants."""
    with serve(interop_mockgram("sqlite://")) as base_url:
        registered = httpx.post(
            f"{base_url}/oauth/register",
            json={
                "client_name": "Grants interop",
                "redirect_uris": [REDIRECT_URI],
                "scope": "photos.read photos.write",
                "grant_types": [
                    "authorization_code",
                    "refresh_token",
                    "client_credentials",
                    TOKEN_EXCHANGE,
                ],
            },
        )
        assert registered.status_code == 201, registered.text
        body = registered.json()
        yield Server(base_url, body["client_id"], body["client_secret"])


def claims(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def grant(server: Server, name: str, **parameters: str):
    return run_script(
        "grants.mjs",
        issuer=server.base_url,
        client_id=server.client_id,
        client_secret=server.client_secret,
        grant=name,
        parameters=parameters,
    )


def johns_token(server: Server) -> str:
    """The code flow with PKCE (Authlib), John approving: his access token for this client."""
    with OAuth2Client(
        client_id=server.client_id,
        client_secret=server.client_secret,
        scope="photos.read photos.write",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        timeout=10,
    ) as oauth:
        verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        url, state = oauth.create_authorization_url(
            f"{server.base_url}/oauth/authorize", code_verifier=verifier
        )
        location = john_approves(server.base_url, url, "Grants interop")
        token = oauth.fetch_token(
            f"{server.base_url}/oauth/token",
            authorization_response=location,
            state=state,
            code_verifier=verifier,
        )
    return token["access_token"]


def test_openid_client_client_credentials_with_a_resource(server: Server) -> None:
    answer = grant(
        server, "client_credentials", scope="photos.read", resource=f"{server.base_url}/api"
    )
    assert answer.ok, answer.body
    assert answer["token_type"].lower() == "bearer" and answer["scope"] == "photos.read"
    assert "refresh_token" not in answer.body
    token = claims(answer["access_token"])
    assert token["sub"] == server.client_id and token["aud"] == f"{server.base_url}/api"
    # Valid at the photos API, and nobody's photos.
    api = httpx.get(
        f"{server.base_url}/api/photos",
        headers={"Authorization": f"Bearer {answer['access_token']}"},
    )
    assert api.status_code == 403 and api.json()["error"] == "insufficient_scope"


def test_openid_client_hears_invalid_target_and_invalid_scope(server: Server) -> None:
    unknown = grant(server, "client_credentials", resource="https://elsewhere.test/")
    assert not unknown.ok and unknown["oauth_error"] == "invalid_target"
    person = grant(server, "client_credentials", scope="openid")
    assert not person.ok and person["oauth_error"] == "invalid_scope"


def test_openid_client_token_exchange_narrows_johns_token(server: Server) -> None:
    subject = johns_token(server)
    answer = grant(
        server,
        TOKEN_EXCHANGE,
        subject_token=subject,
        subject_token_type=ACCESS_TOKEN_TYPE,
        scope="photos.read",
        resource=f"{server.base_url}/api",
    )
    assert answer.ok, answer.body
    assert answer["issued_token_type"] == ACCESS_TOKEN_TYPE and answer["scope"] == "photos.read"
    exchanged, original = claims(answer["access_token"]), claims(subject)
    assert exchanged["sub"] == original["sub"] and exchanged["act"] == {"sub": server.client_id}
    headers = {"Authorization": f"Bearer {answer['access_token']}"}
    assert httpx.get(f"{server.base_url}/api/photos", headers=headers).status_code == 200
    wider = grant(
        server,
        TOKEN_EXCHANGE,
        subject_token=answer["access_token"],
        subject_token_type=ACCESS_TOKEN_TYPE,
        scope="photos.read photos.write",
    )
    assert not wider.ok and wider["oauth_error"] == "invalid_scope"


def test_authlib_client_credentials(server: Server) -> None:
    with OAuth2Client(
        client_id=server.client_id,
        client_secret=server.client_secret,
        scope="photos.read",
        timeout=10,
    ) as oauth:
        token = oauth.fetch_token(
            f"{server.base_url}/oauth/token",
            grant_type="client_credentials",
            resource=f"{server.base_url}/api",
        )
        assert token["token_type"].lower() == "bearer" and "refresh_token" not in token
        assert claims(token["access_token"])["sub"] == server.client_id
        refused = oauth.get(f"{server.base_url}/api/photos")
        assert refused.status_code == 403
        assert "resource_metadata=" in refused.headers["www-authenticate"]
