"""Helpers for refresh, revocation and introspection tests: real tokens from the real endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from joserfc import jwt
from sqlalchemy import Engine, event

from mockgram.keys import SigningKeys
from shared.clock import utcnow
from tests.mockgram.oauth_helpers import CLIENT_ID, CLIENT_SECRET, get_code, redeem

BASIC = (CLIENT_ID, CLIENT_SECRET)


def code_grant(
    client: TestClient,
    *,
    scope: str = "photos.read",
    auth: tuple[str, str] | None = BASIC,
    client_id: str | None = None,
) -> dict:
    """Run the code flow as John and redeem the code; returns the token response body."""
    overrides: dict[str, str] = {"scope": scope}
    if client_id is not None:
        overrides["client_id"] = client_id
    code = get_code(client, **overrides)["code"]
    response = redeem(client, code, auth=auth, client_id=client_id)
    assert response.status_code == 200, response.text
    return response.json()


def refresh(
    client: TestClient, refresh_token: str | None, *, auth: tuple[str, str] | None = BASIC, **fields
) -> httpx.Response:
    """POST grant_type=refresh_token (Basic auth by default); field=None drops it."""
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **fields}
    return post_form(client, "/oauth/token", data, auth)


def revoke(
    client: TestClient, token: str | None, *, auth: tuple[str, str] | None = BASIC, **fields
) -> httpx.Response:
    """POST to the revocation endpoint (Basic auth by default); field=None drops it."""
    return post_form(client, "/oauth/revoke", {"token": token, **fields}, auth)


def introspect(
    client: TestClient, token: str | None, *, auth: tuple[str, str] | None = BASIC, **fields
) -> httpx.Response:
    """POST to the introspection endpoint (Basic auth by default); field=None drops it."""
    return post_form(client, "/oauth/introspect", {"token": token, **fields}, auth)


def post_form(
    client: TestClient, path: str, data: dict[str, Any], auth: tuple[str, str] | None
) -> httpx.Response:
    """POST the fields that are not None as a form."""
    body = {name: value for name, value in data.items() if value is not None}
    return client.post(path, data=body, auth=auth)


def expired_copy(access_token: str, keys: SigningKeys) -> str:
    """The same access token re-signed with Mockgram's key, expired an hour and more ago."""
    past = int((utcnow() - timedelta(hours=2)).timestamp())
    claims = jwt.decode(access_token, keys.public_set).claims | {"iat": past, "exp": past + 60}
    return jwt.encode({"alg": "RS256", "typ": "at+jwt", "kid": keys.kid}, claims, keys.active)


@contextmanager
def recorded_sql(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement the engine runs inside the block, lower-cased, spaces folded."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split()).lower())

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def api_status(client: TestClient, access_token: str) -> int:
    """What the photos API answers to this access token right now."""
    headers = {"Authorization": f"Bearer {access_token}"}
    return client.get("/api/photos", headers=headers).status_code


def assert_oauth_error(response: httpx.Response, error: str, status: int = 400) -> dict:
    """A JSON OAuth error with no-store headers (RFC 6749 §5.2)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["error"] == error
    return body
