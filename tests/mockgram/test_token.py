"""Step 5: the token endpoint (RFC 6749 §4.1.3, §5; RFC 7636 §4.6)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from joserfc import jwt
from pydantic import ValidationError
from sqlmodel import select

from mockgram.models import AuthorizationCode, IssuedToken
from mockgram.oauth.token import claim_code
from mockgram.settings import MockgramSettings
from mockgram.tokens import InvalidAccessToken, verify_access_token
from shared.clock import utcnow
from shared.hashing import hash_secret
from tests.mockgram.conftest import CLIENT_REDIRECT, ISSUER
from tests.mockgram.oauth_helpers import (
    CHALLENGE,
    VERIFIER,
    get_code,
    redeem,
)
from tests.mockgram.token_helpers import assert_oauth_error, recorded_sql


def verify(app, db, token: str):
    return verify_access_token(db, token, keys=app.state.keys, settings=app.state.settings)


# --- The whole path ---------------------------------------------------------------------------


def test_whole_path_authorize_login_consent_code_token(client, printshop, mockgram_app, db):
    query = get_code(client, scope="photos.read photos.write")
    response = redeem(client, query["code"])
    assert response.status_code == 200, response.text
    body = response.json()
    # A confidential client gets a refresh token (mockgram/oauth/refresh.py says why).
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "refresh_token"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == mockgram_app.state.settings.access_token_ttl_seconds
    assert body["scope"] == "photos.read photos.write"
    checked = verify(mockgram_app, db, body["access_token"])
    assert checked.client_id == "printshop"
    assert checked.scopes == {"photos.read", "photos.write"}
    claims = jwt.decode(body["access_token"], mockgram_app.state.keys.public_set).claims
    assert claims["iss"] == ISSUER
    assert claims["aud"] == ISSUER + "/api"
    assert claims["client_id"] == "printshop"


def test_token_records_the_code_it_came_from(client, printshop, db):
    code = get_code(client)["code"]
    redeem(client, code)
    issued = db.exec(select(IssuedToken)).one()
    assert issued.code_hash == hash_secret(code)


def test_unknown_code_is_invalid_grant(client, printshop):
    assert_oauth_error(redeem(client, "no-such-code"), "invalid_grant")


# --- Item 15, 16: PKCE at the token endpoint --------------------------------------------------


def test_item_15_missing_code_verifier_is_invalid_grant(client, printshop):
    code = get_code(client)["code"]
    assert_oauth_error(redeem(client, code, code_verifier=None), "invalid_grant")


def test_item_15_wrong_code_verifier_is_invalid_grant(client, printshop):
    code = get_code(client)["code"]
    wrong = "A" * 43
    assert_oauth_error(redeem(client, code, code_verifier=wrong), "invalid_grant")


def test_item_15_rfc7636_appendix_b_vector_is_accepted(client, printshop):
    code = get_code(client, code_challenge=CHALLENGE)["code"]
    assert redeem(client, code, code_verifier=VERIFIER).status_code == 200


def test_item_15_the_code_survives_a_bad_verifier_attempt_only_for_its_owner(client, printshop):
    """A failed PKCE check does not burn the code: the claim comes last."""
    code = get_code(client)["code"]
    assert_oauth_error(redeem(client, code, code_verifier="B" * 43), "invalid_grant")
    assert redeem(client, code).status_code == 200


def test_item_16_downgrade_verifier_for_code_without_challenge_is_refused(client, printshop):
    code = get_code(client, code_challenge=None, code_challenge_method=None)["code"]
    assert_oauth_error(redeem(client, code, code_verifier=VERIFIER), "invalid_grant")


def test_item_16_code_without_challenge_and_without_verifier_is_fine(client, printshop):
    code = get_code(client, code_challenge=None, code_challenge_method=None)["code"]
    assert redeem(client, code, code_verifier=None).status_code == 200


# --- Item 18: replay --------------------------------------------------------------------------


def test_item_18_code_replay_is_invalid_grant_and_revokes_first_tokens(
    client, printshop, mockgram_app, db
):
    code = get_code(client)["code"]
    first = redeem(client, code)
    token = first.json()["access_token"]
    assert verify(mockgram_app, db, token)
    replay = redeem(client, code)
    assert_oauth_error(replay, "invalid_grant")
    db.expire_all()
    with pytest.raises(InvalidAccessToken):
        verify(mockgram_app, db, token)
    assert db.exec(select(IssuedToken)).one().revoked_at is not None


def test_item_18_replay_by_a_stranger_does_not_revoke(
    client, printshop, make_client, mockgram_app, db
):
    make_client("stranger", secret="stranger-secret")
    code = get_code(client)["code"]
    token = redeem(client, code).json()["access_token"]
    # Another client, a bad secret, a wrong verifier: refused, and John's token survives.
    assert_oauth_error(redeem(client, code, auth=("stranger", "stranger-secret")), "invalid_grant")
    assert_oauth_error(redeem(client, code, auth=("printshop", "wrong")), "invalid_client", 401)
    assert_oauth_error(redeem(client, code, code_verifier="C" * 43), "invalid_grant")
    db.expire_all()
    assert verify(mockgram_app, db, token).client_id == "printshop"


def test_item_18_single_use_is_an_atomic_conditional_update(client, printshop, mockgram_app, db):
    code = get_code(client)["code"]
    with recorded_sql(mockgram_app.state.engine) as statements:
        assert redeem(client, code).status_code == 200
    claims = [s for s in statements if s.startswith("update authorizationcode")]
    assert len(claims) == 1
    assert "set redeemed_at" in claims[0]
    assert "redeemed_at is null" in claims[0]
    # Exactly one caller wins the claim.
    assert claim_code(db, hash_secret(code)) is False


def test_item_18_claim_wins_once(printshop, db, make_client):
    now = utcnow()
    db.add(
        AuthorizationCode(
            code_hash="h1",
            client_id="printshop",
            user_id=1,
            redirect_uri=CLIENT_REDIRECT,
            scope="photos.read",
            expires_at=now + timedelta(minutes=5),
        )
    )
    db.commit()
    assert claim_code(db, "h1") is True
    assert claim_code(db, "h1") is False


# --- Item 19: lifetime ------------------------------------------------------------------------


def test_item_19_code_lifetime_is_at_most_ten_minutes(client, printshop, db):
    code = get_code(client)["code"]
    record = db.get(AuthorizationCode, hash_secret(code))
    lifetime = record.expires_at - record.created_at
    assert timedelta(0) < lifetime <= timedelta(minutes=10)


def test_item_19_settings_refuse_code_ttl_over_ten_minutes():
    with pytest.raises(ValidationError):
        MockgramSettings(code_ttl_seconds=601, database_url="sqlite://")


def test_item_19_expired_code_is_invalid_grant(client, printshop, db):
    code = get_code(client)["code"]
    record = db.get(AuthorizationCode, hash_secret(code))
    record.expires_at = utcnow() - timedelta(seconds=1)
    db.add(record)
    db.commit()
    body = assert_oauth_error(redeem(client, code), "invalid_grant")
    assert "expired" in body["error_description"]


# --- Item 20: client and redirect_uri binding -------------------------------------------------


def test_item_20_client_b_redeeming_a_code_is_invalid_grant(client, printshop, make_client):
    make_client("client-b", secret="b-secret")
    code = get_code(client)["code"]
    assert_oauth_error(redeem(client, code, auth=("client-b", "b-secret")), "invalid_grant")


def test_item_20_different_redirect_uri_is_invalid_grant(client, make_user, make_client):
    make_user()
    make_client(redirect_uris=[CLIENT_REDIRECT, "http://client.test/two"])
    code = get_code(client)["code"]
    assert_oauth_error(redeem(client, code, redirect_uri="http://client.test/two"), "invalid_grant")


def test_item_20_missing_redirect_uri_when_it_was_in_the_request_is_invalid_grant(
    client, printshop
):
    code = get_code(client)["code"]
    assert_oauth_error(redeem(client, code, redirect_uri=None), "invalid_grant")


def test_item_20_redirect_uri_may_be_omitted_when_it_was_not_in_the_request(client, printshop):
    code = get_code(client, redirect_uri=None)["code"]
    assert redeem(client, code, redirect_uri=None).status_code == 200


def test_item_20_wrong_redirect_uri_refused_even_when_it_was_not_in_the_request(client, printshop):
    code = get_code(client, redirect_uri=None)["code"]
    assert_oauth_error(
        redeem(client, code, redirect_uri="http://client.test/else"), "invalid_grant"
    )


# --- Item 21: grant_type, code, method, entropy -----------------------------------------------


def test_item_21_unknown_grant_type_is_unsupported_grant_type(client, printshop):
    code = get_code(client)["code"]
    assert_oauth_error(redeem(client, code, grant_type="password"), "unsupported_grant_type")


def test_item_21_missing_grant_type_is_invalid_request(client, printshop):
    code = get_code(client)["code"]
    assert_oauth_error(redeem(client, code, grant_type=None), "invalid_request")


def test_item_21_missing_code_is_invalid_request(client, printshop):
    assert_oauth_error(redeem(client, None), "invalid_request")  # type: ignore[arg-type]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_item_21_only_post(client, printshop, method):
    response = client.request(method, "/oauth/token")
    assert response.status_code == 405
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["error"] == "invalid_request"


def test_item_21_codes_and_tokens_have_at_least_128_bits(client, printshop, db):
    code = get_code(client)["code"]
    # URL-safe Base64: 6 bits a character; 22 characters carry 132 bits.
    assert len(code) >= 22
    response = redeem(client, code)
    jti = db.exec(select(IssuedToken)).one().jti
    assert len(jti) >= 22
    assert response.status_code == 200


def test_item_21_repeated_parameter_is_invalid_request(client, printshop):
    code = get_code(client)["code"]
    response = client.post(
        "/oauth/token",
        content=f"grant_type=authorization_code&code={code}&code={code}",
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=("printshop", "printshop-secret"),
    )
    assert_oauth_error(response, "invalid_request")


# --- Item 22: headers and no framework errors -------------------------------------------------


def test_item_22_no_store_on_success_and_error(client, printshop):
    code = get_code(client)["code"]
    ok = redeem(client, code)
    assert ok.headers["cache-control"] == "no-store"
    assert ok.headers["pragma"] == "no-cache"
    assert_oauth_error(redeem(client, code), "invalid_grant")


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"", "application/x-www-form-urlencoded"),
        (b'{"grant_type": "authorization_code"}', "application/json"),
        (b"\xff\xfe garbage", "application/x-www-form-urlencoded"),
        (b"--x\r\ngarbage", "multipart/form-data; boundary=x"),
        (b"grant_type=authorization_code", "text/plain"),
    ],
)
def test_item_22_malformed_requests_never_get_a_422(client, printshop, content, content_type):
    response = client.post(
        "/oauth/token",
        content=content,
        headers={"content-type": content_type},
        auth=("printshop", "printshop-secret"),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.headers["cache-control"] == "no-store"
