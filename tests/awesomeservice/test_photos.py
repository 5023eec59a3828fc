"""Step 6: the photo grid, the image proxy, the refused delete, revoked tokens and timeouts."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from awesomeservice.models import MockgramConnection
from shared.clock import utcnow
from tests.awesomeservice.conftest import IMAGE_BYTES, FakeMockgram, connect, csrf, login


def stored(db: Session) -> list[MockgramConnection]:
    db.expire_all()
    return list(db.exec(select(MockgramConnection)).all())


def test_photos_page_lists_the_photos_with_step_6(client: TestClient) -> None:
    login(client)
    connect(client)
    response = client.get("/photos")
    assert response.status_code == 200
    assert "Step 6 of 6" in response.text
    for caption in ("Sunset over the bay", "Coffee", "Mountain hike"):
        assert caption in response.text
    assert 'src="/photos/1/image"' in response.text
    assert 'name="photo_id" value="2"' in response.text
    # One quiet delete button for the whole grid, not a red one on every photo.
    assert response.text.count("/try-delete") == 1
    assert "Try to delete “Sunset over the bay”" in response.text
    assert "button danger" not in response.text
    assert 'src="http://mockgram' not in response.text  # no image URL pointing at Mockgram


def test_photos_without_connection_offers_connect(client: TestClient, fake: FakeMockgram) -> None:
    login(client)
    response = client.get("/photos")
    assert response.status_code == 200
    assert "Connect Mockgram to see your photos" in response.text
    assert 'action="/connect"' in response.text
    assert fake.requests == []


def test_photos_requires_sign_in(client: TestClient) -> None:
    response = client.get("/photos")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fphotos"


def test_image_is_proxied_through_the_back_end(client: TestClient, fake: FakeMockgram) -> None:
    login(client)
    connect(client)
    response = client.get("/photos/2/image")
    assert response.status_code == 200
    assert response.content == IMAGE_BYTES
    assert response.headers["content-type"] == "image/jpeg"
    assert fake.requests[-1].url.path == "/api/photos/2/image"
    assert client.get("/photos/99/image").status_code == 404
    # The grid settles quickly: cached privately, then revalidated by ETag with a 304.
    assert response.headers["cache-control"] == "private, max-age=300"
    etag = response.headers["etag"]
    again = client.get("/photos/2/image", headers={"If-None-Match": f'W/"x", {etag}'})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert client.get("/photos/2/image", headers={"If-None-Match": '"x"'}).status_code == 200


def test_image_needs_sign_in_and_connection(client: TestClient) -> None:
    assert client.get("/photos/1/image").status_code == 401
    login(client)
    assert client.get("/photos/1/image").status_code == 404


def test_try_delete_shows_403_insufficient_scope(client: TestClient, fake: FakeMockgram) -> None:
    login(client)
    connect(client)
    response = client.post("/photos/2/try-delete", data={"csrf_token": csrf(client)})
    assert response.status_code == 200
    assert "403" in response.text
    assert "insufficient_scope" in response.text
    assert "scope=&#34;photos.write&#34;" in response.text  # the WWW-Authenticate header, shown
    assert "AwesomeService asked only for <code>photos.read</code>" in response.text
    assert response.text.count("is safe") == 1  # said once, in the heading
    assert "Step 6 of 6" in response.text
    (delete,) = [r for r in fake.requests if r.method == "DELETE"]
    assert delete.url.path == "/api/photos/2"


def test_try_delete_without_csrf_is_refused(client: TestClient, fake: FakeMockgram) -> None:
    login(client)
    connect(client)
    response = client.post("/photos/2/try-delete", data={})
    assert response.status_code == 403
    assert not [r for r in fake.requests if r.method == "DELETE"]


def test_revoked_token_clears_connection_and_asks_to_reconnect(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    login(client)
    connect(client)
    fake.revoked = True
    response = client.get("/photos")
    assert response.status_code == 401
    assert "revoked or expired" in response.text
    assert "Connect Mockgram again" in response.text
    assert stored(db) == []


def test_revoked_token_on_try_delete_clears_connection(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    login(client)
    connect(client)
    fake.revoked = True
    response = client.post("/photos/1/try-delete", data={"csrf_token": csrf(client)})
    assert "revoked or expired" in response.text
    assert stored(db) == []


def test_locally_expired_token_is_not_sent(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    login(client)
    connect(client)
    (row,) = stored(db)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.add(row)
    db.commit()
    before = len(fake.requests)
    response = client.get("/photos")
    assert "Connect Mockgram" in response.text
    assert len(fake.requests) == before
    assert stored(db) == []


@pytest.mark.parametrize(
    ("failure", "status", "text"),
    [(httpx.ReadTimeout, 504, "did not answer in time"), (httpx.ConnectError, 502, "unreachable")],
)
def test_photos_timeout_gives_friendly_page_and_keeps_connection(
    client: TestClient,
    fake: FakeMockgram,
    db: Session,
    failure: type[Exception],
    status: int,
    text: str,
) -> None:
    login(client)
    connect(client)
    fake.api_failure = failure
    response = client.get("/photos")
    assert response.status_code == status
    assert text in response.text
    assert len(stored(db)) == 1
    assert client.get("/photos/1/image").status_code == status


def test_try_delete_timeout_gives_friendly_page(client: TestClient, fake: FakeMockgram) -> None:
    login(client)
    connect(client)
    fake.api_failure = httpx.ReadTimeout
    response = client.post("/photos/1/try-delete", data={"csrf_token": csrf(client)})
    assert response.status_code == 504
    assert "did not answer in time" in response.text
