"""Helpers for the OpenID Connect tests: run any response type in any mode, read the answer."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlmodel import Session

from mockgram.models import Client
from tests.mockgram.conftest import CLIENT_REDIRECT
from tests.mockgram.oauth_helpers import (
    CHALLENGE,
    CLIENT_SECRET,
    VERIFIER,
    consent,
    login,
    request_id_from,
)

OIDC_CLIENT_ID = "gallery"
ALL_WORDS = "code id_token token"
# Every response type, restated here (not imported from mockgram) so the tests can catch a slip.
RESPONSE_TYPES = [
    "code",
    "token",
    "id_token",
    "id_token token",
    "code id_token",
    "code token",
    "code id_token token",
]


def oidc_params(response_type: str, **overrides: str | None) -> dict[str, str]:
    """An OpenID Connect authorization request for the `gallery` client; name=None drops it."""
    params: dict[str, str | None] = {
        "response_type": response_type,
        "client_id": OIDC_CLIENT_ID,
        "redirect_uri": CLIENT_REDIRECT,
        "scope": "openid profile email photos.read",
        "state": "state-xyz",
        "nonce": "nonce-abc",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {name: value for name, value in params.items() if value is not None}


def read_answer(response: httpx.Response) -> tuple[str, dict[str, str]]:
    """(mode, parameters) of an authorization response: query, fragment or form_post."""
    if response.status_code == 200 and 'id="form-post-response"' in response.text:
        action = re.search(r'<form id="form-post-response"[^>]* action="([^"]+)"', response.text)
        assert action, "no form_post form on the page"
        assert html.unescape(action.group(1)) == CLIENT_REDIRECT
        form = re.search(r'<form id="form-post-response".*?</form>', response.text, re.S)
        assert form
        fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(0))
        return "form_post", {name: html.unescape(value) for name, value in fields}
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CLIENT_REDIRECT, location
    if parts.fragment:
        assert not parts.query, "a fragment answer must leave the query alone"
        return "fragment", _single(parse_qs(parts.fragment, keep_blank_values=True))
    return "query", _single(parse_qs(parts.query, keep_blank_values=True))


def _single(values: dict[str, list[str]]) -> dict[str, str]:
    assert all(len(v) == 1 for v in values.values()), values
    return {name: v[0] for name, v in values.items()}


def run_flow(
    client: TestClient, params: dict[str, str], *, username: str = "john"
) -> httpx.Response:
    """authorize → sign in → consent (ticking all), as a browser; returns the answer response."""
    response = client.get("/oauth/authorize", params=params)
    location = response.headers.get("location", "")
    if response.status_code == 303 and location.startswith("/login"):
        response = login(client, username=username, request_id=request_id_from(location))
        location = response.headers.get("location", "")
    if response.status_code == 303 and location.startswith("/consent"):
        response = consent(client, request_id_from(location))
    return response


def register_gallery(
    make_client: Callable[..., tuple[Client, str | None]], db: Session, scopes: str
) -> Client:
    """Register the `gallery` client for every response type, with these scopes."""
    row = make_client(OIDC_CLIENT_ID, scopes=scopes)[0]
    row.response_types = ALL_WORDS
    db.add(row)
    db.commit()
    return row


def redeem_oidc_code(client: TestClient, code: str) -> dict:
    """Redeem the gallery's code at the token endpoint (with PKCE); the 200 answer's JSON."""
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CLIENT_REDIRECT,
            "code_verifier": VERIFIER,
        },
        auth=(OIDC_CLIENT_ID, CLIENT_SECRET),
    )
    assert response.status_code == 200, response.text
    return response.json()


def left_half_sha256(value: str) -> str:
    """at_hash / c_hash written out independently of Mockgram's code (OIDC Core §3.3.2.11)."""
    digest = hashlib.sha256(value.encode("ascii")).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def verify_id_token(client: TestClient, token: str, *, alg: str = "RS256") -> jwt.Token:
    """Check the id_token's signature against the published JWKS, with the expected alg."""
    keys = KeySet.import_key_set(client.get("/.well-known/jwks.json").json())
    decoded = jwt.decode(token, keys, algorithms=[alg])
    assert decoded.header["alg"] == alg
    assert decoded.header["typ"] == "JWT"
    assert decoded.header["kid"]
    return decoded
