"""DPoP (RFC 9449): proofs at the token endpoint, bound tokens at the photos API and userinfo."""

from __future__ import annotations

import base64
import json
import time
import warnings
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OctKey, RSAKey
from sqlmodel import select

from mockgram.models import DpopProofSeen, RefreshToken
from mockgram.oauth.dpop import ALGS, requires_dpop
from mockgram.tokens import issue_access_token
from shared.clock import utcnow
from tests.mockgram.conftest import ISSUER
from tests.mockgram.dpop_helpers import (
    PHOTOS_URL,
    TOKEN_URL,
    USERINFO_URL,
    DpopKey,
    dpop_headers,
)
from tests.mockgram.oauth_helpers import CLIENT_ID, CLIENT_SECRET, VERIFIER, get_code
from tests.mockgram.resource_helpers import add_photo, bearer
from tests.mockgram.token_helpers import introspect

BASIC = (CLIENT_ID, CLIENT_SECRET)


@pytest.fixture
def key() -> DpopKey:
    return DpopKey()


@pytest.fixture
def john(make_user):  # type: ignore[no-untyped-def]
    return make_user("john")


@pytest.fixture
def printshop(make_client, john):  # type: ignore[no-untyped-def]
    return make_client(scopes="openid offline_access photos.read photos.write")[0]


def token_request(client: TestClient, proof: str | None, **fields: str) -> object:
    """POST to the token endpoint as the confidential printshop, with a DPoP proof."""
    data = {
        "grant_type": "authorization_code",
        "code": "no-such-code",
        "redirect_uri": "http://client.test/callback",
        "code_verifier": VERIFIER,
    } | fields
    headers = {} if proof is None else {"DPoP": proof}
    return client.post("/oauth/token", data=data, auth=BASIC, headers=headers)


def bound_token(db, app, john, key: DpopKey, scope: str = "openid photos.read") -> str:  # type: ignore[no-untyped-def]
    """An access token bound to `key`, as the token endpoint would issue it."""
    token, _ = issue_access_token(
        db,
        keys=app.state.keys,
        settings=app.state.settings,
        user_id=john.id,
        client_id="printshop",
        scope=scope,
        jkt=key.jkt,
    )
    db.commit()
    return token


def assert_dpop_error(response, status: int, error: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    if status == 401:
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith(f'DPoP error="{error}"'), challenge
        assert f'algs="{" ".join(ALGS)}"' in challenge


def unsigned(header: dict, claims: dict) -> str:
    """A compact JWS with any header and no (or a bogus) signature."""

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


# --- the token endpoint (§5) --------------------------------------------------------------------


def test_code_flow_with_a_proof_gets_a_dpop_bound_token(client, printshop, key, mockgram_app):
    code = get_code(client, scope="photos.read")["code"]
    response = token_request(client, key.proof(), code=code)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "DPoP"
    claims = jwt.decode(body["access_token"], mockgram_app.state.keys.public_set).claims
    assert claims["cnf"] == {"jkt": key.jkt}  # §6.1
    # Introspection shows the binding (§6.2).
    answer = introspect(client, body["access_token"]).json()
    assert answer["active"] is True
    assert answer["token_type"] == "DPoP" and answer["cnf"] == {"jkt": key.jkt}
    # A confidential client's refresh token is bound by its secret, not to the key (§5).
    refreshed = client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        auth=BASIC,
    )
    assert refreshed.status_code == 200 and refreshed.json()["token_type"] == "Bearer"


def test_without_a_proof_the_token_is_a_bearer_token(client, printshop, mockgram_app):
    code = get_code(client, scope="photos.read")["code"]
    body = token_request(client, None, code=code).json()
    assert body["token_type"] == "Bearer"
    assert "cnf" not in jwt.decode(body["access_token"], mockgram_app.state.keys.public_set).claims


