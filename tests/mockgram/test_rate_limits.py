"""Rate limits per client address: registrations and pending authorization requests (M10).

Each is counted in the database, per address and hour; past the limit the answer is 429 with
Retry-After and nothing is stored. Rows of windows that are over are swept.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session, func, select

from mockgram import rate_limits
from mockgram.app import create_app
from mockgram.models import AuthorizationRequest, Client, MockgramTable, RateLimitCount, User
from mockgram.settings import MockgramSettings
from shared.clock import utcnow
from shared.db import create_schema, make_engine
from shared.hashing import hash_password, hash_secret
from tests.mockgram.conftest import CLIENT_REDIRECT, ISSUER, PASSWORD, settings_for
from tests.mockgram.oauth_helpers import authorize_params, csrf_from, login

GALLERY = {"client_name": "Gallery", "redirect_uris": ["https://gallery.example/cb"]}
OTHER_ADDRESS = ("198.51.100.7", 50000)


def app_with(mockgram_settings, **limits: int):
    return create_app(mockgram_settings.model_copy(update=limits))


def add_rows(app, *rows) -> None:
    with Session(app.state.engine) as session:
        session.add_all(rows)
        session.commit()


def count(app, model) -> int:
    with Session(app.state.engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def assert_too_many(response) -> int:
    """429 with a Retry-After of at most the window, in seconds (RFC 6585 §4, RFC 9110 §10.2.3)."""
    assert response.status_code == 429, response.text
    wait = int(response.headers["retry-after"])
    assert 0 < wait <= 3600
    return wait


# --- Registrations -----------------------------------------------------------------------------


def test_registrations_past_the_hourly_limit_get_429_and_store_nothing(mockgram_settings):
    app = app_with(mockgram_settings, registrations_per_hour=3)
    with TestClient(app, base_url=ISSUER) as browser:
        for _ in range(3):
            assert browser.post("/oauth/register", json=GALLERY).status_code == 201
        response = browser.post("/oauth/register", json=GALLERY)
        assert_too_many(response)
        assert response.json()["error"] == "temporarily_unavailable"
        assert response.headers["cache-control"] == "no-store"
        assert count(app, Client) == 3
        # Another address has its own allowance.
        with TestClient(app, base_url=ISSUER, client=OTHER_ADDRESS) as elsewhere:
            assert elsewhere.post("/oauth/register", json=GALLERY).status_code == 201


def test_refused_registrations_do_not_use_up_the_limit(mockgram_settings):
    app = app_with(mockgram_settings, registrations_per_hour=2)
    with TestClient(app, base_url=ISSUER) as browser:
        for _ in range(5):
            bad = browser.post("/oauth/register", json={**GALLERY, "redirect_uris": ["http://x/"]})
            assert bad.status_code == 400
        assert browser.post("/oauth/register", json=GALLERY).status_code == 201
        assert browser.post("/oauth/register", json=GALLERY).status_code == 201
        assert browser.post("/oauth/register", json=GALLERY).status_code == 429


def test_the_developer_portal_shares_the_registration_limit(mockgram_settings):
    app = app_with(mockgram_settings, registrations_per_hour=1)
    with TestClient(app, base_url=ISSUER, follow_redirects=False) as browser:
        add_rows(
            app,
            User(
                username="john",
                name="John",
                email="j@x.test",
                password_hash=hash_password(PASSWORD),
            ),
        )
        assert browser.post("/oauth/register", json=GALLERY).status_code == 201
        login(browser)
        page = browser.get("/developers")
        form = {
            "name": "Portal app",
            "redirect_uris": "https://portal.example/cb",
            "client_type": "confidential",
            "scope": "photos.read",
            "csrf_token": csrf_from(page.text),
        }
        response = browser.post("/developers/apps", data=form)
        assert_too_many(response)
        assert "Too many apps registered from your address" in response.text
        assert count(app, Client) == 1


# --- Pending authorization requests ------------------------------------------------------------


def test_authorization_requests_past_the_limit_get_a_429_page_and_store_nothing(
    mockgram_settings,
):
    app = app_with(mockgram_settings, authorization_requests_per_hour=2)
    with TestClient(app, base_url=ISSUER, follow_redirects=False) as browser:
        printshop = Client(
            client_id="printshop",
            name="Printshop",
            secret_hash=hash_secret("printshop-secret"),
            redirect_uris=CLIENT_REDIRECT,
            verified=True,
        )
        add_rows(app, printshop)
        for _ in range(2):
            response = browser.get("/oauth/authorize", params=authorize_params())
            assert response.headers["location"].startswith("/login?")
        response = browser.get("/oauth/authorize", params=authorize_params())
        wait = assert_too_many(response)
        assert "location" not in response.headers  # a page for the person, never a redirect
        assert response.headers["content-type"].startswith("text/html")
        assert "Too many requests from your address" in response.text
        assert f"Try again in {wait} second" in response.text
        assert count(app, AuthorizationRequest) == 2
        with TestClient(app, base_url=ISSUER, follow_redirects=False, client=OTHER_ADDRESS) as b:
            assert b.get("/oauth/authorize", params=authorize_params()).status_code == 303


def test_replicas_share_the_count(tmp_path):
    """Two app processes on one database: the limit is the same for both (no memory of its own)."""
    settings = settings_for(f"sqlite:///{tmp_path / 'mockgram.db'}")
    settings = settings.model_copy(update={"registrations_per_hour": 2})
    first, second = create_app(settings), create_app(settings)
    with TestClient(first, base_url=ISSUER) as one, TestClient(second, base_url=ISSUER) as two:
        assert one.post("/oauth/register", json=GALLERY).status_code == 201
        assert two.post("/oauth/register", json=GALLERY).status_code == 201
        assert one.post("/oauth/register", json=GALLERY).status_code == 429
        assert two.post("/oauth/register", json=GALLERY).status_code == 429


def test_a_limit_of_zero_is_no_limit(db):
    limit = rate_limits.Limit(rate_limits.REGISTRATIONS, 0)
    assert all(rate_limits.take(db, limit, address="192.0.2.1") == 0 for _ in range(50))
    assert db.exec(select(RateLimitCount)).all() == []


# --- The counter itself ------------------------------------------------------------------------


def test_a_new_window_starts_afresh_and_sweeps_the_windows_that_are_over(db):
    limit = rate_limits.Limit(rate_limits.REGISTRATIONS, 2)
    now = utcnow()
    for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        rate_limits.take(db, limit, address=address, now=now)
        rate_limits.take(db, limit, address=address, now=now)
    wait = rate_limits.take(db, limit, address="192.0.2.1", now=now)
    end = rate_limits.window_start(now, limit.window) + limit.window
    assert 0 < wait <= 3600
    assert abs(wait - (end - now).total_seconds()) <= 1
    later = end + timedelta(seconds=1)
    assert rate_limits.take(db, limit, address="192.0.2.1", now=later) == 0
    # The three rows of the window that is over are gone; one row for the new window remains.
    rows = db.exec(select(RateLimitCount)).all()
    assert [(row.count, row.window_end > later) for row in rows] == [(1, True)]


def test_the_address_is_stored_only_as_a_hash(db):
    limit = rate_limits.Limit(rate_limits.AUTHORIZATION_REQUESTS, 5)
    rate_limits.take(db, limit, address="203.0.113.9")
    row = db.exec(select(RateLimitCount)).one()
    assert "203.0.113.9" not in row.address_hash


def test_an_ipv6_address_counts_by_its_64(db):
    limit = rate_limits.Limit(rate_limits.REGISTRATIONS, 2)
    assert rate_limits.take(db, limit, address="2001:db8:1:2::1") == 0
    assert rate_limits.take(db, limit, address="2001:db8:1:2:ffff::9") == 0
    assert rate_limits.take(db, limit, address="2001:db8:1:2::abcd") > 0
    assert rate_limits.take(db, limit, address="2001:db8:1:3::1") == 0  # another /64


@pytest.fixture
def shared_engine(mockgram_database_url, tmp_path):
    """One database several threads really share: a SQLite file, or the PostgreSQL schema."""
    url = mockgram_database_url
    if url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'race.db'}"
    engine = make_engine(url)
    create_schema(engine, MockgramTable.metadata)
    yield engine
    engine.dispose()


def race(engine, limit: rate_limits.Limit, workers: int) -> list[int]:
    """`workers` threads take from one address's counter at the same moment."""
    start = threading.Barrier(workers)
    results: list[int] = []

    def worker() -> None:
        with Session(engine) as session:
            start.wait(timeout=60)
            results.append(rate_limits.take(session, limit, address="192.0.2.50"))

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == workers
    return results


