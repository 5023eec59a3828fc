"""After step 5: the Connect token refreshed when it expires (RFC 6749 §6, checklist C9), and
"Disconnect Mockgram" revoking at Mockgram (RFC 7009)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from awesomeservice.models import MockgramConnection
from awesomeservice.settings import AwesomeServiceSettings
from shared.clock import utcnow
from tests.awesomeservice.conftest import FakeMockgram, connect, csrf, login


def stored(db: Session) -> list[MockgramConnection]:
    db.expire_all()
    return list(db.exec(select(MockgramConnection)).all())


def expire(db: Session) -> MockgramConnection:
    (row,) = stored(db)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.add(row)
    db.commit()
    return row


def connected(client: TestClient, fake: FakeMockgram) -> None:
    fake.issue_refresh_token = True
    login(client)
    assert connect(client).status_code == 303


# ── refresh ─────────────────────────────────────────────────────────────────────────────────


def test_expired_token_is_refreshed_transparently(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    connected(client, fake)
    first_access = fake.access_token
    expire(db)
    response = client.get("/photos")
    assert response.status_code == 200
    assert "Coffee" in response.text
    form = fake.token_form()
    assert form["grant_type"] == "refresh_token"
    assert "scope" not in form  # the same scope as granted
    (row,) = stored(db)
    assert row.access_token == fake.access_token != first_access
    assert row.refreshed_at is not None
    assert row.expires_at is not None and row.expires_at.replace(tzinfo=None) > utcnow().replace(
        tzinfo=None
    )
    api = [r for r in fake.requests if r.url.path == "/api/photos"][-1]
    assert api.headers["authorization"] == f"Bearer {fake.access_token}"
    # The refresh call went over the back channel, with client_secret_basic.
    refresh = fake.token_requests[-1]
    assert refresh.url.host == "mockgram.internal"
    assert refresh.headers["authorization"].startswith("Basic ")


def test_c9_refresh_replaces_the_stored_refresh_token(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    connected(client, fake)
    old = fake.refresh_token
    expire(db)
    client.get("/photos")
    (row,) = stored(db)
    assert row.refresh_token == fake.refresh_token != old
    # The next refresh presents the new one (the old one would be reuse: family revoked).
    expire(db)
    assert client.get("/photos").status_code == 200
    refreshes = [f for f in map(fake.token_form, range(len(fake.token_requests)))]
    presented = [f["refresh_token"] for f in refreshes if f["grant_type"] == "refresh_token"]
    assert presented[0] == old and presented[1] != old


def test_unexpired_token_is_not_refreshed(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    connected(client, fake)
    client.get("/photos")
    assert [
        f
        for f in (fake.token_form(i) for i in range(len(fake.token_requests)))
        if f["grant_type"] == "refresh_token"
    ] == []


def test_refresh_refused_asks_to_connect_again(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    connected(client, fake)
    expire(db)
    fake.refresh_error = "invalid_grant"
    response = client.get("/photos")
    assert response.status_code == 401
    assert "could not be renewed" in response.text
    assert "invalid_grant" in response.text
    assert "Connect Mockgram again" in response.text
    assert stored(db) == []


def test_refresh_with_mockgram_down_keeps_the_connection(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    connected(client, fake)
    expire(db)
    fake.token_failure = httpx.ConnectError
    response = client.get("/photos")
    assert response.status_code == 502
    (row,) = stored(db)
    assert row.refresh_claimed_at is None  # released: the next request may try again
    fake.token_failure = None
    assert client.get("/photos").status_code == 200


def test_refresh_already_claimed_by_another_request_is_not_repeated(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    connected(client, fake)
    row = expire(db)
    row.refresh_claimed_at = utcnow()  # another worker is refreshing right now
    db.add(row)
    db.commit()
    before = len(fake.token_requests)
    response = client.get("/photos")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert "being renewed" in response.text
    assert len(fake.token_requests) == before


def test_stale_refresh_claim_is_taken_over(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    connected(client, fake)
    row = expire(db)
    row.refresh_claimed_at = utcnow() - timedelta(minutes=5)  # its worker died
    db.add(row)
    db.commit()
    assert client.get("/photos").status_code == 200


def test_expired_without_refresh_token_asks_to_connect(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    login(client)
    connect(client)  # the fake issues no refresh token here
    expire(db)
    response = client.get("/photos")
    assert "Connect Mockgram" in response.text
    assert stored(db) == []


def test_image_proxy_refreshes_too(client: TestClient, fake: FakeMockgram, db: Session) -> None:
    connected(client, fake)
    expire(db)
    assert client.get("/photos/1/image").status_code == 200


# ── C9: a refreshed id_token keeps iss and sub ──────────────────────────────────────────────


@pytest.fixture
def openid_settings(settings: AwesomeServiceSettings) -> AwesomeServiceSettings:
    settings.scope = "openid photos.read"
    return settings


def connected_with_openid(client: TestClient, fake: FakeMockgram, db: Session) -> None:
    fake.issue_id_token = True
    connected(client, fake)
    (row,) = stored(db)
    assert row.subject == "7"


def test_c9_refreshed_id_token_with_same_iss_and_sub_is_accepted(
    openid_settings: AwesomeServiceSettings, client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    connected_with_openid(client, fake, db)
    expire(db)
    fake.refresh_id_token_overrides = {}
    assert client.get("/photos").status_code == 200
    (row,) = stored(db)
    assert row.subject == "7" and row.access_token == fake.access_token


def test_c9_refreshed_id_token_with_another_sub_is_refused(
    openid_settings: AwesomeServiceSettings, client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    connected_with_openid(client, fake, db)
    expire(db)
    fake.refresh_id_token_overrides = {"sub": "8"}
    response = client.get("/photos")
    assert response.status_code == 401
    assert "sub_changed" in response.text
    assert stored(db) == []  # nothing from that answer was kept


def test_c9_refreshed_id_token_with_another_iss_is_refused(
    openid_settings: AwesomeServiceSettings, client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    connected_with_openid(client, fake, db)
    expire(db)
    fake.refresh_id_token_overrides = {"iss": "http://evil.test"}
    response = client.get("/photos")
    assert response.status_code == 401
    assert "iss_mismatch" in response.text
    assert stored(db) == []


# ── Disconnect: RFC 7009 ────────────────────────────────────────────────────────────────────


def test_disconnect_revokes_refresh_then_access_token_and_forgets(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    connected(client, fake)
    access, refresh = fake.access_token, fake.refresh_token
    response = client.post("/connect/disconnect", data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    assert fake.revoked_tokens == [("refresh_token", refresh), ("access_token", access)]
    revokes = fake.requests_to("/oauth/revoke")
    assert all(r.url.host == "mockgram.internal" for r in revokes)
    assert all(r.headers["authorization"].startswith("Basic ") for r in revokes)
    assert stored(db) == []
    page = client.get("/").text
    assert "Mockgram revoked the refresh token and the access token" in page
    assert "RFC 7009" in page


def test_disconnect_with_mockgram_unreachable_forgets_locally_and_says_so(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    connected(client, fake)
    fake.revoke_failure = httpx.ConnectError
    response = client.post("/connect/disconnect", data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    assert stored(db) == []
    page = client.get("/").text
    assert "could not be reached" in page
    assert "deleted here anyway" in page


def test_disconnect_when_mockgram_refuses_says_so(
    client: TestClient, fake: FakeMockgram, db: Session, settings: AwesomeServiceSettings
) -> None:
    connected(client, fake)
    settings.client_secret = "changed-secret"  # Mockgram now answers 401 invalid_client
    client.post("/connect/disconnect", data={"csrf_token": csrf(client)})
    assert stored(db) == []
    assert "did not confirm the revocation" in client.get("/").text


def test_disconnect_without_revocation_endpoint(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    connected(client, fake)
    fake.metadata_overrides = {"revocation_endpoint": None}
    client.app.state.discovery.forget()  # type: ignore[attr-defined]
    client.post("/connect/disconnect", data={"csrf_token": csrf(client)})
    assert stored(db) == []
    assert fake.requests_to("/oauth/revoke") == []
    assert "offers no revocation endpoint" in client.get("/").text


def test_disconnect_needs_csrf(client: TestClient, fake: FakeMockgram, db: Session) -> None:
    connected(client, fake)
    assert client.post("/connect/disconnect", data={}).status_code == 403
    assert len(stored(db)) == 1
    assert fake.requests_to("/oauth/revoke") == []
