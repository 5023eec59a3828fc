"""Sign-in throttling (checklist item 34): growing delays, per account and per address, alike
for known and unknown usernames, and no easy way for a stranger to lock John out.

Time is never slept: failures are recorded with explicit timestamps, or moved into the past."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, select

from mockgram import activity, login_throttle
from mockgram.models import FailedSignIn
from shared.clock import utcnow
from tests.mockgram.conftest import ISSUER, PASSWORD
from tests.mockgram.oauth_helpers import login

TEST_CLIENT_ADDRESS = "testclient"  # what Starlette's TestClient reports as request.client


@pytest.fixture
def john(make_user):
    return make_user()


def age_failures(db: Session, seconds: float) -> None:
    """Move every recorded failure `seconds` into the past (instead of waiting)."""
    db.exec(update(FailedSignIn).values(at=FailedSignIn.at - timedelta(seconds=seconds)))  # type: ignore[call-overload]
    db.commit()


def test_item_34_five_failures_are_free_then_even_the_right_password_waits(client, john, db):
    for _ in range(5):
        assert login(client, password="wrong").status_code == 401
    throttled = login(client, password=PASSWORD)  # right, but too soon
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "1"
    assert "Too many sign-in attempts. Wait 1 second, then try again." in throttled.text
    assert "location" not in throttled.headers  # not signed in
    age_failures(db, 2)
    assert login(client, password=PASSWORD).status_code == 303  # the wait is over


def test_item_34_delays_grow_and_are_capped(db):
    now = utcnow()
    waits = []
    for n in range(1, 16):
        login_throttle.record_failure(db, username="john", address="198.51.100.7", now=now)
        waits.append(
            login_throttle.wait_seconds(db, username="john", address="198.51.100.7", now=now)
        )
    assert waits[:4] == [0, 0, 0, 0]
    assert waits[4:10] == [1, 2, 4, 8, 16, 32]  # doubling after the fifth failure
    assert max(waits) == login_throttle.MAX_DELAY_SECONDS  # capped at five minutes
    later = now + timedelta(seconds=login_throttle.MAX_DELAY_SECONDS)
    assert login_throttle.wait_seconds(db, username="john", address="198.51.100.7", now=later) == 0


def test_item_34_unknown_and_known_usernames_are_throttled_alike(client, john, mockgram_app):
    mockgram_app.state.settings.demo = False  # the demo hint names john on every page
    answers = {}
    for username in ("john", "nobody-by-this-name"):
        for _ in range(5):
            assert login(client, username=username, password="wrong").status_code == 401
        response = login(client, username=username, password="wrong")
        answers[username] = (
            response.status_code,
            response.headers.get("retry-after"),
            response.text.replace(username, "NAME"),
        )
    assert answers["john"][0] == 429
    assert answers["john"] == answers["nobody-by-this-name"]  # no enumeration by throttling


def test_item_34_a_stranger_at_another_address_does_not_slow_john(client, john, db):
    now = utcnow()
    for _ in range(30):
        login_throttle.record_failure(db, username="john", address="203.0.113.9", now=now)
    assert login_throttle.wait_seconds(db, username="john", address="203.0.113.9") > 0
    assert login(client, password=PASSWORD).status_code == 303  # John, from his own address


def test_item_34_password_spraying_from_one_address_is_slowed(client, make_user, db):
    make_user("jane")
    now = utcnow()
    # Six past the free ones: a wait of a minute, so a slow machine cannot outlast it.
    for n in range(login_throttle.FREE_PER_ADDRESS + 6):
        login_throttle.record_failure(db, username=f"user{n}", address=TEST_CLIENT_ADDRESS, now=now)
    response = login(client, username="jane", password=PASSWORD)  # a fresh username, same address
    assert response.status_code == 429


def test_item_34_a_hundred_strangers_cannot_lock_john_out_of_his_own_address(client, john, db):
    assert login(client, password=PASSWORD).status_code == 303  # John, as on any other day
    client.cookies.clear()
    now = utcnow()
    for n in range(login_throttle.MAX_PER_ACCOUNT_AN_HOUR):
        login_throttle.record_failure(db, username="john", address=f"192.0.2.{n}", now=now)
    # A new address meets the account's hourly cap; John's own does not.
    assert login_throttle.wait_seconds(db, username="john", address="198.51.100.1") > 0
    assert login(client, password=PASSWORD).status_code == 303


def test_item_34_at_most_a_hundred_failures_an_hour_per_account(db):
    now = utcnow()
    for n in range(login_throttle.MAX_PER_ACCOUNT_AN_HOUR):
        # From a hundred addresses, each below its own limit.
        login_throttle.record_failure(db, username="john", address=f"192.0.2.{n}", now=now)
    assert login_throttle.wait_seconds(db, username="john", address="192.0.2.250", now=now) > 0
    in_an_hour = now + timedelta(hours=1, seconds=1)
    assert (
        login_throttle.wait_seconds(db, username="john", address="192.0.2.250", now=in_an_hour) == 0
    )


def test_item_34_a_successful_sign_in_forgets_that_addresss_failures(client, john, db):
    for _ in range(4):
        assert login(client, password="wrong").status_code == 401
    assert login(client, password=PASSWORD).status_code == 303
    assert db.exec(select(FailedSignIn)).all() == []


def test_item_34_stored_failures_hold_no_username_or_address(client, john, db):
    assert login(client, username="john", password="wrong").status_code == 401
    (row,) = db.exec(select(FailedSignIn)).all()
    assert "john" not in row.username_hash and TEST_CLIENT_ADDRESS not in row.address_hash


def test_item_34_old_failures_are_dropped(db):
    old = utcnow() - timedelta(hours=2)
    login_throttle.record_failure(db, username="john", address="a", now=old)
    login_throttle.record_failure(db, username="john", address="a")
    assert len(db.exec(select(FailedSignIn).where(col(FailedSignIn.at) > old)).all()) == 1
    assert len(db.exec(select(FailedSignIn)).all()) == 1


def test_item_34_throttling_can_be_switched_off(client, john, mockgram_app):
    mockgram_app.state.settings.login_throttle = False
    for _ in range(8):
        assert login(client, password="wrong").status_code == 401
    assert login(client, password=PASSWORD).status_code == 303


def test_item_34_johns_activity_page_says_his_sign_ins_were_slowed(client, john, db):
    for _ in range(5):
        login(client, password="wrong")
    kinds = [event.kind for event in activity.recent(db, john.id)]
    assert kinds.count(activity.LOGIN_FAILED) == 5
    assert kinds.count(activity.LOGIN_THROTTLED) == 1  # from the fifth failure on
    assert login(client, password="wrong").status_code == 429  # refused unchecked: not recorded
    assert [e.kind for e in activity.recent(db, john.id)].count(activity.LOGIN_FAILED) == 5


def test_b17_x_forwarded_for_from_an_untrusted_peer_is_ignored(client, john):
    # A client that invents a new address for every try still meets its own delays.
    for n in range(5):
        client.headers["X-Forwarded-For"] = f"203.0.113.{n}"
        assert login(client, password="wrong").status_code == 401
    client.headers["X-Forwarded-For"] = "203.0.113.99"
    assert login(client, password="wrong").status_code == 429


def test_b17_x_forwarded_for_from_a_trusted_proxy_is_honoured(john, mockgram_app):
    # Behind the proxy at 127.0.0.1 (the default forwarded_allow_ips), each client is itself:
    # one client's failures do not slow another who comes through the same proxy.
    with TestClient(
        mockgram_app, base_url=ISSUER, follow_redirects=False, client=("127.0.0.1", 40000)
    ) as proxy:
        proxy.headers["X-Forwarded-For"] = "198.51.100.1"
        for _ in range(5):
            assert login(proxy, password="wrong").status_code == 401
        assert login(proxy, password="wrong").status_code == 429
        proxy.headers["X-Forwarded-For"] = "198.51.100.2"
        assert login(proxy).status_code == 303


def test_b17_no_trusted_proxy_means_the_peer_address_is_used(john, mockgram_settings):
    from mockgram.app import create_app

    app = create_app(mockgram_settings.model_copy(update={"forwarded_allow_ips": ""}))
    with TestClient(
        app, base_url=ISSUER, follow_redirects=False, client=("127.0.0.1", 40000)
    ) as peer:
        peer.headers["X-Forwarded-For"] = "198.51.100.1"
        for _ in range(5):
            assert login(peer, password="wrong").status_code == 401
        peer.headers["X-Forwarded-For"] = "198.51.100.2"
        assert login(peer, password="wrong").status_code == 429
