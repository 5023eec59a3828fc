"""Public clients end to end (RFC 6749 §2.1, RFC 7636, RFC 9700 §2.1.1): no secret, PKCE always.

A SPA or a mobile app cannot keep a secret: it sends only its client_id, and PKCE S256 is what
binds its code to it. Items 13–16 from the public client's side, then refresh, revocation and
introspection as such a client meets them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from mockgram.models import AuthorizationCode, RefreshToken, User
from shared.clock import utcnow
from shared.hashing import hash_secret
from tests.mockgram.conftest import CLIENT_REDIRECT
from tests.mockgram.oauth_helpers import (
    CLIENT_ID,
    VERIFIER,
    authorize_params,
    get_code,
    redeem,
    single_query,
)
from tests.mockgram.token_helpers import (
    api_status,
    assert_oauth_error,
    code_grant,
    introspect,
    refresh,
    revoke,
)

AS_PUBLIC = {"auth": None, "client_id": CLIENT_ID}


@pytest.fixture
def spa(make_client, make_user):
    """A public client (token_endpoint_auth_method none) and John."""
    make_user()
    return make_client(public=True, scopes="openid profile offline_access photos.read")[0]


def public_grant(client, scope: str = "photos.read") -> dict:  # type: ignore[no-untyped-def]
    return code_grant(client, scope=scope, auth=None, client_id=CLIENT_ID)


# --- the code flow ------------------------------------------------------------------------------


def test_public_client_code_flow_with_pkce_end_to_end(client, spa):
    body = public_grant(client)
    assert body["token_type"] == "Bearer" and body["scope"] == "photos.read"
    assert api_status(client, body["access_token"]) == 200
    # No offline_access asked: a public client gets no refresh token.
    assert "refresh_token" not in body


def test_item_14_public_client_without_challenge_is_refused_at_authorize(client, spa):
    params = authorize_params(code_challenge=None, code_challenge_method=None)
    response = client.get("/oauth/authorize", params=params)
    assert response.status_code in (302, 303)
    query = single_query(response.headers["location"])
    assert query["error"] == "invalid_request"


@pytest.mark.parametrize("method", ["plain", "S512"])
def test_item_13_public_client_cannot_use_another_method(client, spa, method):
    params = authorize_params(code_challenge_method=method)
    response = client.get("/oauth/authorize", params=params)
    assert single_query(response.headers["location"])["error"] == "invalid_request"


def test_item_15_public_client_with_a_wrong_or_missing_verifier_is_invalid_grant(client, spa):
    code = get_code(client)["code"]
    assert_oauth_error(redeem(client, code, code_verifier=None, **AS_PUBLIC), "invalid_grant")
    assert_oauth_error(redeem(client, code, code_verifier="D" * 43, **AS_PUBLIC), "invalid_grant")
    assert redeem(client, code, code_verifier=VERIFIER, **AS_PUBLIC).status_code == 200


def test_item_16_public_clients_code_without_pkce_is_refused_at_the_token_endpoint(client, spa, db):
    """Defence in depth: a code without a challenge, should one exist, is refused here."""
    john = db.exec(select(User)).one()
    db.add(
        AuthorizationCode(
            code_hash=hash_secret("pkce-less-code"),
            client_id=CLIENT_ID,
            user_id=john.id,
            redirect_uri=CLIENT_REDIRECT,
            scope="photos.read",
            expires_at=utcnow() + timedelta(minutes=5),
        )
    )
    db.commit()
    response = redeem(client, "pkce-less-code", code_verifier=None, **AS_PUBLIC)
    body = assert_oauth_error(response, "invalid_grant")
    assert "PKCE" in body["error_description"]


def test_public_client_sending_a_secret_is_invalid_client(client, spa):
    code = get_code(client)["code"]
    as_post = redeem(client, code, auth=None, client_id=CLIENT_ID, client_secret="guess")
    assert_oauth_error(as_post, "invalid_client", 401)
    as_basic = redeem(client, code, auth=(CLIENT_ID, "guess"))
    assert_oauth_error(as_basic, "invalid_client", 401)
    # Neither attempt burnt the code.
    assert redeem(client, code, **AS_PUBLIC).status_code == 200


def test_public_client_without_client_id_is_invalid_client(client, spa):
    code = get_code(client)["code"]
    assert_oauth_error(redeem(client, code, auth=None), "invalid_client", 401)


def test_another_public_client_cannot_redeem_the_code(client, spa, make_client):
    make_client("other-spa", public=True)
    code = get_code(client)["code"]
    response = redeem(client, code, auth=None, client_id="other-spa")
    assert_oauth_error(response, "invalid_grant")


# --- refresh, revocation, introspection ---------------------------------------------------------


def test_public_client_with_offline_access_refreshes_with_rotation(client, spa, db):
    body = public_grant(client, scope="offline_access photos.read")
    assert "refresh_token" in body
    second = refresh(client, body["refresh_token"], **AS_PUBLIC)
    assert second.status_code == 200, second.text
    # Reuse by a thief who copied the first token out of the browser: the family dies.
    assert_oauth_error(refresh(client, body["refresh_token"], **AS_PUBLIC), "invalid_grant")
    assert api_status(client, second.json()["access_token"]) == 401
    db.expire_all()
    assert all(r.revoked_at is not None for r in db.exec(select(RefreshToken)).all())


def test_public_client_refresh_with_openid_gets_an_id_token(client, spa):
    body = public_grant(client, scope="openid offline_access photos.read")
    refreshed = refresh(client, body["refresh_token"], **AS_PUBLIC).json()
    assert refreshed["id_token"].count(".") == 2


def test_public_client_refresh_without_client_id_is_refused(client, spa):
    body = public_grant(client, scope="offline_access photos.read")
    assert_oauth_error(refresh(client, body["refresh_token"], auth=None), "invalid_client", 401)


def test_public_client_revokes_with_its_client_id(client, spa):
    body = public_grant(client, scope="offline_access photos.read")
    response = revoke(client, body["refresh_token"], **AS_PUBLIC)
    assert response.status_code == 200 and response.content == b""
    assert api_status(client, body["access_token"]) == 401


def test_public_client_cannot_introspect(client, spa):
    body = public_grant(client)
    assert_oauth_error(introspect(client, body["access_token"], **AS_PUBLIC), "invalid_client", 401)
