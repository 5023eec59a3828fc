"""John's own pages: the landing page, his feed, his images, upload and delete with CSRF."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from mockgram.app import create_app
from mockgram.models import User
from tests.mockgram.conftest import ISSUER
from tests.mockgram.resource_helpers import (
    add_photo,
    bearer,
    issue,
    photo_count,
    sign_in,
    tiny_image,
)


@pytest.fixture
def john(make_user) -> User:
    return make_user("john")


@pytest.fixture
def jane(make_user) -> User:
    return make_user("jane")


def assert_csp_friendly(html: str) -> None:
    """No inline styles or scripts: the Content-Security-Policy would block them."""
    assert 'style="' not in html
    assert "<script" not in html


def test_landing_page_for_visitors(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert "Mockgram — a mock Instagram for learning OAuth" in html
    for link in (
        'href="/login"',
        'href="/developers"',
        'href="/.well-known/oauth-authorization-server"',
        'href="/api/photos"',
    ):
        assert link in html
    assert "mockgram-demo" in html  # demo mode shows the demo accounts and their password
    assert "<code>john</code>" in html
    assert_csp_friendly(html)
    # The steps number themselves from 0: not inside a numbered list ("1. Step 0").
    steps = html.split('class="story-steps"')
    assert len(steps) == 2 and steps[0].endswith("<ul ") and "Step 0 —" in steps[1]


def test_landing_page_hides_demo_password_outside_demo_mode(mockgram_settings) -> None:
    app = create_app(mockgram_settings.model_copy(update={"demo": False}))
    with TestClient(app, base_url=ISSUER) as browser:
        html = browser.get("/").text
    assert "mockgram-demo" not in html
    assert "Mockgram — a mock Instagram for learning OAuth" in html


def test_feed_shows_johns_photos_only(client, db, mockgram_app, john, jane) -> None:
    mine = add_photo(db, john, "Miso on the sofa")
    add_photo(db, jane, "Jane's secret pizza")
    sign_in(client, mockgram_app, john)
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert "Miso on the sofa" in html
    assert f'src="/me/photos/{mine.id}/image"' in html
    assert "Jane&#39;s secret pizza" not in html and "Jane's secret pizza" not in html
    assert 'action="/me/photos"' in html and 'enctype="multipart/form-data"' in html
    assert f'action="/me/photos/{mine.id}/delete"' in html
    assert html.count('name="csrf_token"') >= 2
    assert_csp_friendly(html)


def test_feed_empty_state(client, mockgram_app, john) -> None:
    sign_in(client, mockgram_app, john)
    assert "No photos yet" in client.get("/").text


def test_stale_session_for_a_deleted_user_shows_the_landing_page(
    client, db, mockgram_app, john
) -> None:
    sign_in(client, mockgram_app, john)
    db.delete(john)
    db.commit()
    assert "a mock Instagram for learning OAuth" in client.get("/").text


def test_my_image_is_for_its_owner_only(client, db, mockgram_app, john, jane) -> None:
    mine, janes = add_photo(db, john), add_photo(db, jane)
    assert client.get(f"/me/photos/{mine.id}/image").status_code == 404  # signed out
    sign_in(client, mockgram_app, john)
    response = client.get(f"/me/photos/{mine.id}/image")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content == mine.image
    assert response.headers["cache-control"].startswith("private")
    assert client.get(f"/me/photos/{janes.id}/image").status_code == 404
    assert client.get("/me/photos/nope/image").status_code == 404


def test_john_uploads_a_photo_from_his_feed(client, db, mockgram_app, john) -> None:
    csrf = sign_in(client, mockgram_app, john)
    response = client.post(
        "/me/photos",
        data={"csrf_token": csrf, "caption": "New one"},
        files={"file": ("n.jpg", tiny_image(), "image/jpeg")},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert photo_count(db) == 1
    page = client.get("/").text
    assert "New one" in page
    assert "Photo posted." in page


def test_bad_upload_from_the_feed_is_explained_and_nothing_stored(
    client, db, mockgram_app, john
) -> None:
    csrf = sign_in(client, mockgram_app, john)
    response = client.post(
        "/me/photos",
        data={"csrf_token": csrf},
        files={"file": ("n.jpg", b"not an image", "image/jpeg")},
    )
    assert response.status_code == 303
    assert photo_count(db) == 0
    assert "That upload did not work" in client.get("/").text


def test_upload_and_delete_need_csrf_and_change_nothing_without_it(
    client, db, mockgram_app, john
) -> None:
    photo = add_photo(db, john)
    sign_in(client, mockgram_app, john)
    for token in (None, "wrong-token"):
        data = {"caption": "forged"} | ({"csrf_token": token} if token else {})
        upload = client.post(
            "/me/photos", data=data, files={"file": ("f.jpg", tiny_image(), "image/jpeg")}
        )
        assert upload.status_code == 403
        assert "form has expired" in upload.text
        delete = client.post(
            f"/me/photos/{photo.id}/delete", data={"csrf_token": token} if token else {}
        )
        assert delete.status_code == 403
    assert photo_count(db) == 1


def test_john_deletes_his_photo_but_not_janes(client, db, mockgram_app, john, jane) -> None:
    mine, janes = add_photo(db, john), add_photo(db, jane)
    csrf = sign_in(client, mockgram_app, john)
    response = client.post(f"/me/photos/{janes.id}/delete", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert photo_count(db) == 2
    response = client.post(f"/me/photos/{mine.id}/delete", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert photo_count(db) == 1
    assert "Photo deleted." in client.get("/").text


def test_john_can_delete_what_the_print_shops_token_cannot(
    client, db, mockgram_app, make_client, john
) -> None:
    make_client()
    photo = add_photo(db, john)
    token = issue(db, mockgram_app, john, scope="photos.read")
    assert client.delete(f"/api/photos/{photo.id}", headers=bearer(token)).status_code == 403
    csrf = sign_in(client, mockgram_app, john)
    assert (
        client.post(f"/me/photos/{photo.id}/delete", data={"csrf_token": csrf}).status_code == 303
    )
    assert photo_count(db) == 0


def test_signed_out_posts_go_to_login(client, db, john) -> None:
    photo = add_photo(db, john)
    for path in ("/me/photos", f"/me/photos/{photo.id}/delete"):
        response = client.post(path, data={"csrf_token": "x"})
        assert response.status_code == 303
        assert re.match(r"^/login", response.headers["location"])
    assert photo_count(db) == 1


def test_no_page_needs_a_third_party_script(client):
    """Swagger UI would load scripts from a CDN; it is off, and the OpenAPI document stays."""
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").json()["info"]["title"] == "Mockgram"
