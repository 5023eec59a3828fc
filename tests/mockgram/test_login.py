"""Step 2: signing in to Mockgram (checklist items 28, 29, 30, 31)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from mockgram.pages import login as login_module
from tests.mockgram.conftest import PASSWORD
from tests.mockgram.oauth_helpers import authorize_params, csrf_from, login, request_id_from


@pytest.fixture
def john(make_user):
    return make_user()


def signed_in_as(client) -> str | None:
    """The @username the navigation shows, if any."""
    match = re.search(r'class="nav-user">@([^<]+)<', client.get("/login").text)
    return match.group(1) if match else None


def test_login_page_shows_demo_accounts_in_demo_mode(client, mockgram_app):
    response = client.get("/login")
    assert response.status_code == 200
    assert "john" in response.text and "jane" in response.text
    assert mockgram_app.state.settings.demo_password in response.text


def test_login_page_hides_demo_accounts_outside_demo_mode(client, mockgram_app):
    mockgram_app.state.settings.demo = False
    response = client.get("/login")
    assert mockgram_app.state.settings.demo_password not in response.text


def test_login_page_names_the_app_that_is_asking(client, john, make_client):
    make_client("printshop")
    location = client.get("/oauth/authorize", params=authorize_params()).headers["location"]
    response = client.get(location)
    assert "Printshop" in response.text
    assert request_id_from(location) in response.text


def test_login_page_ignores_a_request_id_from_another_browser(
    client, john, make_client, mockgram_app
):
    make_client("printshop")
    location = client.get("/oauth/authorize", params=authorize_params()).headers["location"]
    with TestClient(mockgram_app, base_url=str(client.base_url), follow_redirects=False) as other:
        response = other.get(location)
    assert "Printshop" not in response.text
    assert 'name="request_id"' not in response.text


def test_successful_login_sets_session_and_redirects_with_303(client, john):
    response = login(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert signed_in_as(client) == "john"


def test_login_with_pending_request_goes_to_consent(client, john, make_client):
    make_client("printshop")
    location = client.get("/oauth/authorize", params=authorize_params()).headers["location"]
    request_id = request_id_from(location)
    response = login(client, request_id=request_id)
    assert response.status_code == 303
    assert response.headers["location"] == f"/consent?request_id={request_id}"


def test_wrong_password_and_unknown_user_look_the_same(client, john):
    wrong = login(client, "john", "not the password")
    unknown = login(client, "nobody", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert login_module.LOGIN_FAILED in response.text
        assert "location" not in response.headers
    assert signed_in_as(client) is None


def test_unknown_user_still_spends_a_password_check(client, john, monkeypatch):
    seen: list[object] = []
    real = login_module.verify_password

    def spy(password_hash, password):
        seen.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(login_module, "verify_password", spy)
    login(client, "nobody", "whatever")
    assert seen == [None]  # shared.hashing checks a dummy hash for None


@pytest.mark.parametrize("token", [None, "", "forged-token", "forgé-😀"])
def test_item_28_login_with_missing_or_bad_csrf_is_refused(client, john, token):
    client.get("/login")
    data = {"username": "john", "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/login", data=data)
    assert response.status_code in (400, 403)
    assert "location" not in response.headers
    assert signed_in_as(client) is None


@pytest.mark.parametrize(
    ("next_value", "expected"),
    [
        ("https://evil.example/", "/"),
        ("//evil.example/path", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/apps", "/apps"),
        ("/developers", "/developers"),
    ],
)
def test_item_30_next_is_allowlisted_and_redirect_is_303(client, john, next_value, expected):
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": "john",
            "password": PASSWORD,
            "csrf_token": csrf_from(page.text),
            "next": next_value,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == expected


def test_session_is_rotated_on_login(client, john):
    before = csrf_from(client.get("/login").text)
    login(client)
    after = csrf_from(client.get("/login").text)
    assert before != after


def test_logout_needs_csrf_and_clears_the_session(client, john):
    login(client)
    refused = client.post("/logout", data={"csrf_token": "forged"})
    assert refused.status_code == 400
    assert signed_in_as(client) == "john"
    token = csrf_from(client.get("/login").text)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert signed_in_as(client) is None


def test_item_29_31_login_page_has_security_headers(client):
    for response in (client.get("/login"), client.post("/login", data={})):
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert not re.search(r'(src|href)="(https?:)?//', response.text)


def test_session_cookie_is_httponly_and_samesite_lax(client, john):
    response = login(client)
    assert response.status_code == 303
    set_cookie = response.headers["set-cookie"].lower()
    assert set_cookie.startswith("mockgram_session=")
    assert "httponly" in set_cookie
    assert "samesite=lax" in set_cookie
    assert "secure" not in set_cookie  # plain http issuer in tests; https issuers get Secure


def test_session_cookie_is_secure_when_the_issuer_is_https(mockgram_settings):
    from mockgram.app import create_app

    app = create_app(mockgram_settings.model_copy(update={"issuer": "https://mockgram.test"}))
    with TestClient(app, base_url="https://mockgram.test", follow_redirects=False) as https:
        page = https.get("/login")
        assert "secure" in page.headers["set-cookie"].lower()


@pytest.mark.parametrize("path", ["/login", "/consent", "/developers/apps", "/logout"])
def test_a_cross_site_post_without_cookies_sets_no_session_over_johns(client, john, path):
    # Another site's auto-submitted form arrives without the SameSite=Lax cookie. Answering it
    # must not start a new session: its Set-Cookie would replace (sign out) John's own.
    login(client)
    stranger = TestClient(client.app, base_url=str(client.base_url), follow_redirects=False)
    response = stranger.post(path, data={"username": "john", "password": "x"})
    assert response.status_code in (400, 403)
    assert "set-cookie" not in response.headers
    assert signed_in_as(client) == "john"
