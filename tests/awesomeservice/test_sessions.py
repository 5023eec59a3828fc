"""AwesomeService's server-side sessions (shared/sessions.py; SECURITY.md B2, B18, B19)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from awesomeservice.app import SESSION_COOKIE
from awesomeservice.models import BrowserSession, User
from tests.awesomeservice.conftest import (
    AWESOME_URL,
    FakeMockgram,
    csrf,
    log_in_with_mockgram,
    login,
)


def signed_in(browser: TestClient) -> bool:
    """Whether this browser gets a page that needs an account (else: sent to sign in)."""
    return browser.get("/orders").status_code == 200


def copy_of(app: FastAPI, browser: TestClient) -> TestClient:
    """Another browser handed a copy of `browser`'s session cookie."""
    cookies = {SESSION_COOKIE: browser.cookies[SESSION_COOKIE]}
    return TestClient(app, base_url=AWESOME_URL, follow_redirects=False, cookies=cookies)


def test_b18_a_copied_cookie_is_refused_after_sign_out(client: TestClient, app: FastAPI) -> None:
    login(client)
    copy = copy_of(app, client)
    assert signed_in(copy)  # the copy works while the session lives
    client.post("/logout", data={"csrf_token": csrf(client)})
    assert not signed_in(client)
    assert not signed_in(copy)


def test_b18_sign_out_everywhere_ends_another_browsers_session(
    make_client: Callable[[], TestClient], make_user: Callable[..., object], db: Session
) -> None:
    laptop, phone, jane = make_client(), make_client(), make_client()
    login(laptop)
    login(phone)
    make_user("jane", "jane-password")
    login(jane, "jane", "jane-password")
    page = laptop.get("/")
    assert "Sign out everywhere" in page.text
    response = laptop.post("/logout/everywhere", data={"csrf_token": csrf(laptop)})
    assert response.status_code == 303
    assert "signed out of AwesomeService on every browser" in laptop.get("/").text
    assert not signed_in(phone)
    assert not signed_in(laptop)
    assert signed_in(jane)  # someone else's sessions are not touched
    john = db.exec(select(User).where(User.username == "john")).one()
    assert db.exec(select(BrowserSession).where(BrowserSession.user_id == john.id)).all() == []


def test_b18_sign_out_everywhere_needs_csrf(make_client: Callable[[], TestClient]) -> None:
    laptop, phone = make_client(), make_client()
    login(laptop)
    login(phone)
    assert laptop.post("/logout/everywhere", data={"csrf_token": "forged"}).status_code == 403
    assert signed_in(phone)


def test_b2_the_session_id_changes_at_sign_in(client: TestClient, app: FastAPI) -> None:
    csrf(client)  # an anonymous session: its CSRF token
    before = client.cookies[SESSION_COOKIE]
    login(client)
    assert client.cookies[SESSION_COOKIE] != before
    assert app.state.sessions.peek(before) is None  # a planted id is worthless after sign-in


def test_b2_the_session_id_changes_at_log_in_with_mockgram(
    client: TestClient, fake: FakeMockgram
) -> None:
    csrf(client)
    before = client.cookies[SESSION_COOKIE]
    assert log_in_with_mockgram(client, fake).status_code == 303
    assert client.cookies[SESSION_COOKIE] != before
    assert signed_in(client)


def test_b19_idle_timeout_ends_the_session(
    client: TestClient, app: FastAPI, move_clock: Callable[[timedelta], None]
) -> None:
    idle = app.state.settings.session_idle_seconds
    assert idle == 2 * 3600  # the default: longer than Mockgram's 30 minutes
    login(client)
    move_clock(timedelta(seconds=idle - 120))
    assert signed_in(client)  # a request within the idle time keeps it alive
    move_clock(timedelta(seconds=idle - 120))
    assert signed_in(client)
    move_clock(timedelta(seconds=idle + 1))
    assert not signed_in(client)


def test_b19_absolute_timeout_ends_even_a_busy_session(
    client: TestClient, app: FastAPI, move_clock: Callable[[timedelta], None]
) -> None:
    absolute = app.state.settings.session_absolute_seconds
    assert absolute == 24 * 3600  # the default
    login(client)
    for _ in range(absolute // 3600):
        assert signed_in(client)
        move_clock(timedelta(hours=1))  # always active, never idle for long
    move_clock(timedelta(minutes=1))
    assert not signed_in(client)
