"""Input PostgreSQL cannot store (a NUL character) is bad input: 400, never a 500.

SQLite stores `a\\x00b`; PostgreSQL refuses it. Each case runs on both databases (`sqlite`,
`pg`); whatever each one does, the answer is a clear client error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from awesomeservice.app import create_app as create_awesomeservice
from awesomeservice.settings import AwesomeServiceSettings
from mockgram.app import create_app as create_mockgram
from mockgram.settings import MockgramSettings

ISSUER = "http://mockgram.test"
AWESOME = "http://127.0.0.1:9"
REDIRECT_URI = f"{AWESOME}/connect/callback"
BASIC = ("awesomeservice", "awesomeservice-demo-secret")


@pytest.fixture
def mockgram(mockgram_database_url: str) -> Iterator[TestClient]:
    app = create_mockgram(
        MockgramSettings(
            demo=True,  # BASIC is the published demo client
            issuer=ISSUER,
            database_url=mockgram_database_url,
            awesomeservice_url=AWESOME,
        )
    )
    with TestClient(app, base_url=ISSUER, follow_redirects=False) as client:
        yield client
    app.state.engine.dispose()


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _authorize(**overrides: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": "awesomeservice",
        "redirect_uri": REDIRECT_URI,
        "scope": "photos.read",
        "state": "s",
    }
    return {**params, **overrides}


@pytest.mark.parametrize("field", ["state", "client_id", "scope"])
def test_nul_in_an_authorization_request_is_not_a_server_error(
    mockgram: TestClient, field: str
) -> None:
    response = mockgram.get("/oauth/authorize", params=_authorize(**{field: "a\x00b"}))
    assert response.status_code < 500, response.text


def test_nul_in_a_client_id_at_the_token_endpoint_is_a_client_error(mockgram: TestClient) -> None:
    response = mockgram.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": "c", "redirect_uri": REDIRECT_URI},
        auth=("aw\x00", "secret"),
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"] in ("invalid_client", "invalid_request")


def test_nul_in_a_registered_client_name_is_invalid_not_a_crash(mockgram: TestClient) -> None:
    response = mockgram.post(
        "/oauth/register",
        json={"client_name": "a\x00b", "redirect_uris": ["http://127.0.0.1:9/cb"]},
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert "error" in response.json()


def test_nul_in_a_mockgram_username_is_not_a_server_error(mockgram: TestClient) -> None:
    page = mockgram.get("/login")
    response = mockgram.post(
        "/login",
        data={"username": "jo\x00hn", "password": "x", "csrf_token": _csrf(page.text)},
    )
    assert response.status_code < 500, response.text


def test_nul_in_an_awesomeservice_username_is_not_a_server_error(
    awesome_database_url: str,
) -> None:
    app = create_awesomeservice(
        AwesomeServiceSettings(url=AWESOME, database_url=awesome_database_url)
    )
    with TestClient(app, base_url=AWESOME, follow_redirects=False) as client:
        page = client.get("/login")
        response = client.post(
            "/login",
            data={"username": "jo\x00hn", "password": "x", "csrf_token": _csrf(page.text)},
        )
        assert response.status_code < 500, response.text
        signup = client.get("/signup")
        response = client.post(
            "/signup",
            data={
                "username": "nul\x00user",
                "name": "N\x00",
                "password": "a long enough password",
                "csrf_token": _csrf(signup.text),
            },
        )
        assert response.status_code < 500, response.text
    app.state.engine.dispose()