def test_racing_workers_get_no_more_than_the_limit(shared_engine):
    """Eight threads, five places: exactly five get one (one UPDATE guarded by the count)."""
    results = race(shared_engine, rate_limits.Limit(rate_limits.REGISTRATIONS, 5), 8)
    assert results.count(0) == 5


def test_racing_workers_within_the_limit_all_get_through(shared_engine):
    """Starting a window in a crowd: a worker that sees the row appear late still counts in it."""
    for round_ in range(3):
        limit = rate_limits.Limit(f"race-{round_}", 12)
        assert race(shared_engine, limit, 12) == [0] * 12


@pytest.mark.parametrize("setting", ["registrations_per_hour", "authorization_requests_per_hour"])
def test_limits_cannot_be_negative(setting):
    with pytest.raises(ValidationError):
        MockgramSettings(**{setting: -1})


def test_each_new_pending_request_sweeps_those_expired_over_a_day_ago(client, printshop, db):
    """The other half of bounding the table: pending requests nobody finished do not pile up."""
    now = utcnow()
    for request_id, expired_ago in (("old", timedelta(days=2)), ("recent", timedelta(hours=1))):
        db.add(
            AuthorizationRequest(
                id=request_id,
                client_id=printshop.client_id,
                redirect_uri=CLIENT_REDIRECT,
                expires_at=now - expired_ago,
            )
        )
    db.commit()
    assert client.get("/oauth/authorize", params=authorize_params()).status_code == 303
    db.expire_all()
    kept = {row.id for row in db.exec(select(AuthorizationRequest)).all()}
    assert "old" not in kept
    assert "recent" in kept  # still answered "expired" for a day
    assert len(kept) == 2
