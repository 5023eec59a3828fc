"""Dynamic client registration (RFC 7591 §3; checklist item 4)."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mockgram.app import create_app
from mockgram.models import Client
from mockgram.settings import MockgramSettings
from shared.hashing import hash_secret
from tests.mockgram.conftest import ISSUER
from tests.mockgram.oauth_helpers import get_code, redeem


def register(client, **metadata):
    body = {"client_name": "Gallery", "redirect_uris": ["https://gallery.example/cb"], **metadata}
    return client.post("/oauth/register", json=body)


def assert_registration_error(response, error: str) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"


def test_confidential_registration_returns_credentials_and_metadata(client, db):
    response = register(client, client_id="i-choose-my-own-id", scope="photos.write photos.read")
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    # RFC 9700 §4.15: the server chooses the client_id.
    assert body["client_id"] != "i-choose-my-own-id"
    assert len(body["client_id"]) >= 22
    assert len(body["client_secret"]) >= 43  # 256 bits in URL-safe Base64
    assert body["client_secret_expires_at"] == 0
    assert isinstance(body["client_id_issued_at"], int)
    assert body["redirect_uris"] == ["https://gallery.example/cb"]
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    assert body["scope"] == "photos.read photos.write"
    assert body["client_name"] == "Gallery"
    row = db.get(Client, body["client_id"])
    assert row.secret_hash == hash_secret(body["client_secret"])
    assert body["client_secret"] not in row.secret_hash
    assert row.client_type == "confidential"


def test_two_registrations_get_different_ids(client):
    assert register(client).json()["client_id"] != register(client).json()["client_id"]


def test_public_registration_gets_no_secret(client, db):
    response = register(client, token_endpoint_auth_method="none")
    assert response.status_code == 201
    body = response.json()
    assert "client_secret" not in body
    row = db.get(Client, body["client_id"])
    assert row.client_type == "public"
    assert row.secret_hash is None


def test_client_secret_post_is_accepted(client):
    response = register(client, token_endpoint_auth_method="client_secret_post")
    assert response.json()["token_endpoint_auth_method"] == "client_secret_post"


def test_default_scope_signs_in_and_reads_photos_and_the_answer_says_so(client, db):
    """RFC 7591 §3.2.1: without `scope` the server's default applies, and the answer names it."""
    body = register(client).json()
    assert body["scope"] == "openid profile email photos.read"
    assert db.get(Client, body["client_id"]).allowed_scopes == body["scope"]


@pytest.mark.parametrize(
    "uri",
    [
        "https://gallery.example/cb#fragment",
        "https://gallery.example/cb#",
        "/relative/callback",
        "gallery.example/cb",
        "http://gallery.example/cb",  # plain http off loopback
        "http://localhost.evil.example/cb",
        "com.example.app:/cb",
        "javascript:alert(1)",
        "https://user:pass@gallery.example/cb",
        "https://gallery.example/cb\nhttps://evil.example/cb",
        "https://gallery.example/c b",
        "https://gallery.example:99999/cb",
        "",
    ],
)
def test_item_04_bad_redirect_uri_is_invalid_redirect_uri(client, db, uri):
    assert_registration_error(register(client, redirect_uris=[uri]), "invalid_redirect_uri")
    assert db.exec(select(Client)).all() == []


@pytest.mark.parametrize(
    "uri",
    [
        "http://localhost:8000/cb",
        "http://127.0.0.1/cb",
        "http://[::1]:9000/cb",
        "https://a.example/x?y=1",
    ],
)
def test_item_04_https_or_loopback_http_is_accepted(client, uri):
    response = register(client, redirect_uris=[uri])
    assert response.status_code == 201, response.text
    assert response.json()["redirect_uris"] == [uri]


@pytest.mark.parametrize("value", [None, [], "https://gallery.example/cb", [42]])
def test_item_04_missing_or_malformed_redirect_uris_is_invalid_redirect_uri(client, value):
    body = {"client_name": "Gallery"}
    if value is not None:
        body["redirect_uris"] = value
    assert_registration_error(client.post("/oauth/register", json=body), "invalid_redirect_uri")


