"""Pushed authorization requests (RFC 9126) and the per-client policies built on them:
require_pushed_authorization_requests (§6, and the global setting, §5) and FAPI 2.0."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mockgram.app import create_app
from mockgram.config import ConfigError, load_config
from mockgram.models import AuthorizationRequest, Client, PushedAuthorizationRequest
from mockgram.oauth.request_uris import REQUEST_URI_PREFIX
from mockgram.settings import MockgramSettings
from shared.clock import utcnow
from tests.mockgram.conftest import CLIENT_REDIRECT, ISSUER
from tests.mockgram.oauth_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    authorize_params,
    consent,
    login,
    redeem,
    request_id_from,
    single_query,
)
from tests.mockgram.token_helpers import assert_oauth_error

BASIC = (CLIENT_ID, CLIENT_SECRET)


def push(client, *, auth=BASIC, **overrides):  # type: ignore[no-untyped-def]
    """POST an authorization request to the PAR endpoint (RFC 9126 §2.1)."""
    return client.post("/oauth/par", data=authorize_params(**overrides), auth=auth)


def pushed_uri(client, **overrides) -> str:  # type: ignore[no-untyped-def]
    response = push(client, **overrides)
    assert response.status_code == 201, response.text
    return response.json()["request_uri"]


def front_channel(client, request_uri: str, client_id: str = CLIENT_ID):  # type: ignore[no-untyped-def]
    """The browser's short trip: client_id and request_uri only (§4)."""
    return client.get(
        "/oauth/authorize", params={"client_id": client_id, "request_uri": request_uri}
    )


def assert_request_uri_page(response) -> None:  # type: ignore[no-untyped-def]
    """A Mockgram page naming invalid_request_uri, never a redirect."""
    assert response.status_code == 400, response.text
    assert "location" not in response.headers
    assert "invalid_request_uri" in response.text
    assert "/errors/invalid_request_uri" in response.text


def set_client(db: Session, **fields: object) -> None:
    row = db.get(Client, CLIENT_ID)
    assert row is not None
    for name, value in fields.items():
        setattr(row, name, value)
    db.add(row)
    db.commit()


def test_push_then_short_front_channel_url_then_code(client, printshop):
    response = push(client)
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["request_uri"].startswith(REQUEST_URI_PREFIX)
    assert body["expires_in"] == 60

    started = front_channel(client, body["request_uri"])
    assert started.status_code == 303, started.text
    request_id = request_id_from(started.headers["location"])
    signed_in = login(client, request_id=request_id)
    answered = consent(client, request_id_from(signed_in.headers["location"]))
    callback = single_query(answered.headers["location"])
    assert answered.headers["location"].startswith(CLIENT_REDIRECT)
    assert callback["state"] == "state-123" and callback["iss"] == "http://mockgram.test"
    assert redeem(client, callback["code"]).status_code == 200


def test_the_pushed_parameters_win_over_the_front_channels(client, printshop, db):
    request_uri = pushed_uri(client, scope="photos.read")
    params = {"client_id": CLIENT_ID, "request_uri": request_uri, "scope": "photos.write"}
    assert client.get("/oauth/authorize", params=params).status_code == 303
    pending = db.exec(select(AuthorizationRequest)).one()
    assert pending.scope == "photos.read"


def test_a_request_uri_serves_once(client, printshop):
    request_uri = pushed_uri(client)
    assert front_channel(client, request_uri).status_code == 303
    assert_request_uri_page(front_channel(client, request_uri))


def test_unknown_request_uri_is_a_page(client, printshop):
    assert_request_uri_page(front_channel(client, REQUEST_URI_PREFIX + "nobody-pushed-this"))


def test_another_clients_request_uri_is_refused_and_not_used_up(client, printshop, make_client):
    make_client("stranger")
    request_uri = pushed_uri(client)
    assert_request_uri_page(front_channel(client, request_uri, client_id="stranger"))
    assert front_channel(client, request_uri).status_code == 303


