"""Discovery: RFC 8414 metadata and the JWKS (checklist items 12, 33)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from mockgram.app import create_app
from tests.mockgram.conftest import ISSUER
from tests.mockgram.oidc_helpers import RESPONSE_TYPES

METADATA = "/.well-known/oauth-authorization-server"


def test_item_33_issuer_is_exact_and_s256_is_the_only_pkce_method(client):
    response = client.get(METADATA)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    metadata = response.json()
    assert metadata["issuer"] == ISSUER
    assert metadata["code_challenge_methods_supported"] == ["S256"]


def test_item_12_metadata_announces_iss_parameter(client):
    assert client.get(METADATA).json()["authorization_response_iss_parameter_supported"] is True


def test_metadata_lists_the_endpoints_and_what_is_supported(client):
    metadata = client.get(METADATA).json()
    assert metadata["authorization_endpoint"] == f"{ISSUER}/oauth/authorize"
    assert metadata["token_endpoint"] == f"{ISSUER}/oauth/token"
    assert metadata["registration_endpoint"] == f"{ISSUER}/oauth/register"
    assert metadata["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert metadata["scopes_supported"] == [
        "openid",
        "profile",
        "email",
        "offline_access",
        "photos.read",
        "photos.write",
    ]
    assert metadata["response_types_supported"] == RESPONSE_TYPES
    assert metadata["response_modes_supported"] == ["query", "fragment", "form_post"]
    assert metadata["grant_types_supported"] == [
        "authorization_code",
        "implicit",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:token-exchange",
    ]
    # RFC 8628 §4: the device grant, with its endpoint.
    assert metadata["device_authorization_endpoint"] == f"{ISSUER}/oauth/device_authorization"
    assert metadata["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]
    assert metadata["service_documentation"].startswith(ISSUER)


def test_metadata_endpoints_are_real_routes(client):
    metadata = client.get(METADATA).json()
    for key in ("token_endpoint", "jwks_uri"):
        path = metadata[key].removeprefix(ISSUER)
        assert client.get(path).status_code != 404


def test_metadata_has_no_registration_endpoint_when_registration_is_closed(mockgram_settings):
    closed = mockgram_settings.model_copy(update={"registration_open": False})
    with TestClient(create_app(closed), base_url=ISSUER) as closed_client:
        assert "registration_endpoint" not in closed_client.get(METADATA).json()


def test_metadata_is_precomputed_once_per_app(client, mockgram_app):
    first = client.get(METADATA).content
    assert mockgram_app.state.metadata_json == first
    assert client.get(METADATA).content == first


def test_jwks_serves_the_public_keys(client, mockgram_app):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.content == mockgram_app.state.keys.jwks_json
    keys = response.json()["keys"]
    assert sorted((key["kty"], key["alg"], key["use"]) for key in keys) == [
        ("EC", "ES256", "sig"),
        ("RSA", "RS256", "sig"),
    ]
    assert all(key["kid"] for key in keys)
    # Public halves only.
    assert not any(private in key for key in keys for private in ("d", "p", "q", "dp", "dq"))
