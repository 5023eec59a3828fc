"""prompt, max_age and login_hint (OIDC Core §3.1.2.1, §3.1.2.6; checklist item 11)."""

from __future__ import annotations

import time

import pytest
from sqlmodel import select

from mockgram.models import AuthorizationRequest, Client
from mockgram.pages import login as login_page
from tests.mockgram.oauth_helpers import consent, csrf_from, login, request_id_from
from tests.mockgram.oidc_helpers import (
    oidc_params,
    read_answer,
    register_gallery,
    run_flow,
    verify_id_token,
)


@pytest.fixture
def gallery(make_client, make_user, db) -> Client:
    make_user()
    make_user("jane")
    return register_gallery(make_client, db, "openid profile photos.read")


def params(response_type: str = "code", **overrides: str | None) -> dict[str, str]:
    return oidc_params(response_type, scope="openid profile", **overrides)


def authorize(client, **overrides: str | None):
    return client.get("/oauth/authorize", params=params(**overrides))


def sign_in_long_ago(client, monkeypatch, seconds: int = 3600) -> None:
    """Sign John in with an auth_time `seconds` in the past (no sleeping)."""
    real = int(time.time())
    monkeypatch.setattr(login_page, "epoch_seconds", lambda: real - seconds)
    assert login(client).status_code == 303
    monkeypatch.undo()


def allow_once(client) -> None:
    """Run one full flow so John's consent for gallery is remembered."""
    assert read_answer(run_flow(client, params()))[1].get("code")


# --- prompt=none ------------------------------------------------------------------------------


def test_item_11_prompt_none_without_a_session_is_login_required(client, gallery, db):
    mode, answer = read_answer(authorize(client, prompt="none"))
    assert (mode, answer["error"]) == ("query", "login_required")
    assert answer["state"] == "state-xyz"
    assert db.exec(select(AuthorizationRequest)).first() is None


def test_prompt_none_errors_follow_the_response_mode(client, gallery):
    mode, answer = read_answer(authorize(client, response_type="id_token token", prompt="none"))
    assert (mode, answer["error"]) == ("fragment", "login_required")


def test_prompt_none_signed_in_without_consent_is_consent_required(client, gallery):
    login(client)
    mode, answer = read_answer(authorize(client, prompt="none"))
    assert answer["error"] == "consent_required"


def test_prompt_none_signed_in_with_consent_answers_at_once(client, gallery):
    allow_once(client)
    mode, answer = read_answer(authorize(client, response_type="id_token token", prompt="none"))
    assert mode == "fragment"
    assert {"access_token", "id_token", "state", "iss"} <= set(answer)
    assert verify_id_token(client, answer["id_token"]).claims["nonce"] == "nonce-abc"


def test_prompt_none_with_too_old_a_sign_in_is_login_required(client, gallery, monkeypatch):
    sign_in_long_ago(client, monkeypatch)
    allow_once(client)
    mode, answer = read_answer(authorize(client, prompt="none", max_age="60"))
    assert answer["error"] == "login_required"


def test_prompt_none_for_another_account_is_login_required(client, gallery):
    allow_once(client)
    mode, answer = read_answer(authorize(client, prompt="none", login_hint="jane"))
    assert answer["error"] == "login_required"


@pytest.mark.parametrize("prompt", ["none login", "none consent", "select_account", "bogus"])
def test_bad_prompt_values_are_invalid_request(client, gallery, prompt):
    mode, answer = read_answer(authorize(client, prompt=prompt))
    assert answer["error"] == "invalid_request"
    assert "prompt" in answer["error_description"]


# --- prompt=login -----------------------------------------------------------------------------


def test_item_11_prompt_login_forces_a_new_login_even_with_a_session(client, gallery, db):
    allow_once(client)
    response = authorize(client, prompt="login")
    location = response.headers["location"]
    assert location.startswith("/login?")
    request_id = request_id_from(location)
    # The consent page will not let him skip it.
    skipped = client.get("/consent", params={"request_id": request_id})
    assert skipped.headers["location"].startswith("/login?")
    page = client.get(location)
    assert "please sign in again" in page.text
    response = login(client, request_id=request_id)
    assert response.headers["location"].startswith("/consent?")
    # Consent is remembered: straight back to the app with a code.
    mode, answer = read_answer(client.get(response.headers["location"]))
    assert answer["code"]


