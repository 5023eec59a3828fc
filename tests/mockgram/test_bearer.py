"""RFC 6750 at the photos API: where the token may travel, and every way it is refused (item 27)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlmodel import Session, select

import mockgram.tokens
from mockgram.bearer import BearerError, token_from_header
from mockgram.models import IssuedToken, User
from shared.clock import utcnow
from tests.mockgram.conftest import ISSUER
from tests.mockgram.resource_helpers import bearer, issue

# RFC 9728 §5.1: the photos API names its metadata in every challenge.
RESOURCE_METADATA = f'resource_metadata="{ISSUER}/.well-known/oauth-protected-resource/api"'
CHALLENGE_NO_TOKEN = f'Bearer realm="mockgram", {RESOURCE_METADATA}'
# Photos API challenges name it; userinfo's (the authorization server's own) do not.
REALM = r'Bearer realm="mockgram", (resource_metadata="[^"]+", )?'
# RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E.
DESCRIPTION = r'error_description="[\x20\x21\x23-\x5b\x5d-\x7e]+"'
# RFC 6750 §3: the page explaining the error (mockgram/failures.py).
ERROR_URI = r', error_uri="http://[^"]+/errors/[a-z_]+\?ref=[A-Za-z0-9_-]+"'


@pytest.fixture
def john(make_user) -> User:
    return make_user("john")


def assert_invalid_token(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    challenge = response.headers["www-authenticate"]
    assert re.fullmatch(REALM + r'error="invalid_token", ' + DESCRIPTION + ERROR_URI, challenge)


def assert_invalid_request(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    challenge = response.headers["www-authenticate"]
    assert re.fullmatch(REALM + r'error="invalid_request", ' + DESCRIPTION + ERROR_URI, challenge)


def signed(app, claims: dict, header: dict | None = None, key=None) -> str:  # type: ignore[no-untyped-def]
    """A JWT with chosen claims and header, signed by Mockgram's key unless another is given."""
    keys = app.state.keys
    header = header or {"alg": "RS256", "typ": "at+jwt", "kid": keys.kid}
    return jwt.encode(header, claims, key or keys.active)


def claims_for(user: User, **overrides: object) -> dict:
    """Claims of a token that would be accepted (once its jti is recorded)."""
    now = int(utcnow().timestamp())
    claims = {
        "iss": ISSUER,
        "sub": str(user.id),
        "aud": f"{ISSUER}/api",
        "client_id": "printshop",
        "scope": "photos.read",
        "iat": now,
        "exp": now + 600,
        "jti": "hand-made-jti",
    }
    return {**claims, **overrides}


def good_claims(db: Session, user: User, **overrides: object) -> dict:
    """Claims of a token that would be accepted, with its jti recorded."""
    db.add(
        IssuedToken(
            jti="hand-made-jti",
            client_id="printshop",
            user_id=user.id,
            scope="photos.read",
            expires_at=utcnow() + timedelta(minutes=10),
        )
    )
    db.commit()
    return claims_for(user, **overrides)


# --- no token, and what counts as none -----------------------------------------------------


def test_item_27_no_token_gets_401_challenge_without_error_code(client) -> None:
    response = client.get("/api/photos")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == CHALLENGE_NO_TOKEN
    assert "error=" not in response.headers["www-authenticate"]
    # RFC 6750 §3.1: no error code when no token was sent — in the body either.
    assert set(response.json()) == {"error_description"}


def test_item_27_other_auth_scheme_is_no_token(client, make_client, john, db, mockgram_app) -> None:
    make_client()
    token = issue(db, mockgram_app, john)
    for value in ("Basic cHJpbnRzaG9wOnNlY3JldA==", f"Token {token}", f"Bearertoken {token}"):
        response = client.get("/api/photos", headers={"Authorization": value})
        assert response.status_code == 401, value
        assert response.headers["www-authenticate"] == CHALLENGE_NO_TOKEN


def test_item_27_bearer_scheme_is_case_insensitive(
    client, make_client, john, db, mockgram_app
) -> None:
    make_client()
    token = issue(db, mockgram_app, john)
    for scheme in ("Bearer", "bearer", "BEARER"):
        response = client.get("/api/photos", headers={"Authorization": f"{scheme} {token}"})
        assert response.status_code == 200, scheme


