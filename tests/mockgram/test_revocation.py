"""Token revocation (RFC 7009; item 25), and the photos API seeing it at once."""

from __future__ import annotations

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlmodel import select

from mockgram.models import IssuedToken, RefreshToken
from tests.mockgram.conftest import ISSUER
from tests.mockgram.token_helpers import (
    api_status,
    assert_oauth_error,
    code_grant,
    expired_copy,
    refresh,
    revoke,
)


@pytest.fixture
def stranger(make_client):
    return make_client("stranger", secret="stranger-secret")[0]


def assert_revoked_ok(response) -> None:  # type: ignore[no-untyped-def]
    """RFC 7009 §2.2: 200 with an empty body, never cached."""
    assert response.status_code == 200, response.text
    assert response.content == b""
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


# --- item 25 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["no-such-token", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
def test_item_25_unknown_token_is_200_with_an_empty_body(client, printshop, token):
    assert_revoked_ok(revoke(client, token))


def test_item_25_missing_token_is_invalid_request(client, printshop):
    assert_oauth_error(revoke(client, None), "invalid_request")


def test_item_25_bad_client_authentication_is_401(client, printshop):
    access = code_grant(client)["access_token"]
    response = revoke(client, access, auth=("printshop", "wrong-secret"))
    assert_oauth_error(response, "invalid_client", 401)
    assert response.headers["www-authenticate"].startswith("Basic")
    response = revoke(client, access, auth=None)
    assert_oauth_error(response, "invalid_client", 401)
    # The token survives a refused revocation.
    assert api_status(client, access) == 200


def test_item_25_another_clients_token_is_not_revoked(client, printshop, stranger):
    body = code_grant(client)
    for token in (body["access_token"], body["refresh_token"]):
        assert_revoked_ok(revoke(client, token, auth=("stranger", "stranger-secret")))
    assert api_status(client, body["access_token"]) == 200
    assert refresh(client, body["refresh_token"]).status_code == 200


def test_item_25_revoking_a_refresh_token_invalidates_the_grants_access_tokens(
    client, printshop, db
):
    first = code_grant(client)
    second = refresh(client, first["refresh_token"]).json()
    assert_revoked_ok(revoke(client, second["refresh_token"], token_type_hint="refresh_token"))
    assert api_status(client, first["access_token"]) == 401
    assert api_status(client, second["access_token"]) == 401
    assert_oauth_error(refresh(client, second["refresh_token"]), "invalid_grant")
    db.expire_all()
    assert all(t.revoked_at is not None for t in db.exec(select(IssuedToken)).all())
    assert all(t.revoked_at is not None for t in db.exec(select(RefreshToken)).all())


def test_item_25_revoking_one_grant_leaves_the_others(client, printshop):
    kept = code_grant(client)
    dropped = code_grant(client)
    assert_revoked_ok(revoke(client, dropped["refresh_token"]))
    assert api_status(client, kept["access_token"]) == 200
    assert refresh(client, kept["refresh_token"]).status_code == 200


# --- access tokens ------------------------------------------------------------------------------


def test_revoked_access_token_is_refused_by_the_photos_api_at_once(client, printshop):
    body = code_grant(client)
    assert api_status(client, body["access_token"]) == 200
    assert_revoked_ok(revoke(client, body["access_token"], token_type_hint="access_token"))
    refused = client.get("/api/photos", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]


def test_revoking_an_access_token_keeps_the_refresh_token(client, printshop):
    body = code_grant(client)
    assert_revoked_ok(revoke(client, body["access_token"]))
    assert refresh(client, body["refresh_token"]).status_code == 200


def test_expired_but_genuine_access_token_can_be_revoked(client, printshop, mockgram_app, db):
    body = code_grant(client)
    jti = db.exec(select(IssuedToken)).one().jti
    expired = expired_copy(body["access_token"], mockgram_app.state.keys)
    assert_revoked_ok(revoke(client, expired))
    db.expire_all()
    assert db.get(IssuedToken, jti).revoked_at is not None


def test_forged_access_token_revokes_nothing(client, printshop, mockgram_app, db):
    body = code_grant(client)
    claims = jwt.decode(body["access_token"], mockgram_app.state.keys.public_set).claims
    other_key = RSAKey.generate_key(2048)
    forged = jwt.encode({"alg": "RS256", "typ": "at+jwt"}, claims, other_key)
    assert_revoked_ok(revoke(client, forged))
    assert api_status(client, body["access_token"]) == 200
    assert claims["iss"] == ISSUER


@pytest.mark.parametrize("hint", ["access_token", "refresh_token", "something_else"])
def test_token_type_hint_only_changes_where_to_look_first(client, printshop, hint):
    body = code_grant(client)
    # The wrong hint, or an unknown one, still finds the token (RFC 7009 §2.1).
    assert_revoked_ok(revoke(client, body["refresh_token"], token_type_hint=hint))
    assert_oauth_error(refresh(client, body["refresh_token"]), "invalid_grant")


def test_revoking_twice_is_fine(client, printshop):
    token = code_grant(client)["refresh_token"]
    assert_revoked_ok(revoke(client, token))
    assert_revoked_ok(revoke(client, token))


# --- the endpoint itself ------------------------------------------------------------------------


def test_client_secret_post_works_too(client, printshop):
    body = code_grant(client)
    response = client.post(
        "/oauth/revoke",
        data={
            "token": body["access_token"],
            "client_id": "printshop",
            "client_secret": "printshop-secret",
        },
    )
    assert_revoked_ok(response)
    assert api_status(client, body["access_token"]) == 401


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_only_post(client, printshop, method):
    response = client.request(method, "/oauth/revoke")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"] == "invalid_request"


def test_json_body_is_invalid_request_not_422(client, printshop):
    response = client.post(
        "/oauth/revoke", json={"token": "x"}, auth=("printshop", "printshop-secret")
    )
    assert_oauth_error(response, "invalid_request")


def test_revocation_is_seen_by_userinfo_at_once(client, make_client, make_user):
    make_user()
    make_client(scopes="openid profile photos.read")
    body = code_grant(client, scope="openid profile photos.read")
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.get("/oauth/userinfo", headers=headers).status_code == 200
    assert_revoked_ok(revoke(client, body["refresh_token"]))
    refused = client.get("/oauth/userinfo", headers=headers)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
