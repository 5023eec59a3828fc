"""Step 6 — the photos API: the owner's photos only, and scope decides reading from writing."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlmodel import select

from mockgram.models import Photo, User
from mockgram.uploads import MAX_UPLOAD_BYTES
from shared.clock import utcnow
from tests.mockgram.conftest import ISSUER
from tests.mockgram.resource_helpers import add_photo, bearer, issue, photo_count, tiny_image


def without_ref(body: dict[str, str]) -> dict[str, str]:
    """A JSON error with its error_uri cut before `?ref=`, the per-request reference."""
    return {**body, "error_uri": body["error_uri"].split("?")[0]}


@pytest.fixture
def john(make_user) -> User:
    return make_user("john")


@pytest.fixture
def jane(make_user) -> User:
    return make_user("jane")


@pytest.fixture
def read_token(db, mockgram_app, make_client, john) -> str:
    make_client()
    return issue(db, mockgram_app, john, scope="photos.read")


def test_list_returns_only_the_owners_photos_newest_first(
    client, db, john, jane, read_token
) -> None:
    old = add_photo(db, john, "old", utcnow() - timedelta(days=30))
    new = add_photo(db, john, "new", utcnow() - timedelta(days=1))
    add_photo(db, jane, "jane's")
    response = client.get("/api/photos", headers=bearer(read_token))
    assert response.status_code == 200
    photos = response.json()["photos"]
    assert [p["id"] for p in photos] == [new.id, old.id]
    assert photos[0] == {
        "id": new.id,
        "caption": "new",
        "taken_at": photos[0]["taken_at"],
        "width": 8,
        "height": 6,
        "content_type": "image/jpeg",
        "image_url": f"{ISSUER}/api/photos/{new.id}/image",
    }
    assert photos[0]["taken_at"].endswith("+00:00")


def test_get_one_photo_and_its_image(client, db, john, read_token) -> None:
    photo = add_photo(db, john, "the cat")
    response = client.get(f"/api/photos/{photo.id}", headers=bearer(read_token))
    assert response.status_code == 200
    assert response.json()["caption"] == "the cat"
    image = client.get(f"/api/photos/{photo.id}/image", headers=bearer(read_token))
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/jpeg"
    assert image.headers["cache-control"].startswith("private")
    assert image.content == photo.image
    assert Image.open(io.BytesIO(image.content)).size == (8, 6)
    # Revalidation: the same ETag gets 304 and no bytes; a stale one gets the image again.
    etag = image.headers["etag"]
    again = client.get(
        f"/api/photos/{photo.id}/image", headers={**bearer(read_token), "If-None-Match": etag}
    )
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    stale = client.get(
        f"/api/photos/{photo.id}/image", headers={**bearer(read_token), "If-None-Match": '"x"'}
    )
    assert stale.status_code == 200 and stale.content == photo.image


def test_item_27_johns_token_on_janes_photo_is_not_found(
    client, db, mockgram_app, john, jane, read_token
) -> None:
    janes = add_photo(db, jane, "private")
    write = issue(db, mockgram_app, john, scope="photos.read photos.write")
    missing = client.get("/api/photos/999999", headers=bearer(read_token))
    for response in (
        client.get(f"/api/photos/{janes.id}", headers=bearer(read_token)),
        client.get(f"/api/photos/{janes.id}/image", headers=bearer(read_token)),
        client.delete(f"/api/photos/{janes.id}", headers=bearer(write)),
    ):
        assert response.status_code == 404
        # The same answer as for a photo that does not exist: nothing to learn (only the
        # error_uri's reference to this very request differs).
        assert without_ref(response.json()) == without_ref(missing.json())
        assert response.json()["error"] == "not_found"
    assert photo_count(db) == 1


@pytest.mark.parametrize("raw", ["abc", "1.5", "-1", "1e3", "%20", "99999999999999999999999"])
def test_non_integer_id_is_json_404_not_422(client, read_token, raw: str) -> None:
    for path in (f"/api/photos/{raw}", f"/api/photos/{raw}/image"):
        response = client.get(path, headers=bearer(read_token))
        assert response.status_code == 404, path
        assert response.json()["error"] == "not_found"


def test_item_27_read_token_cannot_delete_or_upload_and_the_photo_stays(
    client, db, john, read_token
) -> None:
    photo = add_photo(db, john)
    deleted = client.delete(f"/api/photos/{photo.id}", headers=bearer(read_token))
    assert deleted.status_code == 403
    assert deleted.json()["error"] == "insufficient_scope"
    assert 'scope="photos.write"' in deleted.headers["www-authenticate"]
    posted = client.post(
        "/api/photos",
        headers=bearer(read_token),
        files={"file": ("x.jpg", tiny_image(), "image/jpeg")},
        data={"caption": "sneaky"},
    )
    assert posted.status_code == 403
    assert posted.json()["error"] == "insufficient_scope"
    assert photo_count(db) == 1
    assert client.get(f"/api/photos/{photo.id}", headers=bearer(read_token)).status_code == 200


def test_write_token_can_upload_and_delete(client, db, mockgram_app, make_client, john) -> None:
    make_client()
    write = issue(db, mockgram_app, john, scope="photos.write")
    read = issue(db, mockgram_app, john, scope="photos.read")
    response = client.post(
        "/api/photos",
        headers=bearer(write),
        files={"file": ("p.png", tiny_image("PNG", (30, 20)), "application/octet-stream")},
        data={"caption": "  From the API  "},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["caption"] == "From the API"
    assert body["content_type"] == "image/png"  # from the decoded image, not the client's claim
    assert (body["width"], body["height"]) == (30, 20)
    assert response.headers["location"] == f"{ISSUER}/api/photos/{body['id']}"
    listed = client.get("/api/photos", headers=bearer(read)).json()["photos"]
    assert [p["id"] for p in listed] == [body["id"]]
    image = client.get(f"/api/photos/{body['id']}/image", headers=bearer(read))
    assert image.headers["content-type"] == "image/png"

    deleted = client.delete(f"/api/photos/{body['id']}", headers=bearer(write))
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert client.get(f"/api/photos/{body['id']}", headers=bearer(read)).status_code == 404
    assert photo_count(db) == 0


@pytest.mark.parametrize(
    ("files", "data", "words"),
    [
        ({"file": ("x.jpg", b"this is not an image", "image/jpeg")}, {}, "not an image"),
        ({"file": ("x.jpg", tiny_image()[:40], "image/jpeg")}, {}, "not an image"),
        ({"file": ("x.jpg", b"", "image/jpeg")}, {}, "empty"),
        ({"file": ("x.bmp", tiny_image("BMP"), "image/bmp")}, {}, "Only JPEG"),
        ({"file": ("x.jpg", tiny_image(), "image/jpeg")}, {"caption": "x" * 501}, "caption"),
        ({}, {"caption": "no file"}, "field named file"),
    ],
)
def test_bad_upload_is_400_invalid_request_and_nothing_stored(
    client, db, mockgram_app, make_client, john, files, data, words
) -> None:
    make_client()
    write = issue(db, mockgram_app, john, scope="photos.write")
    if not files:
        files = {"other": ("x.txt", b"hello", "text/plain")}  # still multipart, but no file field
    response = client.post("/api/photos", headers=bearer(write), files=files, data=data)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert words in response.json()["error_description"]
    assert photo_count(db) == 0


def test_upload_over_size_limit_is_refused(client, db, mockgram_app, make_client, john) -> None:
    make_client()
    write = issue(db, mockgram_app, john, scope="photos.write")
    big = tiny_image() + b"\0" * MAX_UPLOAD_BYTES
    response = client.post(
        "/api/photos", headers=bearer(write), files={"file": ("big.jpg", big, "image/jpeg")}
    )
    assert response.status_code == 400
    assert "5 MB" in response.json()["error_description"]
    assert photo_count(db) == 0


def test_upload_without_multipart_is_400_not_422(
    client, db, mockgram_app, make_client, john
) -> None:
    make_client()
    write = issue(db, mockgram_app, john, scope="photos.write")
    response = client.post("/api/photos", headers=bearer(write), json={"caption": "json"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_auth_comes_before_not_found(client) -> None:
    """Without a token even a missing photo is 401: nothing is looked up for strangers."""
    assert client.get("/api/photos/abc").status_code == 401
    assert client.delete("/api/photos/1").status_code == 401


def test_deleting_leaves_other_photos(client, db, mockgram_app, make_client, john, jane) -> None:
    make_client()
    write = issue(db, mockgram_app, john, scope="photos.write")
    mine, other = add_photo(db, john), add_photo(db, john)
    janes = add_photo(db, jane)
    assert client.delete(f"/api/photos/{mine.id}", headers=bearer(write)).status_code == 204
    db.expire_all()
    remaining = {p.id for p in db.exec(select(Photo)).all()}
    assert remaining == {other.id, janes.id}