def test_an_expired_request_uri_is_a_page(client, printshop, db):
    request_uri = pushed_uri(client)
    row = db.get(PushedAuthorizationRequest, request_uri)
    assert row is not None
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.add(row)
    db.commit()
    page = front_channel(client, request_uri)
    assert_request_uri_page(page)
    assert "expired" in page.text


def test_request_uri_without_client_id_is_a_page(client, printshop):
    request_uri = pushed_uri(client)
    assert_request_uri_page(client.get("/oauth/authorize", params={"request_uri": request_uri}))


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"request_uri": REQUEST_URI_PREFIX + "x"}, "invalid_request"),  # §2.1
        ({"redirect_uri": "http://evil.test/callback"}, "invalid_request"),  # §2.3
        ({"scope": "photos.admin"}, "invalid_scope"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"response_type": "token"}, "unauthorized_client"),
        ({"response_type": None}, "invalid_request"),
    ],
)
def test_push_is_validated_like_the_authorization_endpoint(client, printshop, overrides, error):
    assert_oauth_error(push(client, **overrides), error)


def test_push_needs_client_authentication(client, printshop):
    assert_oauth_error(push(client, auth=("printshop", "wrong")), "invalid_client", 401)
    assert_oauth_error(push(client, auth=None), "invalid_client", 401)


def test_public_client_pushes_with_its_client_id(client, make_client, make_user):
    make_user()
    make_client(public=True)
    response = push(client, auth=None)
    assert response.status_code == 201, response.text
    assert front_channel(client, response.json()["request_uri"]).status_code == 303


def test_par_endpoint_is_post_only(client, printshop):
    assert_oauth_error(client.get("/oauth/par"), "invalid_request", 405)


def test_client_that_must_push_is_refused_a_plain_request(client, printshop, db):
    set_client(db, require_pushed_authorization_requests=True)
    refused = client.get("/oauth/authorize", params=authorize_params())
    answer = single_query(refused.headers["location"])
    assert answer["error"] == "invalid_request" and "PAR" in answer["error_description"]
    assert answer["state"] == "state-123"
    assert front_channel(client, pushed_uri(client)).status_code == 303


def test_global_setting_requires_par_and_discovery_says_so(mockgram_settings):
    settings = mockgram_settings.model_copy(update={"require_pushed_authorization_requests": True})
    app = create_app(settings)
    with Session(app.state.engine) as db:
        db.add(
            Client(
                client_id=CLIENT_ID,
                name="Printshop",
                redirect_uris=CLIENT_REDIRECT,
                client_type="public",
                token_endpoint_auth_method="none",
                verified=True,
            )
        )
        db.commit()
    with TestClient(app, base_url=ISSUER, follow_redirects=False) as browser:
        document = browser.get("/.well-known/openid-configuration").json()
        assert document["require_pushed_authorization_requests"] is True
        refused = browser.get("/oauth/authorize", params=authorize_params())
        assert single_query(refused.headers["location"])["error"] == "invalid_request"


def test_discovery_advertises_par_and_logout(client):
    document = client.get("/.well-known/oauth-authorization-server").json()
    assert document["pushed_authorization_request_endpoint"] == "http://mockgram.test/oauth/par"
    assert document["require_pushed_authorization_requests"] is False
    assert document["end_session_endpoint"] == "http://mockgram.test/session/end"


# --- FAPI 2.0 ------------------------------------------------------------------------------------


@pytest.fixture
def fapi_client(printshop, db):
    set_client(db, fapi2_security_profile=True, response_types="code id_token")
    return printshop


def test_fapi2_client_must_push(client, fapi_client):
    refused = client.get("/oauth/authorize", params=authorize_params())
    assert single_query(refused.headers["location"])["error"] == "invalid_request"


def test_fapi2_client_must_use_pkce(client, fapi_client):
    body = assert_oauth_error(
        push(client, code_challenge=None, code_challenge_method=None), "invalid_request"
    )
    assert "PKCE" in body["error_description"]


