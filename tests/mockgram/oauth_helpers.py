"""Helpers for Mockgram's OAuth tests: drive the real pages like a browser would."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi.testclient import TestClient

from tests.mockgram.conftest import CLIENT_REDIRECT, PASSWORD

# RFC 7636 Appendix B.
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
CLIENT_ID = "printshop"
CLIENT_SECRET = "printshop-secret"


def authorize_params(**overrides: str | None) -> dict[str, str]:
    """A valid authorization request; pass name=None to drop a parameter."""
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": CLIENT_REDIRECT,
        "scope": "photos.read",
        "state": "state-123",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {name: value for name, value in params.items() if value is not None}


def query_of(location: str) -> dict[str, list[str]]:
    """The query parameters of a redirect target, every value kept."""
    return parse_qs(urlsplit(location).query, keep_blank_values=True)


def single_query(location: str) -> dict[str, str]:
    """The query parameters of a redirect target, each sent exactly once."""
    query = query_of(location)
    assert all(len(values) == 1 for values in query.values()), query
    return {name: values[0] for name, values in query.items()}


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def request_id_from(location: str) -> str:
    return single_query(location)["request_id"]


def login(
    client: TestClient, username: str = "john", password: str = PASSWORD, request_id: str = ""
) -> httpx.Response:
    """Sign in through the real form (GET for the CSRF token, then POST)."""
    page = client.get("/login", params={"request_id": request_id} if request_id else None)
    data = {"username": username, "password": password, "csrf_token": csrf_from(page.text)}
    if request_id:
        data["request_id"] = request_id
    return client.post("/login", data=data)


def consent(
    client: TestClient, request_id: str, *, decision: str = "allow", scopes: list[str] | None = None
) -> httpx.Response:
    """Answer the consent page; scopes=None ticks everything the page offers."""
    page = client.get("/consent", params={"request_id": request_id})
    assert page.status_code == 200, page.text
    offered = re.findall(r'name="scope" value="([^"]+)"', page.text)
    data: dict[str, str | list[str]] = {
        "request_id": request_id,
        "csrf_token": csrf_from(page.text),
        "decision": decision,
        "scope": offered if scopes is None else scopes,
    }
    return client.post("/consent", data=data)


def get_code(
    client: TestClient,
    *,
    username: str = "john",
    scopes: list[str] | None = None,
    **overrides: str | None,
) -> dict[str, str]:
    """Run authorize → login → consent; return the callback's query (code, state, iss)."""
    return single_query(run_to_callback(client, username=username, scopes=scopes, **overrides))


def run_to_callback(
    client: TestClient,
    *,
    username: str = "john",
    scopes: list[str] | None = None,
    **overrides: str | None,
) -> str:
    """Run authorize → login → consent as a browser would; return the final redirect target."""
    response = client.get("/oauth/authorize", params=authorize_params(**overrides))
    assert response.status_code in (302, 303), response.text
    location = response.headers["location"]
    if location.startswith("/login"):
        request_id = request_id_from(location)
        response = login(client, username=username, request_id=request_id)
        assert response.status_code == 303, response.text
        location = response.headers["location"]
    if location.startswith("/consent"):
        response = consent(client, request_id_from(location), scopes=scopes)
        assert response.status_code == 303, response.text
        location = response.headers["location"]
    return location


def redeem(
    client: TestClient,
    code: str,
    *,
    auth: tuple[str, str] | None = (CLIENT_ID, CLIENT_SECRET),
    **fields: str | None,
) -> httpx.Response:
    """POST the code to the token endpoint (Basic auth by default); field=None drops it."""
    data: dict[str, str | None] = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CLIENT_REDIRECT,
        "code_verifier": VERIFIER,
    }
    data.update(fields)
    body = {name: value for name, value in data.items() if value is not None}
    return client.post("/oauth/token", data=body, auth=auth)
