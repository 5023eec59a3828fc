"""Refresh tokens: issuing, the refresh grant, rotation and reuse (items 23, 24; RFC 6749 §6)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from joserfc import jwt
from sqlmodel import select

from mockgram.models import Client, IssuedToken, RefreshToken, User
from shared.clock import as_utc, utcnow
from shared.hashing import hash_secret
from tests.mockgram.conftest import ISSUER
from tests.mockgram.oauth_helpers import get_code, redeem, run_to_callback
from tests.mockgram.resource_helpers import sign_in
from tests.mockgram.token_helpers import (
    api_status,
    assert_oauth_error,
    code_grant,
    recorded_sql,
    refresh,
)

FULL = "photos.read photos.write"


@pytest.fixture
def printshop(make_client, make_user):
    make_user()
    return make_client(scopes="openid profile offline_access photos.read photos.write")[0]


def stored(db, token: str) -> RefreshToken:
    db.expire_all()
    record = db.get(RefreshToken, hash_secret(token))
    assert record is not None
    return record


# --- issuing ------------------------------------------------------------------------------------


def test_confidential_client_gets_an_opaque_256_bit_refresh_token_stored_hashed(
    client, printshop, db
):
    body = code_grant(client)
    token = body["refresh_token"]
    assert len(token) >= 43  # URL-safe Base64 of 32 bytes: 256 bits
    assert token.count(".") == 0  # opaque, not a JWT
    record = stored(db, token)
    assert record.token_hash == hash_secret(token) != token
    assert record.client_id == "printshop" and record.scope == "photos.read"
    assert token not in str(db.exec(select(RefreshToken)).all())
    # Access and refresh token belong to one grant.
    access = db.exec(select(IssuedToken)).one()
    assert access.grant_id == record.grant_id is not None


def test_refresh_family_expiry_follows_the_setting(client, printshop, db, mockgram_settings):
    record = stored(db, code_grant(client)["refresh_token"])
    lifetime = as_utc(record.expires_at) - as_utc(record.issued_at)
    assert lifetime == timedelta(seconds=mockgram_settings.refresh_token_ttl_seconds)
    assert mockgram_settings.refresh_token_ttl_seconds == 30 * 24 * 3600


# --- the grant ----------------------------------------------------------------------------------


def test_refresh_returns_new_access_and_refresh_tokens(client, printshop, db):
    first = code_grant(client, scope=FULL)
    response = refresh(client, first["refresh_token"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "refresh_token"}
    assert body["token_type"] == "Bearer"
    assert body["scope"] == FULL
    assert body["refresh_token"] != first["refresh_token"]
    assert body["access_token"] != first["access_token"]
    assert api_status(client, body["access_token"]) == 200
    assert stored(db, body["refresh_token"]).grant_id == stored(db, first["refresh_token"]).grant_id


def test_missing_refresh_token_is_invalid_request(client, printshop):
    assert_oauth_error(refresh(client, None), "invalid_request")


def test_unknown_refresh_token_is_invalid_grant(client, printshop):
    assert_oauth_error(refresh(client, "no-such-refresh-token"), "invalid_grant")


def test_an_access_token_is_not_a_refresh_token(client, printshop):
    body = code_grant(client)
    assert_oauth_error(refresh(client, body["access_token"]), "invalid_grant")


def test_refresh_with_openid_returns_an_id_token_for_the_same_person(
    client, printshop, mockgram_app
):
    first = code_grant(client, scope="openid profile photos.read")
    body = refresh(client, first["refresh_token"]).json()
    assert "id_token" in body
    decoded = jwt.decode(body["id_token"], mockgram_app.state.keys.public_set)
    claims = decoded.claims
    access_claims = jwt.decode(body["access_token"], mockgram_app.state.keys.public_set).claims
    assert claims["iss"] == ISSUER
    assert claims["sub"] == access_claims["sub"]
    assert "printshop" in (claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]])
    assert "nonce" not in claims  # OIDC Core §12.2
    assert isinstance(claims.get("auth_time"), int)
    assert claims["exp"] > claims["iat"]


def test_refresh_without_openid_has_no_id_token(client, printshop):
    body = refresh(client, code_grant(client)["refresh_token"]).json()
    assert "id_token" not in body


# --- item 23 ------------------------------------------------------------------------------------


def test_item_23_another_clients_refresh_token_is_invalid_grant(client, printshop, make_client):
    make_client("stranger", secret="stranger-secret")
    token = code_grant(client)["refresh_token"]
    assert_oauth_error(
        refresh(client, token, auth=("stranger", "stranger-secret")), "invalid_grant"
    )
    # The stranger's attempt burns nothing and revokes nothing: the owner still refreshes.
    assert refresh(client, token).status_code == 200


def test_item_23_a_wider_scope_is_invalid_scope(client, printshop):
    token = code_grant(client)["refresh_token"]
    assert_oauth_error(refresh(client, token, scope="photos.read photos.write"), "invalid_scope")
    assert_oauth_error(refresh(client, token, scope="photos.read nonsense"), "invalid_scope")
    # A refused scope does not burn the token.
    assert refresh(client, token).status_code == 200


def test_item_23_a_narrower_scope_narrows_the_access_token_not_the_grant(client, printshop):
    first = code_grant(client, scope=FULL)
    narrowed = refresh(client, first["refresh_token"], scope="photos.read").json()
    assert narrowed["scope"] == "photos.read"
    # §6: the grant keeps its scope; the next refresh may ask for all of it again.
    again = refresh(client, narrowed["refresh_token"]).json()
    assert again["scope"] == FULL


def test_item_23_confidential_client_without_authentication_is_refused(client, printshop):
    token = code_grant(client)["refresh_token"]
    response = refresh(client, token, auth=None, client_id="printshop")
    assert_oauth_error(response, "invalid_client", 401)
    response = refresh(client, token, auth=("printshop", "wrong-secret"))
    assert_oauth_error(response, "invalid_client", 401)
    assert refresh(client, token).status_code == 200


def test_item_23_revoked_refresh_token_is_invalid_grant(client, printshop, db):
    token = code_grant(client)["refresh_token"]
    record = stored(db, token)
    record.revoked_at = utcnow()
    db.add(record)
    db.commit()
    assert_oauth_error(refresh(client, token), "invalid_grant")


# --- item 24: rotation, reuse, absolute expiry --------------------------------------------------


def test_item_24_rotation_on_every_use(client, printshop, db):
    tokens = [code_grant(client)["refresh_token"]]
    for _ in range(3):
        response = refresh(client, tokens[-1])
        assert response.status_code == 200, response.text
        tokens.append(response.json()["refresh_token"])
    assert len(set(tokens)) == 4
    assert all(stored(db, token).used_at is not None for token in tokens[:-1])
    assert stored(db, tokens[-1]).used_at is None


def test_item_24_reused_refresh_token_revokes_the_family(client, printshop, db):
    first = code_grant(client)
    second = refresh(client, first["refresh_token"]).json()
    third = refresh(client, second["refresh_token"]).json()
    for access in (first["access_token"], second["access_token"], third["access_token"]):
        assert api_status(client, access) == 200

    # The attacker (or the app, after a thief) replays a rotated token.
    body = assert_oauth_error(refresh(client, first["refresh_token"]), "invalid_grant")
    assert "revoked" in body["error_description"]

    # The whole grant is gone, newest tokens included (RFC 9700 §4.14.2).
    assert_oauth_error(refresh(client, third["refresh_token"]), "invalid_grant")
    for access in (first["access_token"], second["access_token"], third["access_token"]):
        assert api_status(client, access) == 401
    db.expire_all()
    assert all(r.revoked_at is not None for r in db.exec(select(RefreshToken)).all())


@pytest.mark.parametrize(
    "extra",
    [{"scope": "photos.read photos.write"}, {"scope": "photos.read nonsense"}],
    ids=["wider_scope", "unknown_scope"],
)
def test_item_24_reuse_with_a_wider_scope_still_revokes_the_family(client, printshop, extra):
    """RFC 9700 §4.14.2: a replay is caught whatever else it carries, before the scope check."""
    first = code_grant(client)
    newest = refresh(client, first["refresh_token"]).json()
    assert api_status(client, newest["access_token"]) == 200

    body = assert_oauth_error(refresh(client, first["refresh_token"], **extra), "invalid_grant")
    assert "revoked" in body["error_description"]

    assert_oauth_error(refresh(client, newest["refresh_token"]), "invalid_grant")
    assert api_status(client, newest["access_token"]) == 401
    assert api_status(client, first["access_token"]) == 401


def test_item_24_rotation_claims_the_old_token_with_one_conditional_update(
    client, printshop, mockgram_app
):
    token = code_grant(client)["refresh_token"]
    with recorded_sql(mockgram_app.state.engine) as statements:
        assert refresh(client, token).status_code == 200
    claims = [s for s in statements if s.startswith("update refreshtoken")]
    # Never read-then-write: of two racing requests exactly one sees used_at still empty.
    assert len(claims) == 1
    assert "set used_at" in claims[0] and "used_at is null" in claims[0]


def test_item_24_reuse_revokes_only_that_family(client, printshop):
    kept = code_grant(client)
    stolen = code_grant(client)
    refresh(client, stolen["refresh_token"])
    assert_oauth_error(refresh(client, stolen["refresh_token"]), "invalid_grant")
    assert api_status(client, kept["access_token"]) == 200
    assert refresh(client, kept["refresh_token"]).status_code == 200


def test_item_24_absolute_expiry_survives_rotation(client, printshop, db):
    first = code_grant(client)["refresh_token"]
    second = refresh(client, first).json()["refresh_token"]
    assert stored(db, second).expires_at == stored(db, first).expires_at
    record = stored(db, second)
    record.expires_at = utcnow() - timedelta(seconds=1)
    db.add(record)
    db.commit()
    body = assert_oauth_error(refresh(client, second), "invalid_grant")
    assert "expired" in body["error_description"]


def test_item_24_implicit_flow_never_issues_a_refresh_token(client, make_user, make_client, db):
    make_user()
    make_client(scopes="openid offline_access photos.read")
    spa = db.get(Client, "printshop")
    spa.response_types = "token"
    db.add(spa)
    db.commit()
    location = get_code_location(client)
    assert "access_token=" in location
    assert "refresh_token" not in location
    db.expire_all()
    assert db.exec(select(RefreshToken)).all() == []


def get_code_location(client) -> str:
    """The implicit flow's redirect back (the token rides in the fragment)."""
    return run_to_callback(
        client,
        response_type="token",
        scope="offline_access photos.read",
        code_challenge=None,
        code_challenge_method=None,
    )