# --- bad tokens: 401 invalid_token ----------------------------------------------------------


def test_item_27_expired_token_is_invalid_token(
    client, make_client, john, db, mockgram_app, monkeypatch
) -> None:
    make_client()
    an_hour_ago = utcnow() - timedelta(hours=1)
    monkeypatch.setattr(mockgram.tokens, "utcnow", lambda: an_hour_ago)
    token = issue(db, mockgram_app, john)
    monkeypatch.undo()
    response = client.get("/api/photos", headers=bearer(token))
    assert_invalid_token(response)
    assert "expired" in response.json()["error_description"]


def test_item_27_expired_record_is_invalid_token(
    client, make_client, john, db, mockgram_app
) -> None:
    make_client()
    token = issue(db, mockgram_app, john)
    record = db.exec(select(IssuedToken)).one()
    record.expires_at = utcnow() - timedelta(seconds=1)
    db.add(record)
    db.commit()
    assert_invalid_token(client.get("/api/photos", headers=bearer(token)))


def test_item_27_revoked_token_is_invalid_token(
    client, make_client, john, db, mockgram_app
) -> None:
    make_client()
    token = issue(db, mockgram_app, john)
    assert client.get("/api/photos", headers=bearer(token)).status_code == 200
    for record in db.exec(select(IssuedToken)).all():
        record.revoked_at = utcnow()
        db.add(record)
    db.commit()
    response = client.get("/api/photos", headers=bearer(token))
    assert_invalid_token(response)
    assert "revoked" in response.json()["error_description"]


def test_item_27_forged_token_signed_by_another_key_is_invalid_token(
    client, make_client, john, db, mockgram_app
) -> None:
    make_client()
    claims = good_claims(db, john)
    assert (
        client.get("/api/photos", headers=bearer(signed(mockgram_app, claims))).status_code == 200
    )
    stranger = RSAKey.generate_key(2048, private=True)
    header = {"alg": "RS256", "typ": "at+jwt", "kid": mockgram_app.state.keys.kid}
    forged = signed(mockgram_app, claims, header, key=stranger)
    assert_invalid_token(client.get("/api/photos", headers=bearer(forged)))


def test_item_27_tampered_payload_is_invalid_token(
    client, make_client, john, db, mockgram_app
) -> None:
    make_client()
    token = signed(mockgram_app, good_claims(db, john))
    head, payload, signature = token.split(".")
    other = signed(mockgram_app, {**claims_for(john), "scope": "photos.write"}).split(".")[1]
    assert_invalid_token(client.get("/api/photos", headers=bearer(f"{head}.{other}.{signature}")))
    assert payload != other


def test_item_27_token_for_another_audience_is_invalid_token(
    client, make_client, john, db, mockgram_app
) -> None:
    make_client()
    claims = good_claims(db, john, aud="http://elsewhere.test/api")
    response = client.get("/api/photos", headers=bearer(signed(mockgram_app, claims)))
    assert_invalid_token(response)
    assert "audience" in response.json()["error_description"]


def test_item_27_token_from_another_issuer_is_invalid_token(
    client, make_client, john, db, mockgram_app
) -> None:
    make_client()
    claims = good_claims(db, john, iss="http://evil.test")
    assert_invalid_token(client.get("/api/photos", headers=bearer(signed(mockgram_app, claims))))


def test_item_27_wrong_typ_is_invalid_token(client, make_client, john, db, mockgram_app) -> None:
    """An id_token or any other JWT signed by Mockgram is not an access token (RFC 9068 §4)."""
    make_client()
    claims = good_claims(db, john)
    for typ in ("JWT", "id+jwt"):
        header = {"alg": "RS256", "typ": typ, "kid": mockgram_app.state.keys.kid}
        assert_invalid_token(
            client.get("/api/photos", headers=bearer(signed(mockgram_app, claims, header)))
        )


def test_item_27_unrecorded_jti_is_invalid_token(
    client, make_client, john, db, mockgram_app
) -> None:
    make_client()
    claims = {**claims_for(john), "jti": "never-issued"}
    assert_invalid_token(client.get("/api/photos", headers=bearer(signed(mockgram_app, claims))))


