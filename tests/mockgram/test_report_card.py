"""The client report card (mockgram/report_card.py): each row passes and fails on real requests."""

from __future__ import annotations

import secrets

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from mockgram.report_card import CHECKS, UnknownClient, report_card
from tests.mockgram.oauth_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    authorize_params,
    get_code,
    redeem,
)
from tests.mockgram.token_helpers import code_grant, refresh, revoke


@pytest.fixture
def printshop(make_client, make_user):
    """John, and `printshop`: confidential, Basic authentication, may ask for OpenID Connect."""
    make_user()
    return make_client(scopes="openid photos.read photos.write")[0]


def grades(app: FastAPI) -> dict[str, tuple[str, str]]:
    """The card's rows as {check: (status, detail)}."""
    with Session(app.state.engine) as session:
        card = report_card(session, CLIENT_ID)
    return {row["id"]: (row["status"], row["detail"]) for row in card["checks"]}


def status(app: FastAPI, check: str) -> str:
    return grades(app)[check][0]


def fresh_state() -> str:
    return secrets.token_urlsafe(32)


def authorize(client: TestClient, **overrides: str | None) -> None:
    client.get("/oauth/authorize", params=authorize_params(**overrides))


def test_a_client_with_no_requests_has_every_row_not_seen(printshop, mockgram_app: FastAPI) -> None:
    assert {check: row[0] for check, row in grades(mockgram_app).items()} == {
        check.id: "not_seen" for check in CHECKS
    }


def test_an_unknown_client_has_no_card(mockgram_app: FastAPI) -> None:
    with Session(mockgram_app.state.engine) as session, pytest.raises(UnknownClient):
        report_card(session, "nobody")


def test_every_row_names_its_rfc_line(printshop, mockgram_app: FastAPI) -> None:
    with Session(mockgram_app.state.engine) as session:
        rows = report_card(session, CLIENT_ID)["checks"]
    assert all(row["rfc"].startswith(("RFC ", "OIDC ")) and row["rfc_url"] for row in rows)


# ── state ───────────────────────────────────────────────────────────────────────────────────


def test_state_passes_when_fresh_and_unguessable(client, printshop, mockgram_app) -> None:
    authorize(client, state=fresh_state())
    authorize(client, state=fresh_state())
    assert status(mockgram_app, "state") == "pass"


def test_state_fails_when_guessable(client, printshop, mockgram_app) -> None:
    authorize(client, state="state-123")
    verdict, detail = grades(mockgram_app)["state"]
    assert verdict == "fail" and "guessable" in detail


def test_state_fails_when_reused(client, printshop, mockgram_app) -> None:
    state = fresh_state()
    authorize(client, state=state)
    authorize(client, state=state)
    verdict, detail = grades(mockgram_app)["state"]
    assert verdict == "fail" and "same state" in detail


def test_state_fails_when_missing(client, printshop, mockgram_app) -> None:
    authorize(client, state=None)
    verdict, detail = grades(mockgram_app)["state"]
    assert verdict == "fail" and "no state" in detail


# ── PKCE ────────────────────────────────────────────────────────────────────────────────────


def test_pkce_passes_with_s256(client, printshop, mockgram_app) -> None:
    authorize(client)
    assert status(mockgram_app, "pkce") == "pass"


def test_pkce_fails_with_plain(client, printshop, mockgram_app) -> None:
    authorize(client, code_challenge="a" * 43, code_challenge_method="plain")
    verdict, detail = grades(mockgram_app)["pkce"]
    assert verdict == "fail" and "plain" in detail


def test_pkce_fails_when_missing(client, printshop, mockgram_app) -> None:
    authorize(client, code_challenge=None, code_challenge_method=None)
    verdict, detail = grades(mockgram_app)["pkce"]
    assert verdict == "fail" and "no code_challenge" in detail


# ── nonce ───────────────────────────────────────────────────────────────────────────────────


def test_nonce_passes_when_openid_requests_carry_one(client, printshop, mockgram_app) -> None:
    authorize(client, scope="openid photos.read", nonce=fresh_state())
    authorize(client, scope="photos.read")  # plain OAuth: no nonce needed
    assert status(mockgram_app, "nonce") == "pass"