def weak_rsa_proof() -> str:
    """A proof signed with a 1024-bit RSA key (joserfc warns; the test means it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        return DpopKey(RSAKey.generate_key(1024, auto_kid=False), alg="RS256").proof()


def bad_proof(key: DpopKey, case: str) -> str:
    """A proof that breaks one rule of §4.3."""
    now = int(time.time())
    base = {"jti": "j", "htm": "POST", "htu": TOKEN_URL, "iat": now}
    cases: dict[str, Callable[[], str]] = {
        "bad signature": lambda: key.proof(signing_key=ECKey.generate_key("P-256")),
        "wrong htm": lambda: key.proof(htm="GET"),
        "wrong htu": lambda: key.proof(htu=f"{ISSUER}/oauth/revoke"),
        "another host in htu": lambda: key.proof(htu="http://evil.test/oauth/token"),
        "stale iat": lambda: key.proof(iat=now - 3600),
        "iat in the future": lambda: key.proof(iat=now + 3600),
        "typ JWT": lambda: key.proof(header={"typ": "JWT"}),
        "no jti": lambda: key.proof(drop=("jti",)),
        "no jwk": lambda: unsigned({"typ": "dpop+jwt", "alg": "ES256"}, base),
        "alg none": lambda: unsigned(
            {"typ": "dpop+jwt", "alg": "none", "jwk": key.public_jwk}, base
        ),
        "alg HS256": lambda: jwt.encode(
            {"typ": "dpop+jwt", "alg": "HS256", "jwk": {"kty": "oct", "k": "c2VjcmV0"}},
            base,
            OctKey.import_key("a-shared-secret-of-32-bytes!!!!!"),
        ),
        "private key in jwk": lambda: key.proof(
            header={"jwk": key.public_jwk | {"d": key.key.as_dict(private=True)["d"]}}
        ),
        "jwk that does not fit alg": lambda: DpopKey(RSAKey.generate_key(2048), "RS256").proof(
            header={"jwk": key.public_jwk}
        ),
        "RSA key of 1024 bits": weak_rsa_proof,
        "not a JWT": lambda: "not.a.jwt",
    }
    return cases[case]()


BAD_PROOFS = [
    "bad signature",
    "wrong htm",
    "wrong htu",
    "another host in htu",
    "stale iat",
    "iat in the future",
    "typ JWT",
    "no jti",
    "no jwk",
    "alg none",
    "alg HS256",
    "private key in jwk",
    "jwk that does not fit alg",
    "RSA key of 1024 bits",
    "not a JWT",
]


@pytest.mark.parametrize("case", BAD_PROOFS)
def test_token_endpoint_refuses_a_bad_proof(client, printshop, key, case):
    response = token_request(client, bad_proof(key, case))
    assert_dpop_error(response, 400, "invalid_dpop_proof")
    assert response.headers["cache-control"] == "no-store"


def test_token_endpoint_refuses_two_dpop_headers(client, printshop, key):
    data = {"grant_type": "authorization_code", "code": "x", "code_verifier": VERIFIER}
    headers = [("DPoP", key.proof()), ("DPoP", key.proof())]
    response = client.post("/oauth/token", data=data, auth=BASIC, headers=headers)
    assert_dpop_error(response, 400, "invalid_dpop_proof")


def test_htu_query_and_fragment_are_ignored(client, printshop, key):
    # §4.3 step 9: the proof passes; the (made-up) code is what is refused.
    response = token_request(client, key.proof(htu=f"{TOKEN_URL}?a=1#f"))
    assert response.json()["error"] == "invalid_grant"


def test_a_replayed_proof_is_refused(client, printshop, key, db):
    proof = key.proof()
    assert token_request(client, proof).json()["error"] == "invalid_grant"  # the proof passed
    assert_dpop_error(token_request(client, proof), 400, "invalid_dpop_proof")
    assert len(db.exec(select(DpopProofSeen)).all()) == 1


def test_expired_proof_records_are_swept(client, printshop, key, db):
    db.add(DpopProofSeen(key="old", expires_at=utcnow() - timedelta(seconds=1)))
    db.add(DpopProofSeen(key="young", expires_at=utcnow() + timedelta(minutes=5)))
    db.commit()
    token_request(client, key.proof())
    db.expire_all()
    kept = {row.key for row in db.exec(select(DpopProofSeen)).all()}
    assert "old" not in kept and "young" in kept and len(kept) == 2


def test_a_client_registered_for_dpop_must_send_a_proof(client, printshop, key, db):
    printshop.dpop_bound_access_tokens = True
    db.add(printshop)
    db.commit()
    assert requires_dpop(printshop)
    response = token_request(client, None)
    assert_dpop_error(response, 400, "invalid_dpop_proof")
    assert "dpop_bound_access_tokens" in response.json()["error_description"]
    # With a proof, it goes on to the grant.
    assert token_request(client, key.proof()).json()["error"] == "invalid_grant"


def test_a_public_clients_refresh_token_is_bound_to_its_key(client, make_client, john, key, db):
    make_client("spa", public=True, scopes="offline_access photos.read")
    code = get_code(client, client_id="spa", scope="offline_access photos.read")["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": "spa",
        "redirect_uri": "http://client.test/callback",
        "code_verifier": VERIFIER,
    }
    body = client.post("/oauth/token", data=data, headers={"DPoP": key.proof()}).json()
    assert body["token_type"] == "DPoP"
    refresh_token = body["refresh_token"]
    assert db.exec(select(RefreshToken)).one().jkt == key.jkt

    def refresh(proof: str | None):  # type: ignore[no-untyped-def]
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": "spa"}
        headers = {} if proof is None else {"DPoP": proof}
        return client.post("/oauth/token", data=data, headers=headers)

    assert_dpop_error(refresh(None), 400, "invalid_dpop_proof")
    assert_dpop_error(refresh(DpopKey().proof()), 400, "invalid_dpop_proof")  # another key
    # The refused attempts did not use the token up: the holder of the key refreshes.
    renewed = refresh(key.proof())
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["token_type"] == "DPoP"


# --- the resource server (§7) -------------------------------------------------------------------


def test_bound_token_with_its_proof_reads_photos_and_userinfo(
    client, mockgram_app, db, john, printshop, key
):
    add_photo(db, john)
    token = bound_token(db, mockgram_app, john, key)
    proof = key.proof("GET", PHOTOS_URL, access_token=token)
    response = client.get("/api/photos", headers=dpop_headers(token, proof))
    assert response.status_code == 200, response.text
    assert len(response.json()["photos"]) == 1
    proof = key.proof("GET", USERINFO_URL, access_token=token)
    assert client.get("/oauth/userinfo", headers=dpop_headers(token, proof)).status_code == 200
    # The scheme is case-insensitive (RFC 7235 §2.1); POST at userinfo needs its own proof.
    proof = key.proof("POST", USERINFO_URL, access_token=token)
    headers = {"Authorization": f"dpop {token}", "DPoP": proof}
    assert client.post("/oauth/userinfo", headers=headers).status_code == 200


def test_bound_token_presented_as_bearer_is_refused(client, mockgram_app, db, john, printshop, key):
    token = bound_token(db, mockgram_app, john, key)
    response = client.get("/api/photos", headers=bearer(token))
    assert_dpop_error(response, 401, "invalid_token")
    # Even with a valid proof beside it: the scheme says bearer, and bearer it is not.
    headers = bearer(token) | {"DPoP": key.proof("GET", PHOTOS_URL, access_token=token)}
    assert_dpop_error(client.get("/api/photos", headers=headers), 401, "invalid_token")


def test_an_unbound_token_is_refused_under_the_dpop_scheme(
    client, mockgram_app, db, john, printshop, key
):
    token, _ = issue_access_token(
        db,
        keys=mockgram_app.state.keys,
        settings=mockgram_app.state.settings,
        user_id=john.id,
        client_id="printshop",
        scope="photos.read",
    )
    db.commit()
    proof = key.proof("GET", PHOTOS_URL, access_token=token)
    assert_dpop_error(
        client.get("/api/photos", headers=dpop_headers(token, proof)), 401, "invalid_token"
    )


@pytest.mark.parametrize(
    "case", ["no proof", "no ath", "wrong ath", "wrong key", "wrong htm", "wrong htu"]
)
def test_resource_server_refuses_a_bad_proof(client, mockgram_app, db, john, printshop, key, case):
    token = bound_token(db, mockgram_app, john, key)
    proofs = {
        "no ath": key.proof("GET", PHOTOS_URL),
        "wrong ath": key.proof("GET", PHOTOS_URL, access_token=token + "x"),
        "wrong key": DpopKey().proof("GET", PHOTOS_URL, access_token=token),
        "wrong htm": key.proof("POST", PHOTOS_URL, access_token=token),
        "wrong htu": key.proof("GET", USERINFO_URL, access_token=token),
    }
    headers = {"Authorization": f"DPoP {token}"}
    if case in proofs:
        headers["DPoP"] = proofs[case]
    response = client.get("/api/photos", headers=headers)
    assert_dpop_error(response, 401, "invalid_dpop_proof")


def test_resource_server_refuses_a_replayed_proof(client, mockgram_app, db, john, printshop, key):
    token = bound_token(db, mockgram_app, john, key)
    headers = dpop_headers(token, key.proof("GET", PHOTOS_URL, access_token=token))
    assert client.get("/api/photos", headers=headers).status_code == 200
    assert_dpop_error(client.get("/api/photos", headers=headers), 401, "invalid_dpop_proof")


def test_a_write_with_a_bound_token_needs_the_proof_too(
    client, mockgram_app, db, john, printshop, key
):
    photo = add_photo(db, john)
    token = bound_token(db, mockgram_app, john, key, scope="photos.write")
    url = f"{PHOTOS_URL}/{photo.id}"
    assert_dpop_error(client.delete(url, headers=bearer(token)), 401, "invalid_token")
    proof = key.proof("DELETE", url, access_token=token)
    assert client.delete(url, headers=dpop_headers(token, proof)).status_code == 204


# --- nonces (§8, §9) ----------------------------------------------------------------------------


def test_nonce_required_at_the_token_endpoint_and_the_api(
    client, mockgram_app, printshop, john, db, key
):
    settings = mockgram_app.state.settings
    mockgram_app.state.settings = settings.model_copy(update={"dpop_require_nonce": True})
    # §8: without a nonce, the token endpoint answers use_dpop_nonce and hands one out.
    code = get_code(client, scope="photos.read")["code"]
    refused = token_request(client, key.proof(), code=code)
    assert_dpop_error(refused, 400, "use_dpop_nonce")
    nonce = refused.headers["dpop-nonce"]
    assert_dpop_error(token_request(client, key.proof(nonce="forged")), 400, "use_dpop_nonce")
    issued = token_request(client, key.proof(nonce=nonce), code=code)
    assert issued.status_code == 200, issued.text
    assert issued.headers["dpop-nonce"]  # §8.2: the nonce to use next
    token = issued.json()["access_token"]
    # §9: the resource server asks the same way, with 401 and a DPoP challenge.
    proof = key.proof("GET", PHOTOS_URL, access_token=token)
    refused = client.get("/api/photos", headers=dpop_headers(token, proof))
    assert_dpop_error(refused, 401, "use_dpop_nonce")
    nonce = refused.headers["dpop-nonce"]
    proof = key.proof("GET", PHOTOS_URL, access_token=token, nonce=nonce)
    assert client.get("/api/photos", headers=dpop_headers(token, proof)).status_code == 200


def test_discovery_advertises_the_dpop_algorithms(client):
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["dpop_signing_alg_values_supported"] == list(ALGS)
    assert "none" not in ALGS and not any(alg.startswith("HS") for alg in ALGS)


def test_registration_takes_dpop_bound_access_tokens(client):
    metadata = {"redirect_uris": ["https://app.test/cb"], "dpop_bound_access_tokens": True}
    response = client.post("/oauth/register", json=metadata)
    assert response.status_code == 201, response.text
    assert response.json()["dpop_bound_access_tokens"] is True
    bad = client.post("/oauth/register", json=metadata | {"dpop_bound_access_tokens": "yes"})
    assert bad.json()["error"] == "invalid_client_metadata"
