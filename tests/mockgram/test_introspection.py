"""Token introspection (RFC 7662; item 26): active answers, and {"active": false} for the rest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from joserfc import jwt
from sqlmodel import select

from mockgram.models import IssuedToken, User
from shared.clock import utcnow
from tests.mockgram.conftest import ISSUER
from tests.mockgram.token_helpers import (
    assert_oauth_error,
    code_grant,
    expired_copy,
    introspect,
    refresh,
    revoke,
)

INACTIVE = {"active": False}


def assert_inactive(response) -> None:  # type: ignore[no-untyped-def]
    """RFC 7662 §2.2: inactive is {"active": false} and nothing else."""
    assert response.status_code == 200, response.text
    assert response.json() == INACTIVE
    assert response.headers["cache-control"] == "no-store"


# --- item 26: who may ask -----------------------------------------------------------------------


def test_item_26_unauthenticated_caller_is_refused(client, printshop):
    token = code_grant(client)["access_token"]
    response = introspect(client, token, auth=None)
    assert_oauth_error(response, "invalid_client", 401)
    assert response.headers["www-authenticate"].startswith("Basic")


def test_item_26_bad_secret_is_refused_with_a_challenge(client, printshop):
    token = code_grant(client)["access_token"]
    for auth, extra in ((("printshop", "wrong"), {}), (None, {"client_secret": "wrong"})):
        response = introspect(client, token, auth=auth, client_id="printshop", **extra)
        assert_oauth_error(response, "invalid_client", 401)
        assert response.headers["www-authenticate"].startswith("Basic")


def test_item_26_public_client_is_refused(client, printshop, make_client):
    make_client("spa", public=True)
    token = code_grant(client)["access_token"]
    response = introspect(client, token, auth=None, client_id="spa")
    assert_oauth_error(response, "invalid_client", 401)
    assert response.headers["www-authenticate"].startswith("Basic")


def test_missing_token_is_invalid_request(client, printshop):
    assert_oauth_error(introspect(client, None), "invalid_request")


# --- active -------------------------------------------------------------------------------------


def test_active_access_token_says_what_it_carries(client, printshop, mockgram_app, db):
    body = code_grant(client, scope="photos.read photos.write")
    response = introspect(client, body["access_token"], token_type_hint="access_token")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    answer = response.json()
    claims = jwt.decode(body["access_token"], mockgram_app.state.keys.public_set).claims
    john = db.exec(select(User).where(User.username == "john")).one()
    assert answer == {
        "active": True,
        "scope": "photos.read photos.write",
        "client_id": "printshop",
        "username": "john",
        "token_type": "Bearer",
        "exp": claims["exp"],
        "iat": claims["iat"],
        "sub": str(john.id),
        "aud": f"{ISSUER}/api",
        "iss": ISSUER,
        "jti": db.exec(select(IssuedToken)).one().jti,
    }


def test_active_refresh_token(client, printshop, db):
    body = code_grant(client)
    answer = introspect(client, body["refresh_token"], token_type_hint="refresh_token").json()
    assert answer["active"] is True
    assert answer["client_id"] == "printshop"
    assert answer["scope"] == "photos.read"
    assert answer["username"] == "john"
    assert answer["iss"] == ISSUER
    assert answer["exp"] > answer["iat"]
    assert "aud" not in answer and "jti" not in answer


# --- item 26: inactive --------------------------------------------------------------------------


def test_item_26_expired_access_token_is_inactive_and_nothing_else(
    client, printshop, mockgram_app, db
):
    body = code_grant(client)
    expired = expired_copy(body["access_token"], mockgram_app.state.keys)
    assert_inactive(introspect(client, expired))


def test_item_26_expired_record_is_inactive(client, printshop, db):
    body = code_grant(client)
    record = db.exec(select(IssuedToken)).one()
    record.expires_at = utcnow() - timedelta(seconds=1)
    db.add(record)
    db.commit()
    assert_inactive(introspect(client, body["access_token"]))


def test_item_26_revoked_tokens_are_inactive(client, printshop):
    body = code_grant(client)
    assert revoke(client, body["refresh_token"]).status_code == 200
    assert_inactive(introspect(client, body["access_token"]))
    assert_inactive(introspect(client, body["refresh_token"]))


def test_item_26_foreign_token_is_inactive(client, printshop, make_client):
    make_client("stranger", secret="stranger-secret")
    body = code_grant(client)
    for token in (body["access_token"], body["refresh_token"]):
        assert_inactive(introspect(client, token, auth=("stranger", "stranger-secret")))


@pytest.mark.parametrize("token", ["nonsense", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
def test_item_26_malformed_or_unknown_token_is_inactive(client, printshop, token):
    assert_inactive(introspect(client, token))


def test_item_26_rotated_refresh_token_is_inactive(client, printshop):
    body = code_grant(client)
    assert refresh(client, body["refresh_token"]).status_code == 200
    assert_inactive(introspect(client, body["refresh_token"]))


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_only_post(client, printshop, method):
    response = client.request(method, "/oauth/introspect")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