def test_prompt_login_in_the_same_second_as_the_last_sign_in_still_asks(client, gallery):
    login(client)
    response = authorize(client, prompt="login")
    assert response.headers["location"].startswith("/login?")


# --- prompt=consent ---------------------------------------------------------------------------


def test_prompt_consent_shows_the_page_even_when_remembered(client, gallery):
    allow_once(client)
    assert read_answer(authorize(client))[1]["code"]  # remembered: no page
    response = authorize(client, prompt="consent")
    location = response.headers["location"]
    assert location.startswith("/consent?")
    page = client.get(location)
    assert page.status_code == 200
    assert "Know who you are" in page.text
    answer = read_answer(consent(client, request_id_from(location)))[1]
    assert answer["code"]


# --- max_age ----------------------------------------------------------------------------------


def test_item_11_max_age_exceeded_forces_a_new_login_and_auth_time_is_fresh(
    client, gallery, monkeypatch
):
    sign_in_long_ago(client, monkeypatch)
    allow_once(client)
    before = int(time.time())
    response = authorize(client, response_type="id_token", max_age="300")
    location = response.headers["location"]
    assert location.startswith("/login?")
    response = login(client, request_id=request_id_from(location))
    mode, answer = read_answer(client.get(response.headers["location"]))
    claims = verify_id_token(client, answer["id_token"]).claims
    assert claims["auth_time"] >= before  # required with max_age, and fresh


def test_max_age_not_exceeded_needs_no_login(client, gallery, monkeypatch):
    sign_in_long_ago(client, monkeypatch, seconds=30)
    allow_once(client)
    mode, answer = read_answer(authorize(client, response_type="id_token", max_age="3600"))
    claims = verify_id_token(client, answer["id_token"]).claims
    assert int(time.time()) - claims["auth_time"] >= 29


def test_max_age_zero_is_like_prompt_login(client, gallery):
    allow_once(client)
    assert authorize(client, max_age="0").headers["location"].startswith("/login?")


@pytest.mark.parametrize("max_age", ["-1", "ten", "1.5", "١٢"])
def test_bad_max_age_is_invalid_request(client, gallery, max_age):
    assert read_answer(authorize(client, max_age=max_age))[1]["error"] == "invalid_request"


def test_huge_max_age_is_capped_not_refused(client, gallery, db):
    response = authorize(client, max_age="9" * 30)
    assert response.headers["location"].startswith("/login?")
    assert db.exec(select(AuthorizationRequest)).one().max_age == 2**31 - 1


# --- login_hint -------------------------------------------------------------------------------


def test_login_hint_prefills_the_username(client, gallery):
    location = authorize(client, login_hint="jane").headers["location"]
    page = client.get(location)
    assert 'name="username" value="jane"' in page.text


def test_login_hint_is_escaped(client, gallery):
    location = authorize(client, login_hint='"><b>x').headers["location"]
    page = client.get(location)
    assert '"><b>x' not in page.text


def test_login_hint_naming_someone_else_brings_back_the_login_page(client, gallery):
    allow_once(client)  # John is signed in
    location = authorize(client, login_hint="jane").headers["location"]
    assert location.startswith("/login?")
    page = client.get(location)
    data = {
        "username": "jane",
        "password": "correct horse battery staple",
        "csrf_token": csrf_from(page.text),
        "request_id": request_id_from(location),
    }
    response = client.post("/login", data=data)
    assert response.headers["location"].startswith("/consent?")
    assert client.get(response.headers["location"]).status_code == 200  # Jane's own question


def test_login_hint_for_the_signed_in_user_changes_nothing(client, gallery):
    allow_once(client)
    assert read_answer(authorize(client, login_hint="john"))[1]["code"]
