"""Token exchange (RFC 8693): John's token traded for a narrower one, with the client as actor."""

from __future__ import annotations

import base64
import json

import pytest
from sqlmodel import select

from mockgram.models import ActivityEvent, IssuedToken
from mockgram.oauth.refresh import revoke_grant
from tests.mockgram.conftest import ISSUER, settings_for
from tests.mockgram.token_helpers import (
    BASIC,
    assert_oauth_error,
    code_grant,
    expired_copy,
    introspect,
    post_form,
    revoke,
)

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
API = f"{ISSUER}/api"
PRINT_LAB = "https://printlab.test/jobs"


@pytest.fixture
def mockgram_settings(mockgram_database_url: str):
    return settings_for(mockgram_database_url).model_copy(update={"extra_resources": [PRINT_LAB]})


@pytest.fixture
def printshop(make_client, make_user, db):
    """John, and printshop registered for the code flow and for token exchange."""
    make_user()
    row, _ = make_client(scopes="openid profile photos.read photos.write")
    row.grant_types = f"authorization_code refresh_token {TOKEN_EXCHANGE}"
    db.add(row)
    db.commit()
    return row


@pytest.fixture
def johns_token(client, printshop) -> str:
    return code_grant(client, scope="openid profile photos.read photos.write")["access_token"]


def exchange(client, token, *, auth=BASIC, **fields):
    data = {
        "grant_type": TOKEN_EXCHANGE,
        "subject_token": token,
        "subject_token_type": ACCESS_TOKEN_TYPE,
        **fields,
    }
    return post_form(client, "/oauth/token", data, auth)


def payload(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_a_narrower_token_for_john_with_printshop_as_actor(client, johns_token, db):
    response = exchange(client, johns_token, scope="photos.read", resource=API)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["issued_token_type"] == ACCESS_TOKEN_TYPE  # §2.2.1
    assert body["token_type"] == "Bearer" and body["scope"] == "photos.read"
    assert "refresh_token" not in body
    original, exchanged = payload(johns_token), payload(body["access_token"])
    assert exchanged["sub"] == original["sub"]  # still John
    assert exchanged["act"] == {"sub": "printshop"}  # §4.1: who acts for him
    assert exchanged["aud"] == API and exchanged["scope"] == "photos.read"
    assert exchanged["exp"] <= original["exp"]
    # It reads John's photos, and may not write them.
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.get("/api/photos", headers=headers).status_code == 200
    assert client.delete("/api/photos/1", headers=headers).json()["error"] == "insufficient_scope"
    # It belongs to John's grant: the same family as the token it came from.
    records = {
        payload(t)["jti"]: db.get(IssuedToken, payload(t)["jti"])
        for t in (johns_token, body["access_token"])
    }
    assert len({record.grant_id for record in records.values()}) == 1
    assert introspect(client, body["access_token"]).json()["act"] == {"sub": "printshop"}


def test_audience_names_the_downstream_server(client, johns_token):
    body = exchange(client, johns_token, audience=PRINT_LAB).json()
    exchanged = payload(body["access_token"])
    assert exchanged["aud"] == PRINT_LAB
    assert body["scope"] == "openid profile photos.read photos.write"  # nothing asked: the same
    # A token for the print lab is no token for the photos API.
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.get("/api/photos", headers=headers).json()["error"] == "invalid_token"


def test_an_exchanged_token_can_be_exchanged_again_and_the_actors_nest(client, johns_token):
    first = exchange(client, johns_token, scope="photos.read").json()["access_token"]
    second = exchange(client, first, scope="photos.read").json()["access_token"]
    assert payload(second)["act"] == {"sub": "printshop", "act": {"sub": "printshop"}}


@pytest.mark.parametrize(
    "fields",
    [
        {"subject_token": None},
        {"subject_token_type": None},
        {"subject_token_type": "urn:ietf:params:oauth:token-type:id_token"},
        {"actor_token": "x", "actor_token_type": ACCESS_TOKEN_TYPE},
        {"requested_token_type": "urn:ietf:params:oauth:token-type:refresh_token"},
    ],
)
def test_missing_or_unsupported_parameters_are_invalid_request(client, johns_token, fields):
    assert_oauth_error(exchange(client, johns_token, **fields), "invalid_request")


def test_a_bad_subject_token_is_invalid_request_as_section_2_2_2_says(
    client, johns_token, mockgram_app
):
    # §2.2.2: "invalid for any reason … MUST be the invalid_request error code".
    assert_oauth_error(exchange(client, "not-a-jwt"), "invalid_request")
    expired = expired_copy(johns_token, mockgram_app.state.keys)
    assert_oauth_error(exchange(client, expired), "invalid_request")
    assert revoke(client, johns_token).status_code == 200
    body = assert_oauth_error(exchange(client, johns_token), "invalid_request")
    assert "revoked" in body["error_description"]


def test_another_clients_token_cannot_be_exchanged(client, printshop, make_client, db):
    other, secret = make_client("other", secret="other-secret", scopes="photos.read")
    theirs = code_grant(client, client_id="other", auth=("other", "other-secret"))
    other.grant_types = f"authorization_code {TOKEN_EXCHANGE}"
    db.add(other)
    db.commit()
    mine = exchange(client, theirs["access_token"])
    body = assert_oauth_error(mine, "invalid_request")
    assert "another client" in body["error_description"]


def test_a_wider_scope_is_invalid_scope(client, printshop):
    token = code_grant(client, scope="photos.read")["access_token"]
    assert_oauth_error(exchange(client, token, scope="photos.read photos.write"), "invalid_scope")


@pytest.mark.parametrize("target", [{"resource": "https://elsewhere.test/"}, {"audience": "lab"}])
def test_an_unknown_target_is_invalid_target(client, johns_token, target):
    assert_oauth_error(exchange(client, johns_token, **target), "invalid_target")


def test_a_client_that_did_not_register_the_grant_is_unauthorized_client(
    client, make_client, make_user
):
    make_user()
    make_client()  # grant_types "": the code flow only
    token = code_grant(client)["access_token"]
    assert_oauth_error(exchange(client, token), "unauthorized_client")


def test_revoking_johns_grant_revokes_the_exchanged_token_too(client, johns_token, db):
    exchanged = exchange(client, johns_token, scope="photos.read").json()["access_token"]
    # What revoking a refresh token or John's "remove access" does: the whole family goes.
    family = db.get(IssuedToken, payload(johns_token)["jti"]).grant_id
    revoke_grant(db, family)
    db.commit()
    headers = {"Authorization": f"Bearer {exchanged}"}
    assert client.get("/api/photos", headers=headers).json()["error"] == "invalid_token"


def test_discovery_advertises_token_exchange(client):
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert TOKEN_EXCHANGE in metadata["grant_types_supported"]


def test_john_sees_the_exchange_on_his_activity_page(client, johns_token, db):
    assert exchange(client, johns_token, scope="photos.read").status_code == 200
    lines = db.exec(select(ActivityEvent).where(ActivityEvent.kind == "token_issued")).all()
    assert any("token exchange" in line.detail for line in lines)
