"""OpenID Provider discovery (OIDC Discovery §3–4) and its agreement with RFC 8414 (item 33)."""

from __future__ import annotations

import pytest

from tests.mockgram.conftest import ISSUER

OPENID_CONFIGURATION = "/.well-known/openid-configuration"
RFC8414 = "/.well-known/oauth-authorization-server"

# OIDC Discovery §3: REQUIRED fields (userinfo_endpoint is RECOMMENDED, and we have it).
OIDC_REQUIRED = (
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "response_types_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
)


def test_item_33_openid_configuration_issuer_is_exact_and_pkce_is_s256_only(client):
    response = client.get(OPENID_CONFIGURATION)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    # OIDC Discovery §4.3: the issuer is exactly the URL the document was fetched under.
    assert document["issuer"] == ISSUER
    assert f"{document['issuer']}{OPENID_CONFIGURATION}" == f"{ISSUER}{OPENID_CONFIGURATION}"
    assert document["code_challenge_methods_supported"] == ["S256"]


def test_both_addresses_serve_the_same_document(client):
    oidc = client.get(OPENID_CONFIGURATION)
    oauth = client.get(RFC8414)
    assert oidc.content == oauth.content
    assert oidc.headers["cache-control"] == oauth.headers["cache-control"]


def test_every_field_oidc_discovery_requires(client):
    document = client.get(OPENID_CONFIGURATION).json()
    missing = [field for field in OIDC_REQUIRED if field not in document]
    assert missing == []
    # OIDC Discovery §3: RS256 MUST be included.
    assert "RS256" in document["id_token_signing_alg_values_supported"]
    assert "none" not in document["id_token_signing_alg_values_supported"]
    assert document["subject_types_supported"] == ["public"]


def test_the_fields_the_contract_lists(client):
    document = client.get(OPENID_CONFIGURATION).json()
    assert document["userinfo_endpoint"] == f"{ISSUER}/oauth/userinfo"
    assert document["revocation_endpoint"] == f"{ISSUER}/oauth/revoke"
    assert document["introspection_endpoint"] == f"{ISSUER}/oauth/introspect"
    assert document["id_token_signing_alg_values_supported"] == ["RS256", "ES256"]
    assert document["response_modes_supported"] == ["query", "fragment", "form_post"]
    assert document["grant_types_supported"] == [
        "authorization_code",
        "implicit",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:token-exchange",
    ]
    assert document["prompt_values_supported"] == ["none", "login", "consent"]
    methods = ["client_secret_basic", "client_secret_post", "none"]
    assert document["token_endpoint_auth_methods_supported"] == methods
    assert document["revocation_endpoint_auth_methods_supported"] == methods
    assert document["introspection_endpoint_auth_methods_supported"] == methods[:2]
    assert set(document["claims_supported"]) == {
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "azp",
        "at_hash",
        "c_hash",
        "name",
        "preferred_username",
        "picture",
        "email",
        "email_verified",
    }
    assert document["authorization_response_iss_parameter_supported"] is True
    assert document["claims_parameter_supported"] is False
    assert document["request_parameter_supported"] is False
    assert document["request_uri_parameter_supported"] is False


def test_every_advertised_scope_is_accepted_by_registration(client):
    scopes = client.get(OPENID_CONFIGURATION).json()["scopes_supported"]
    response = client.post(
        "/oauth/register",
        json={"redirect_uris": ["https://rp.example/cb"], "scope": " ".join(scopes)},
    )
    assert response.status_code == 201
    assert set(response.json()["scope"].split()) == set(scopes)


@pytest.mark.parametrize(
    "field", ["authorization_endpoint", "userinfo_endpoint", "jwks_uri", "registration_endpoint"]
)
def test_advertised_endpoints_are_real_routes(client, field):
    path = client.get(OPENID_CONFIGURATION).json()[field].removeprefix(ISSUER)
    assert client.get(path).status_code != 404


def test_every_advertised_response_type_is_one_the_authorization_endpoint_knows(
    client, make_client, make_user, db
):
    """Each advertised type gets past the response_type check (no unsupported_response_type)."""
    make_user()
    row = make_client("rp", scopes="openid")[0]
    row.response_types = "code id_token token"
    db.add(row)
    db.commit()
    for response_type in client.get(OPENID_CONFIGURATION).json()["response_types_supported"]:
        response = client.get(
            "/oauth/authorize",
            params={
                "client_id": "rp",
                "response_type": response_type,
                "scope": "openid",
                "nonce": "n",
                "state": "s",
            },
        )
        assert response.status_code == 303, response_type
        assert response.headers["location"].startswith("/login?"), response_type