def test_nonce_fails_when_an_openid_request_has_none(client, printshop, mockgram_app) -> None:
    authorize(client, scope="openid photos.read")
    assert status(mockgram_app, "nonce") == "fail"


# ── redirect_uri ────────────────────────────────────────────────────────────────────────────


def test_redirect_uri_passes_when_exactly_registered(client, printshop, mockgram_app) -> None:
    assert redeem(client, get_code(client)["code"]).status_code == 200
    assert status(mockgram_app, "redirect_uri") == "pass"


def test_redirect_uri_fails_with_a_trailing_slash(client, printshop, mockgram_app) -> None:
    authorize(client, redirect_uri="http://client.test/callback/")
    verdict, detail = grades(mockgram_app)["redirect_uri"]
    assert verdict == "fail" and "http://client.test/callback/ is not registered" in detail


def test_redirect_uri_fails_when_left_out(client, printshop, mockgram_app) -> None:
    authorize(client, redirect_uri=None)
    assert status(mockgram_app, "redirect_uri") == "fail"


# ── client authentication ───────────────────────────────────────────────────────────────────


def test_client_auth_passes_with_the_registered_method(client, printshop, mockgram_app) -> None:
    assert redeem(client, get_code(client)["code"]).status_code == 200  # Basic, as registered
    assert status(mockgram_app, "client_auth") == "pass"


def test_client_auth_fails_with_another_method(client, printshop, mockgram_app) -> None:
    code = get_code(client)["code"]
    answer = redeem(client, code, auth=None, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    assert answer.status_code == 200  # Mockgram accepts it; the card still says so
    verdict, detail = grades(mockgram_app)["client_auth"]
    assert verdict == "fail" and "client secret post, registered client_secret_basic" in detail


# ── tokens out of URLs ──────────────────────────────────────────────────────────────────────


def test_token_in_query_passes_with_the_header(client, printshop, mockgram_app) -> None:
    token = code_grant(client)["access_token"]
    client.get("/api/photos", headers={"Authorization": f"Bearer {token}"})
    assert status(mockgram_app, "token_in_query") == "pass"


def test_token_in_query_fails_with_a_token_in_the_url(client, printshop, mockgram_app) -> None:
    token = code_grant(client)["access_token"]
    client.get("/api/photos", params={"access_token": token})
    verdict, detail = grades(mockgram_app)["token_in_query"]
    assert verdict == "fail" and "access_token in the query string" in detail


# ── refresh token rotation ──────────────────────────────────────────────────────────────────


def test_refresh_rotation_passes_when_the_newest_token_is_used(
    client, printshop, mockgram_app
) -> None:
    first = code_grant(client)["refresh_token"]
    second = refresh(client, first).json()["refresh_token"]
    assert refresh(client, second).status_code == 200
    assert status(mockgram_app, "refresh_rotation") == "pass"


def test_refresh_rotation_fails_when_a_used_token_comes_back(
    client, printshop, mockgram_app
) -> None:
    first = code_grant(client)["refresh_token"]
    assert refresh(client, first).status_code == 200
    assert refresh(client, first).status_code == 400
    verdict, detail = grades(mockgram_app)["refresh_rotation"]
    assert verdict == "fail" and "already-used refresh token" in detail


# ── revocation on logout ────────────────────────────────────────────────────────────────────


def test_revocation_passes_when_the_client_revokes(client, printshop, mockgram_app) -> None:
    assert revoke(client, code_grant(client)["refresh_token"]).status_code == 200
    assert status(mockgram_app, "revocation") == "pass"


def test_revocation_fails_when_no_revocation_is_accepted(client, printshop, mockgram_app) -> None:
    token = code_grant(client)["refresh_token"]
    assert revoke(client, token, auth=(CLIENT_ID, "wrong-secret")).status_code == 401
    verdict, detail = grades(mockgram_app)["revocation"]
    assert verdict == "fail" and "401 invalid_client" in detail
