"""Mockgram's server-side sessions (shared/sessions.py; SECURITY.md B1, B2, B18, B19).

The cookie names a row in Mockgram's database: ending the row ends every copy of the cookie.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import select

from mockgram.app import SESSION_COOKIE
from mockgram.models import BrowserSession
from tests.mockgram.conftest import ISSUER
from tests.mockgram.oauth_helpers import csrf_from, login


@pytest.fixture
def john(make_user):
    return make_user()


def signed_in_as(browser: TestClient) -> str | None:
    """The @username the navigation shows, if any."""
    match = re.search(r'class="nav-user">@([^<]+)<', browser.get("/login").text)
    return match.group(1) if match else None


def browser_with(app, cookie: str) -> TestClient:
    """Another browser that was handed a copy of a session cookie."""
    return TestClient(
        app, base_url=ISSUER, follow_redirects=False, cookies={SESSION_COOKIE: cookie}
    )


def test_b18_the_cookie_holds_only_a_random_id(client, john, db):
    login(client)
    cookie = client.cookies[SESSION_COOKIE]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", cookie)  # 256 random bits, no data, no signature
    assert "john" not in cookie
    (row,) = db.exec(select(BrowserSession)).all()
    assert row.user_id == john.id
    assert row.id != cookie  # the table keeps an HMAC of the id, not the id itself


def test_b18_a_copied_cookie_is_refused_after_sign_out(client, john, mockgram_app):
    login(client)
    copy = browser_with(mockgram_app, client.cookies[SESSION_COOKIE])
    assert signed_in_as(copy) == "john"  # the copy works while the session lives
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)})
    assert signed_in_as(client) is None
    assert signed_in_as(copy) is None
    assert "My photos" not in copy.get("/").text


def test_b18_sign_out_everywhere_ends_another_browsers_session(
    client, john, make_user, mockgram_app, db
):
    login(client)
    other = TestClient(mockgram_app, base_url=ISSUER, follow_redirects=False)
    login(other)
    jane = TestClient(mockgram_app, base_url=ISSUER, follow_redirects=False)
    make_user("jane")
    login(jane, "jane")
    page = client.get("/")
    assert "Sign out everywhere" in page.text
    response = client.post("/logout/everywhere", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 303
    assert "signed out of Mockgram on every browser" in client.get("/").text
    assert signed_in_as(other) is None
    assert signed_in_as(client) is None
    assert signed_in_as(jane) == "jane"  # someone else's sessions are not touched
    assert db.exec(select(BrowserSession).where(BrowserSession.user_id == john.id)).all() == []


def test_b18_sign_out_everywhere_needs_csrf(client, john, mockgram_app):
    login(client)
    other = TestClient(mockgram_app, base_url=ISSUER, follow_redirects=False)
    login(other)
    assert client.post("/logout/everywhere", data={"csrf_token": "forged"}).status_code == 403
    assert signed_in_as(other) == "john"


def test_b2_the_session_id_changes_at_sign_in(client, john, mockgram_app):
    client.get("/login")  # an anonymous session: its CSRF token
    before = client.cookies[SESSION_COOKIE]
    login(client)
    after = client.cookies[SESSION_COOKIE]
    assert after != before
    # A planted id (session fixation) is worth nothing after the victim signs in with it.
    assert signed_in_as(browser_with(mockgram_app, before)) is None
    assert mockgram_app.state.sessions.peek(before) is None


def test_b19_idle_timeout_ends_the_session(client, john, mockgram_app, move_clock):
    idle = mockgram_app.state.settings.session_idle_seconds
    assert idle == 30 * 60  # the default
    login(client)
    move_clock(timedelta(seconds=idle - 120))
    assert signed_in_as(client) == "john"  # a request within the idle time keeps it alive
    move_clock(timedelta(seconds=idle - 120))
    assert signed_in_as(client) == "john"
    move_clock(timedelta(seconds=idle + 1))
    assert signed_in_as(client) is None


def test_b19_absolute_timeout_ends_even_a_busy_session(client, john, mockgram_app, move_clock):
    absolute = mockgram_app.state.settings.session_absolute_seconds
    assert absolute == 8 * 3600  # the default
    login(client)
    for _ in range(absolute // (20 * 60)):
        assert signed_in_as(client) == "john"
        move_clock(timedelta(minutes=20))  # always active, never idle for long
    move_clock(timedelta(minutes=1))
    assert signed_in_as(client) is None


def test_b19_expired_sessions_are_swept(client, john, mockgram_app, db, move_clock):
    login(client)
    move_clock(timedelta(hours=9))
    TestClient(mockgram_app, base_url=ISSUER).get("/login")  # someone's new session sweeps
    rows = db.exec(select(BrowserSession)).all()
    assert [row.user_id for row in rows] == [None]  # only the newcomer's anonymous one


@pytest.fixture
def session_statements(mockgram_app) -> Iterator[list[str]]:
    """The SQL statements that touch the session table, as they run."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if "browser_session" in statement:
            seen.append(statement.split()[0].upper())

    event.listen(mockgram_app.state.engine, "before_cursor_execute", record)
    yield seen
    event.remove(mockgram_app.state.engine, "before_cursor_execute", record)


def test_a_request_costs_one_read_and_writes_only_on_change(
    client, john, session_statements, move_clock
):
    login(client)
    client.get("/")  # the flash-free page, after the sign-in's redirect
    session_statements.clear()
    client.get("/")
    client.get("/apps")
    assert session_statements == ["SELECT", "SELECT"]
    session_statements.clear()
    move_clock(timedelta(minutes=2))  # a request after a while marks the session as seen
    client.get("/")
    assert session_statements == ["SELECT", "UPDATE"]
    session_statements.clear()
    client.get("/static/shared/style.css")  # static files never read the session
    assert session_statements == []