@pytest.mark.parametrize(
    "metadata",
    [
        {"scope": "photos.read admin"},
        {"scope": ""},
        {"scope": 7},
        {"token_endpoint_auth_method": "private_key_jwt"},
        {"grant_types": ["implicit"]},
        {"grant_types": "authorization_code"},
        {"response_types": ["token"], "grant_types": ["authorization_code"]},
        {"response_types": ["code id_token none"]},
        {"response_types": "code"},
        {"grant_types": ["password"]},
        {"id_token_signed_response_alg": "none"},
        {"id_token_signed_response_alg": "HS256"},
        {"client_name": "x" * 500},
        {"client_name": ["list"]},
    ],
)
def test_bad_metadata_is_invalid_client_metadata(client, metadata):
    assert_registration_error(register(client, **metadata), "invalid_client_metadata")


@pytest.mark.parametrize("content", [b"not json", b"[1, 2]", b"\xff", b""])
def test_body_that_is_not_a_json_object_is_invalid_client_metadata(client, content):
    response = client.post(
        "/oauth/register", content=content, headers={"content-type": "application/json"}
    )
    assert_registration_error(response, "invalid_client_metadata")


def test_registration_closed_is_403(mockgram_settings):
    closed = mockgram_settings.model_copy(update={"registration_open": False})
    with TestClient(create_app(closed), base_url=ISSUER) as closed_client:
        response = register(closed_client)
        assert response.status_code == 403
        assert response.json()["error"]


