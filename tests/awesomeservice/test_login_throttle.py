"""AwesomeService's sign-in throttle (SECURITY.md A6) and trusted proxies (B17), as at Mockgram.

The delays and caps themselves are tested once, on Mockgram (tests/mockgram/test_login_throttle.py);
these tests show the print shop's own password form is guarded by them.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, select

from awesomeservice.models import FailedSignIn
from tests.awesomeservice.conftest import AWESOME_URL, DEMO_PASSWORD, csrf


def attempt(browser: TestClient, username: str = "john", password: str = "wrong"):  # type: ignore[no-untyped-def]
    return browser.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf(browser)}
    )


def age_failures(db: Session, seconds: float) -> None:
    """Move every recorded failure `seconds` into the past (instead of waiting)."""
    db.exec(update(FailedSignIn).values(at=FailedSignIn.at - timedelta(seconds=seconds)))  # type: ignore[call-overload]
    db.commit()


def test_a6_five_failures_are_free_then_even_the_right_password_waits(
    client: TestClient, db: Session
) -> None:
    for _ in range(5):
        assert attempt(client).status_code == 400
    throttled = attempt(client, password=DEMO_PASSWORD)  # right, but too soon
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "1"
    assert "Too many sign-in attempts. Wait 1 second, then try again." in throttled.text
    assert "location" not in throttled.headers  # not signed in
    age_failures(db, 2)
    assert attempt(client, password=DEMO_PASSWORD).status_code == 303  # the wait is over
    assert db.exec(select(FailedSignIn)).all() == []  # a sign-in forgets that address's failures


def test_a6_unknown_and_known_usernames_are_throttled_alike(
    client: TestClient, app: FastAPI
) -> None:
    app.state.settings.demo = False  # the demo hint names john on the sign-in page
    answers = {}
    for username in ("john", "nobody-by-this-name"):
        for _ in range(5):
            assert attempt(client, username).status_code == 400
        response = attempt(client, username)
        answers[username] = (
            response.status_code,
            response.headers.get("retry-after"),
            response.text.replace(username, "NAME"),
        )
    assert answers["john"][0] == 429
    assert answers["john"] == answers["nobody-by-this-name"]  # no enumeration by throttling


def test_a6_stored_failures_hold_no_username_or_address(client: TestClient, db: Session) -> None:
    attempt(client)
    (row,) = db.exec(select(FailedSignIn)).all()
    assert "john" not in row.username_hash and "testclient" not in row.address_hash


def test_a6_throttling_can_be_switched_off(client: TestClient, app: FastAPI) -> None:
    app.state.settings.login_throttle = False
    for _ in range(8):
        assert attempt(client).status_code == 400
    assert attempt(client, password=DEMO_PASSWORD).status_code == 303


def test_b17_x_forwarded_for_from_an_untrusted_peer_is_ignored(client: TestClient) -> None:
    # A client that invents a new address for every try still meets its own delays.
    for n in range(5):
        response = client.post(
            "/login",
            data={"username": "john", "password": "wrong", "csrf_token": csrf(client)},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )
        assert response.status_code == 400
    response = client.post(
        "/login",
        data={"username": "john", "password": "wrong", "csrf_token": csrf(client)},
        headers={"X-Forwarded-For": "203.0.113.99"},
    )
    assert response.status_code == 429


def test_b17_x_forwarded_for_from_a_trusted_proxy_is_honoured(app: FastAPI) -> None:
    # Behind the proxy at 127.0.0.1 (the default forwarded_allow_ips), each client is itself:
    # one client's failures do not slow another who comes through the same proxy.
    with TestClient(
        app, base_url=AWESOME_URL, follow_redirects=False, client=("127.0.0.1", 40000)
    ) as proxy:

        def via_proxy(address: str, password: str = "wrong") -> int:
            data = {"username": "john", "password": password, "csrf_token": csrf(proxy)}
            headers = {"X-Forwarded-For": address}
            return proxy.post("/login", data=data, headers=headers).status_code

        for _ in range(5):
            assert via_proxy("198.51.100.1") == 400
        assert via_proxy("198.51.100.1") == 429
        assert via_proxy("198.51.100.2", DEMO_PASSWORD) == 303
