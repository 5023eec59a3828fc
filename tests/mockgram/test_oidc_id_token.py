"""The id_token and its keys (OIDC Core §2, §3.1.3.3, §3.1.3.6; RFC 7517; checklist 32)."""

from __future__ import annotations

import base64
import json
import time

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.errors import JoseError
from sqlmodel import Session, select

from mockgram import keys as signing_keys
from mockgram.deps import Provider
from mockgram.models import AppSecret, Client, SigningKey, User
from mockgram.oauth.id_tokens import issue_id_token
from tests.mockgram.conftest import ISSUER
from tests.mockgram.oidc_helpers import (
    OIDC_CLIENT_ID,
    left_half_sha256,
    oidc_params,
    read_answer,
    redeem_oidc_code,
    register_gallery,
    run_flow,
    verify_id_token,
)


@pytest.fixture
def gallery(make_client, make_user, db) -> Client:
    make_user()
    return register_gallery(make_client, db, "openid profile email photos.read")


def code_flow_tokens(client: TestClient, **overrides: str | None) -> dict:
    """Run the code flow and redeem the code; the token endpoint's JSON."""
    _, answer = read_answer(run_flow(client, oidc_params("code", **overrides)))
    return redeem_oidc_code(client, answer["code"])


def header_of(token: str) -> dict:
    segment = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def test_code_flow_id_token_claims(client, gallery):
    before = int(time.time())
    body = code_flow_tokens(client)
    claims = verify_id_token(client, body["id_token"]).claims
    access = jwt.decode(
        body["access_token"],
        client.app.state.keys.public_set,
        algorithms=["RS256"],
    ).claims
    assert claims["iss"] == ISSUER
    assert claims["sub"] == access["sub"]  # the same person as the access token's
    assert claims["aud"] == [OIDC_CLIENT_ID]
    assert claims["azp"] == OIDC_CLIENT_ID
    assert claims["nonce"] == "nonce-abc"
    assert before - 1 <= claims["iat"] <= int(time.time())
    assert claims["exp"] == claims["iat"] + client.app.state.settings.id_token_ttl_seconds
    assert before - 1 <= claims["auth_time"] <= claims["iat"]
    # No access token or code beside it in the back channel: no at_hash needed, no c_hash.
    assert "c_hash" not in claims
    # With an access token, the claims come from userinfo, not from the id_token (§5.4).
    assert "email" not in claims and "name" not in claims


def test_no_id_token_without_openid(client, gallery):
    body = code_flow_tokens(client, scope="profile photos.read")
    assert "id_token" not in body


def test_rs256_by_default(client, gallery):
    token = code_flow_tokens(client)["id_token"]
    assert header_of(token)["alg"] == "RS256"
    assert header_of(token)["kid"] == client.app.state.keys.kid
    with pytest.raises(JoseError):
        jwt.decode(
            token,
            client.app.state.keys.public_set,
            algorithms=["ES256"],
        )


def test_es256_for_a_client_that_registered_it(client, gallery, db):
    gallery.id_token_signed_response_alg = "ES256"
    db.add(gallery)
    db.commit()
    token = code_flow_tokens(client)["id_token"]
    header = header_of(token)
    assert header["alg"] == "ES256"
    jwks = client.get("/.well-known/jwks.json").json()["keys"]
    ec = [key for key in jwks if key["kid"] == header["kid"]]
    assert ec and ec[0]["kty"] == "EC" and ec[0]["crv"] == "P-256" and ec[0]["alg"] == "ES256"
    assert verify_id_token(client, token, alg="ES256").claims["nonce"] == "nonce-abc"


def test_es256_implicit_id_token_hashes_with_sha256(client, gallery, db):
    gallery.id_token_signed_response_alg = "ES256"
    db.add(gallery)
    db.commit()
    _, answer = read_answer(run_flow(client, oidc_params("code id_token token")))
    claims = verify_id_token(client, answer["id_token"], alg="ES256").claims
    assert claims["at_hash"] == left_half_sha256(answer["access_token"])
    assert claims["c_hash"] == left_half_sha256(answer["code"])