def test_registered_client_can_run_the_whole_flow(client, make_user):
    make_user()
    uri = "http://127.0.0.1:9999/cb"
    body = register(client, redirect_uris=[uri], scope="photos.read").json()
    query = get_code(client, client_id=body["client_id"], redirect_uri=uri)
    response = redeem(
        client,
        query["code"],
        auth=(body["client_id"], body["client_secret"]),
        redirect_uri=uri,
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "photos.read"


def test_client_id_issued_at_is_now_in_utc(client):
    issued = register(client).json()["client_id_issued_at"]
    assert abs(issued - time.time()) < 60


# --- OpenID Connect Dynamic Client Registration §2 -------------------------------------------


def test_defaults_are_code_and_rs256(client, db):
    body = register(client).json()
    assert body["response_types"] == ["code"]
    assert body["grant_types"] == ["authorization_code", "refresh_token"]
    assert body["id_token_signed_response_alg"] == "RS256"
    row = db.get(Client, body["client_id"])
    assert (row.response_types, row.id_token_signed_response_alg) == ("code", "RS256")


def test_es256_is_accepted_and_stored(client, db):
    body = register(client, id_token_signed_response_alg="ES256").json()
    assert body["id_token_signed_response_alg"] == "ES256"
    assert db.get(Client, body["client_id"]).id_token_signed_response_alg == "ES256"


def test_an_implicit_client_lists_every_combination_of_its_words(client, db):
    response = register(
        client,
        token_endpoint_auth_method="none",
        response_types=["id_token token", "token"],
        grant_types=["implicit"],
        scope="openid profile",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["response_types"] == ["token", "id_token", "id_token token"]
    assert body["grant_types"] == ["implicit"]
    assert db.get(Client, body["client_id"]).response_types == "id_token token"


def test_response_type_words_in_any_order_are_accepted(client):
    body = register(
        client, response_types=["id_token code"], grant_types=["authorization_code", "implicit"]
    ).json()
    assert body["response_types"] == ["code", "id_token", "code id_token"]


def test_an_over_long_redirect_uri_is_refused_for_its_length(client, db):
    response = register(client, redirect_uris=["https://x.example/" + "a" * 100_000])
    assert_registration_error(response, "invalid_redirect_uri")
    assert "at most 2000 characters" in response.json()["error_description"]
    assert db.exec(select(Client)).all() == []


@pytest.mark.parametrize(
    "name", ["\u202eecivresemosewA", "Awesome\u2066Service", "Print\nShop", "Shop\x00"]
)
def test_a_client_name_cannot_hide_text_direction_tricks_or_control_characters(client, db, name):
    response = register(client, redirect_uris=["https://gallery.example/cb"], client_name=name)
    assert_registration_error(response, "invalid_client_metadata")
    assert db.exec(select(Client)).all() == []


def test_a_body_nested_thousands_deep_is_invalid_client_metadata(client: TestClient) -> None:
    """json.loads gives up with RecursionError on such a body: the sender's mistake, a 400."""
    for body in ("[" * 10_000 + "]" * 10_000, '{"a":' * 10_000 + "1" + "}" * 10_000):
        response = client.post(
            "/oauth/register", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_client_metadata"


# --- RFC 7591 §3: an initial access token (MOCKGRAM_REGISTRATION_TOKEN; SECURITY.md M9) ------

REGISTRATION_TOKEN = "initial-access-token-for-tests"


@pytest.fixture
def guarded(mockgram_settings):
    settings = mockgram_settings.model_copy(update={"registration_token": REGISTRATION_TOKEN})
    app = create_app(settings)
    with TestClient(app, base_url=ISSUER) as test_client:
        yield test_client, app


def stored_clients(app) -> list[Client]:
    with Session(app.state.engine) as session:
        return list(session.exec(select(Client)).all())


def test_with_a_registration_token_a_request_without_it_is_401_and_stores_nothing(guarded):
    test_client, app = guarded
    response = register(test_client)
    assert response.status_code == 401
    # RFC 6750 §3.1: no credentials sent, so a challenge without an error code.
    assert response.headers["www-authenticate"] == 'Bearer realm="mockgram"'
    assert "error" not in response.json()
    assert stored_clients(app) == []


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {REGISTRATION_TOKEN}x", "Bearer wrong", f"Bearer {REGISTRATION_TOKEN[:-1]}"],
)
def test_with_a_registration_token_a_wrong_one_is_401_invalid_token(guarded, authorization):
    test_client, app = guarded
    body = {"client_name": "Gallery", "redirect_uris": ["https://gallery.example/cb"]}
    response = test_client.post(
        "/oauth/register", json=body, headers={"Authorization": authorization}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith(
        'Bearer realm="mockgram", error="invalid_token"'
    )
    assert response.json()["error"] == "invalid_token"
    assert response.headers["cache-control"] == "no-store"
    assert stored_clients(app) == []


def test_with_a_registration_token_basic_credentials_are_no_token(guarded):
    test_client, app = guarded
    body = {"client_name": "Gallery", "redirect_uris": ["https://gallery.example/cb"]}
    response = test_client.post("/oauth/register", json=body, auth=("a", REGISTRATION_TOKEN))
    assert response.status_code == 401
    assert stored_clients(app) == []


def test_with_a_registration_token_its_holder_registers(guarded):
    test_client, app = guarded
    body = {"client_name": "Gallery", "redirect_uris": ["https://gallery.example/cb"]}
    response = test_client.post(
        "/oauth/register", json=body, headers={"Authorization": f"Bearer {REGISTRATION_TOKEN}"}
    )
    assert response.status_code == 201, response.text
    assert [c.client_id for c in stored_clients(app)] == [response.json()["client_id"]]


def test_an_empty_registration_token_setting_means_no_token(mockgram_settings):
    """MOCKGRAM_REGISTRATION_TOKEN= (empty) must not demand a token nobody can send."""
    values = {**mockgram_settings.model_dump(), "registration_token": ""}
    assert MockgramSettings(**values).registration_token is None


# --- RFC 8252: native apps ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri", ["com.example.app:/callback", "com.example.app:/", "org.mockgram.gallery:/oauth?x=1"]
)
def test_a_public_client_may_register_a_private_use_scheme(client, uri):
    """RFC 8252 §7.1: reverse-domain private-use URI schemes for native apps."""
    response = register(client, redirect_uris=[uri], token_endpoint_auth_method="none")
    assert response.status_code == 201, response.text
    assert response.json()["redirect_uris"] == [uri]


def test_a_confidential_client_may_not_register_a_private_use_scheme(client, db):
    response = register(client, redirect_uris=["com.example.app:/callback"])
    assert_registration_error(response, "invalid_redirect_uri")
    assert "native apps" in response.json()["error_description"]
    assert db.exec(select(Client)).all() == []


@pytest.mark.parametrize(
    "uri",
    [
        "com.example.app://callback",  # RFC 8252 §7.1: a single slash, no authority
        "com.example.app:callback",
        "com.example.app:/cb#frag",
        "myapp:/callback",  # not a reverse domain name
        "javascript:/alert(1)",
    ],
)
def test_a_public_client_still_cannot_register_other_schemes(client, uri):
    response = register(client, redirect_uris=[uri], token_endpoint_auth_method="none")
    assert_registration_error(response, "invalid_redirect_uri")


def test_a_loopback_redirect_uri_may_be_registered_without_a_port(client):
    """RFC 8252 §7.3: the app picks its port at run time; any port matches."""
    for uri in ("http://127.0.0.1/callback", "http://[::1]/callback"):
        response = register(client, redirect_uris=[uri], token_endpoint_auth_method="none")
        assert response.status_code == 201, response.text