def test_fapi2_client_may_not_use_hybrid(client, fapi_client):
    refused = push(client, response_type="code id_token", scope="photos.read", nonce="n-1")
    assert_oauth_error(refused, "unauthorized_client")


def test_fapi2_client_must_prove_a_dpop_key_at_the_token_endpoint(client, fapi_client):
    # FAPI 2.0 §5.3.2.1: sender-constrained tokens only, so no token request without a proof.
    refused = client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": "any", "code_verifier": "v" * 43},
        auth=(fapi_client.client_id, CLIENT_SECRET),
    )
    assert_oauth_error(refused, "invalid_dpop_proof")


def test_fapi2_happy_path_carries_iss(client, fapi_client):
    started = front_channel(client, pushed_uri(client))
    request_id = request_id_from(started.headers["location"])
    signed_in = login(client, request_id=request_id)
    answered = consent(client, request_id_from(signed_in.headers["location"]))
    assert single_query(answered.headers["location"])["iss"] == "http://mockgram.test"


# --- registration (RFC 7591) ---------------------------------------------------------------------


def test_registration_takes_and_echoes_the_new_metadata(client):
    response = client.post(
        "/oauth/register",
        json={
            "redirect_uris": ["https://app.test/cb"],
            "post_logout_redirect_uris": ["https://app.test/bye"],
            "require_pushed_authorization_requests": True,
            "fapi2_security_profile": True,
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["post_logout_redirect_uris"] == ["https://app.test/bye"]
    assert body["require_pushed_authorization_requests"] is True
    assert body["fapi2_security_profile"] is True


@pytest.mark.parametrize(
    "metadata",
    [
        {"fapi2_security_profile": True, "response_types": ["code", "token"]},
        {"fapi2_security_profile": True, "token_endpoint_auth_method": "none"},
        {"fapi2_security_profile": "yes"},
        {"require_pushed_authorization_requests": 1},
        {"post_logout_redirect_uris": ["http://evil.test/bye"]},
        {"post_logout_redirect_uris": "https://app.test/bye"},
    ],
)
def test_registration_refuses_bad_new_metadata(client, metadata):
    response = client.post(
        "/oauth/register", json={"redirect_uris": ["https://app.test/cb"], **metadata}
    )
    assert_oauth_error(response, "invalid_client_metadata")


# --- the configuration file ----------------------------------------------------------------------


def test_config_file_sets_the_new_client_keys(tmp_path, mockgram_database_url):
    path = tmp_path / "mockgram.toml"
    path.write_text(
        f"""
[[clients]]
client_id = "{CLIENT_ID}"
secret = "{CLIENT_SECRET}"
redirect_uris = ["{CLIENT_REDIRECT}"]
post_logout_redirect_uris = ["http://client.test/bye"]
require_pushed_authorization_requests = true
fapi2_security_profile = true
""",
        encoding="utf-8",
    )
    settings = MockgramSettings(
        issuer=ISSUER, database_url=mockgram_database_url, secret_key="k" * 32, config=path
    )
    app = create_app(settings)
    with Session(app.state.engine) as db:
        client = db.get(Client, CLIENT_ID)
        assert client is not None
        assert client.post_logout_redirect_uri_list == ["http://client.test/bye"]
        assert client.require_pushed_authorization_requests and client.fapi2_security_profile


@pytest.mark.parametrize(
    "extra",
    [
        'fapi2_security_profile = true\nresponse_types = ["code", "token"]',
        'post_logout_redirect_uris = ["/bye"]',
    ],
)
def test_config_file_refuses_bad_new_client_keys(tmp_path, extra):
    path = tmp_path / "mockgram.toml"
    path.write_text(
        f'[[clients]]\nclient_id = "shop"\nsecret = "s"\nredirect_uris = ["https://s.test/cb"]\n'
        f"{extra}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError):
        load_config(path)