# --- item 18 and 21 meet refresh tokens --------------------------------------------------------


def test_item_18_code_replay_revokes_the_refresh_tokens_too(client, printshop):
    code = get_code(client)["code"]
    first = redeem(client, code).json()
    refreshed = refresh(client, first["refresh_token"]).json()
    assert_oauth_error(redeem(client, code), "invalid_grant")
    assert_oauth_error(refresh(client, refreshed["refresh_token"]), "invalid_grant")
    assert api_status(client, refreshed["access_token"]) == 401


def test_item_21_grant_not_allowed_for_the_client_is_unauthorized_client(client, printshop, db):
    token = code_grant(client)["refresh_token"]
    printshop = db.get(Client, "printshop")
    printshop.response_types = "token id_token"  # the implicit flow only, from now on
    db.add(printshop)
    db.commit()
    assert_oauth_error(refresh(client, token), "unauthorized_client")
    response = redeem(client, "any-code")
    assert_oauth_error(response, "unauthorized_client")


def test_item_21_unknown_grant_type_is_unsupported_even_with_a_refresh_token(client, printshop):
    token = code_grant(client)["refresh_token"]
    response = refresh(client, token, grant_type="password")
    assert_oauth_error(response, "unsupported_grant_type")


# --- John takes the access back -----------------------------------------------------------------


def test_revoking_on_apps_with_access_revokes_refresh_tokens(client, printshop, mockgram_app, db):
    body = code_grant(client)
    user = db.exec(select(User).where(User.username == "john")).one()
    csrf = sign_in(client, mockgram_app, user)
    assert client.post("/apps/printshop/revoke", data={"csrf_token": csrf}).status_code == 303
    assert_oauth_error(refresh(client, body["refresh_token"]), "invalid_grant")
    assert api_status(client, body["access_token"]) == 401