def test_item_32_id_token_echoes_the_nonce_and_is_never_alg_none(client, gallery):
    _, answer = read_answer(run_flow(client, oidc_params("id_token", nonce="n-0S6_WzA2Mj")))
    assert header_of(answer["id_token"])["alg"] != "none"
    claims = verify_id_token(client, answer["id_token"]).claims
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    # response_type=id_token alone: no access token, so the claims are in the id_token.
    assert claims["name"] == "John"
    assert claims["preferred_username"] == "john"
    assert claims["email"] == "john@mockgram.test"


def test_item_32_at_hash_for_id_token_token_and_c_hash_for_code_id_token(client, gallery):
    _, answer = read_answer(run_flow(client, oidc_params("id_token token")))
    claims = verify_id_token(client, answer["id_token"]).claims
    assert claims["at_hash"] == left_half_sha256(answer["access_token"])
    _, answer = read_answer(run_flow(client, oidc_params("code id_token")))
    claims = verify_id_token(client, answer["id_token"]).claims
    assert claims["c_hash"] == left_half_sha256(answer["code"])
    assert claims["c_hash"] != left_half_sha256(answer["code"] + "x")


def test_a_tampered_id_token_fails_verification(client, gallery):
    _, answer = read_answer(run_flow(client, oidc_params("id_token")))
    head, payload, signature = answer["id_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "2"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(JoseError):
        verify_id_token(client, f"{head}.{forged_payload}.{signature}")


def test_issue_id_token_falls_back_to_rs256_for_an_unknown_alg(client, gallery, db):
    """A client row with a bad alg (never registrable) still gets RS256, never `none`."""
    gallery.id_token_signed_response_alg = "none"
    john = db.exec(select(User)).one()
    state = client.app.state
    provider = Provider(state.settings, state.keys, state.events, state.defences)
    token = issue_id_token(provider, gallery, john, "openid")
    assert header_of(token)["alg"] == "RS256"
    assert "auth_time" not in verify_id_token(client, token).claims


# --- keys ------------------------------------------------------------------------------------


def test_jwks_publishes_one_rsa_and_one_ec_key_with_kid_use_alg(client):
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    assert {(key["kty"], key["alg"], key["use"]) for key in keys} == {
        ("RSA", "RS256", "sig"),
        ("EC", "ES256", "sig"),
    }
    assert len({key["kid"] for key in keys}) == 2


def test_keys_survive_a_restart(mockgram_app):
    first = mockgram_app.state.keys
    again = signing_keys.load_or_create(mockgram_app.state.engine)
    assert again.jwks_json == first.jwks_json
    assert again.ec is not None and again.ec.kid == first.ec.kid


def test_a_database_without_an_ec_key_gets_one_on_start(mockgram_app):
    engine = mockgram_app.state.engine
    with Session(engine) as session:
        for row in session.exec(select(SigningKey).where(SigningKey.alg == "ES256")).all():
            session.delete(row)
        guard = session.get(AppSecret, "first-ec-signing-key")
        if guard is not None:
            session.delete(guard)
        session.commit()
    keys = signing_keys.load_or_create(engine)
    assert keys.ec is not None
    assert keys.kid == mockgram_app.state.keys.kid  # the RSA key is kept
    with Session(engine) as session:
        rows = session.exec(select(SigningKey).where(SigningKey.alg == "ES256")).all()
        assert len(rows) == 1


def test_racing_workers_agree_on_one_ec_key(mockgram_app):
    """The loser of the guard-row race rolls back and reads the winner's key."""
    engine = mockgram_app.state.engine
    winner = signing_keys.load_or_create(engine)
    with Session(engine) as session:
        # A second worker that did not see the row yet: its insert hits the guard and loses.
        signing_keys._create_first(session, signing_keys.ES256)
        rows = session.exec(select(SigningKey).where(SigningKey.alg == "ES256")).all()
    assert [row.kid for row in rows] == [winner.ec.kid]
