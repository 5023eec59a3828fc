"""CORS: browser apps of registered public clients may call the API, token and revoke endpoints."""

from __future__ import annotations

import pytest

from mockgram import cors
from mockgram.cors import methods_for, origin_of
from tests.mockgram.resource_helpers import add_photo, bearer, issue

SPA = "https://spa.example"
SPA_DEV = "http://localhost:5173"
PRINTSHOP = "http://client.test"  # the confidential client's redirect origin


@pytest.fixture
def clients(make_client, make_user):
    """A confidential client (printshop) and two public SPAs, registered before any request."""
    john = make_user()
    make_client()
    make_client("spa", public=True, redirect_uris=[f"{SPA}/callback", f"{SPA_DEV}/cb"])
    return john


def preflight(client, path: str, origin: str, method: str = "POST"):  # type: ignore[no-untyped-def]
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def vary(response) -> set[str]:  # type: ignore[no-untyped-def]
    return {part.strip().lower() for part in response.headers.get("vary", "").split(",")}


# --- preflight ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/oauth/token", "POST"),
        ("/oauth/revoke", "POST"),
        ("/oauth/userinfo", "GET"),
        ("/api/photos", "GET"),
        ("/api/photos/7", "DELETE"),
    ],
)
@pytest.mark.parametrize("origin", [SPA, SPA_DEV])
def test_preflight_from_a_public_clients_origin_is_answered(client, clients, path, method, origin):
    response = preflight(client, path, origin, method)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == origin
    assert method in response.headers["access-control-allow-methods"]
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert "origin" in vary(response)
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize(
    "origin",
    [
        PRINTSHOP,  # a confidential client's origin: it calls from its server, not a browser
        "https://evil.example",
        "https://spa.example.evil.example",
        "http://spa.example",  # another scheme is another origin
        "https://spa.example:8443",  # another port too
        "null",
    ],
)
def test_preflight_from_any_other_origin_gets_no_cors_headers(client, clients, origin):
    response = preflight(client, "/oauth/token", origin)
    assert response.status_code == 405
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-methods" not in response.headers


def test_introspection_is_not_open_to_browsers(client, clients):
    response = preflight(client, "/oauth/introspect", SPA)
    assert "access-control-allow-origin" not in response.headers


# --- actual requests ----------------------------------------------------------------------------


def test_api_response_echoes_an_allowed_origin_and_exposes_the_challenge(
    client, clients, db, mockgram_app
):
    john = clients
    token = issue(db, mockgram_app, john, client_id="spa")
    ok = client.get("/api/photos", headers={**bearer(token), "Origin": SPA})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == SPA
    assert "origin" in vary(ok)
    refused = client.get("/api/photos", headers={"Origin": SPA})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == SPA
    assert "www-authenticate" in refused.headers["access-control-expose-headers"].lower()


def test_userinfo_answers_an_allowed_origin(client, clients, db, mockgram_app):
    token = issue(db, mockgram_app, clients, client_id="spa", scope="openid profile")
    ok = client.get("/oauth/userinfo", headers={**bearer(token), "Origin": SPA})
    assert ok.status_code == 200, ok.text
    assert ok.headers["access-control-allow-origin"] == SPA
    other = client.get("/oauth/userinfo", headers={**bearer(token), "Origin": PRINTSHOP})
    assert other.status_code == 200
    assert "access-control-allow-origin" not in other.headers


def test_api_response_to_another_origin_has_no_cors_headers_but_varies(client, clients):
    response = client.get("/api/photos", headers={"Origin": "https://evil.example"})
    assert response.status_code == 401
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-expose-headers" not in response.headers
    assert "origin" in vary(response)


def test_image_response_keeps_its_own_vary(client, clients, db, mockgram_app):
    john = clients
    photo = add_photo(db, john)
    token = issue(db, mockgram_app, john, client_id="spa")
    response = client.get(f"/api/photos/{photo.id}/image", headers={**bearer(token), "Origin": SPA})
    assert response.status_code == 200
    assert {"authorization", "origin"} <= vary(response)


def test_token_endpoint_answers_an_allowed_origin(client, clients):
    response = client.post(
        "/oauth/token", data={"grant_type": "refresh_token"}, headers={"Origin": SPA_DEV}
    )
    assert response.status_code == 401  # no client authentication: but the page may read why
    assert response.headers["access-control-allow-origin"] == SPA_DEV


def test_a_page_on_mockgram_itself_gets_no_cors_headers(client, clients):
    response = client.get("/login", headers={"Origin": SPA})
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-authorization-server", "/.well-known/jwks.json"]
)
def test_discovery_and_jwks_are_open_to_everyone(client, clients, path):
    response = client.get(path, headers={"Origin": "https://anyone.example"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"


def test_the_allowed_origins_come_from_the_database(client, make_user, make_client, monkeypatch):
    """Registering a public client opens its origin once the per-process cache is reloaded."""
    monkeypatch.setattr(cors, "CACHE_SECONDS", 0.0)
    make_user()
    assert "access-control-allow-origin" not in preflight(client, "/oauth/token", SPA).headers
    make_client("late-spa", public=True, redirect_uris=[f"{SPA}/callback"])
    response = preflight(client, "/oauth/token", SPA)
    assert response.headers.get("access-control-allow-origin") == SPA


# --- the pieces ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "origin"),
    [
        ("https://spa.example/callback", "https://spa.example"),
        ("https://spa.example:443/callback", "https://spa.example"),
        ("https://SPA.example:8443/cb?x=1", "https://spa.example:8443"),
        ("http://localhost:5173/cb", "http://localhost:5173"),
        ("http://127.0.0.1/cb", "http://127.0.0.1"),
        ("http://[::1]:8080/cb", "http://[::1]:8080"),
        ("com.example.app:/callback", None),
        ("not a uri", None),
        ("https://spa.example:99999/cb", None),
    ],
)
def test_origin_of_a_redirect_uri(uri, origin):
    assert origin_of(uri) == origin


def test_methods_for_paths():
    assert methods_for("/oauth/token") == "POST"
    assert methods_for("/api/photos/1/image") == "GET, POST, DELETE"
    assert methods_for("/oauth/tokens") is None
    assert methods_for("/oauth/introspect") is None
    assert methods_for("/apps") is None