def test_item_27_alg_none_and_garbage_are_invalid_token(
    client, make_client, john, db, mockgram_app
) -> None:
    make_client()
    token = issue(db, mockgram_app, john)
    head, payload, _ = token.split(".")
    none_header = "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0"  # {"alg":"none","typ":"at+jwt"}
    for bad in (f"{none_header}.{payload}.", "not-a-jwt", "a.b.c", f"{head}.{payload}"):
        assert_invalid_token(client.get("/api/photos", headers=bearer(bad)))


# --- scope: 403 insufficient_scope ----------------------------------------------------------


def test_item_27_missing_scope_is_403_insufficient_scope_naming_the_scope(
    client, make_client, john, db, mockgram_app
) -> None:
    make_client()
    token = issue(db, mockgram_app, john, scope="photos.read")
    response = client.delete("/api/photos/1", headers=bearer(token))
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    assert response.json()["scope"] == "photos.write"
    assert re.fullmatch(
        REALM
        + r'error="insufficient_scope", '
        + DESCRIPTION
        + r', scope="photos\.write"'
        + ERROR_URI,
        response.headers["www-authenticate"],
    )


def test_item_27_write_only_token_cannot_read(client, make_client, john, db, mockgram_app) -> None:
    make_client()
    token = issue(db, mockgram_app, john, scope="photos.write")
    response = client.get("/api/photos", headers=bearer(token))
    assert response.status_code == 403
    assert 'scope="photos.read"' in response.headers["www-authenticate"]


# --- malformed requests: 400 invalid_request ------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "Bearer",
        "Bearer ",
        "Bearer  ",
        "Bearer a b",
        "Bearer abc,def",
        "Bearer tok$en",
        "Bearer to=ken",
        "Bearer =abc",
        'Bearer "abc"',
        "Bearer ab\tc",
    ],
)
def test_item_27_malformed_authorization_header_is_invalid_request(client, value: str) -> None:
    assert_invalid_request(client.get("/api/photos", headers={"Authorization": value}))


def test_item_27_two_authorization_headers_are_invalid_request(
    client, make_client, john, db, mockgram_app
) -> None:
    make_client()
    token = issue(db, mockgram_app, john)
    headers = [("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {token}")]
    assert_invalid_request(client.get("/api/photos", headers=headers))


def test_item_27_token_in_query_string_is_refused(
    client, make_client, john, db, mockgram_app
) -> None:
    make_client()
    token = issue(db, mockgram_app, john)
    response = client.get("/api/photos", params={"access_token": token})
    assert_invalid_request(response)
    assert "query string" in response.json()["error_description"]
    assert "photos" not in response.json()


def test_item_27_token_sent_two_ways_is_invalid_request(
    client, make_client, john, db, mockgram_app
) -> None:
    make_client()
    token = issue(db, mockgram_app, john)
    response = client.get("/api/photos", params={"access_token": token}, headers=bearer(token))
    assert_invalid_request(response)
    assert "more than one way" in response.json()["error_description"]
    response = client.request(
        "DELETE",
        "/api/photos/1",
        headers={**bearer(token), "Content-Type": "application/x-www-form-urlencoded"},
        content=f"access_token={token}",
    )
    assert_invalid_request(response)


def test_item_27_token_in_form_body_is_refused(client, make_client, john, db, mockgram_app) -> None:
    """RFC 6750 §2.2 is not supported: refused, not silently ignored."""
    make_client()
    token = issue(db, mockgram_app, john, scope="photos.read photos.write")
    response = client.post("/api/photos", data={"access_token": token, "caption": "x"})
    assert_invalid_request(response)
    assert "body" in response.json()["error_description"]


def test_item_27_errors_are_json_and_never_cached(client) -> None:
    response = client.get("/api/photos", headers={"Authorization": "Bearer not-a-jwt"})
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"


# --- the header parser on its own ------------------------------------------------------------


def test_token_from_header_accepts_b64token_grammar() -> None:
    token = "abcXYZ019-._~+/=="
    assert token_from_header([f"Bearer {token}"]) == token
    assert token_from_header([f"Bearer   {token}"]) == token  # RFC 6750 §2.1: 1*SP
    assert token_from_header([]) is None
    assert token_from_header(["Digest realm=x"]) is None
    with pytest.raises(BearerError) as refused:
        token_from_header(["Bearer a b"])
    assert refused.value.status_code == 400
