"""Apps with access: John sees what he consented to and takes it back (item 27 at revocation)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from mockgram.models import AuthorizationCode, Consent, IssuedToken, User
from shared.clock import utcnow
from tests.mockgram.resource_helpers import add_photo, bearer, issue, sign_in


@pytest.fixture
def john(make_user) -> User:
    return make_user("john")


@pytest.fixture
def jane(make_user) -> User:
    return make_user("jane")


def consent(db, user: User, client_id: str = "printshop", scope: str = "photos.read") -> Consent:  # type: ignore[no-untyped-def]
    row = Consent(user_id=user.id, client_id=client_id, scope=scope)
    db.add(row)
    db.commit()
    return row


def code(
    db, user: User, client_id: str = "printshop", *, redeemed: bool = False, name: str = "c"
) -> None:  # type: ignore[no-untyped-def]
    db.add(
        AuthorizationCode(
            code_hash=name,
            client_id=client_id,
            user_id=user.id,
            redirect_uri="http://client.test/callback",
            scope="photos.read",
            expires_at=utcnow() + timedelta(minutes=5),
            redeemed_at=utcnow() if redeemed else None,
        )
    )
    db.commit()


def test_apps_page_needs_sign_in(client) -> None:
    response = client.get("/apps")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert client.post("/apps/printshop/revoke", data={"csrf_token": "x"}).status_code == 303


def test_apps_page_empty_state(client, mockgram_app, john) -> None:
    sign_in(client, mockgram_app, john)
    html = client.get("/apps").text
    assert "No apps have access" in html
    assert "consent page" in html


def test_apps_page_lists_consented_apps_with_scopes_and_live_tokens(
    client, db, mockgram_app, make_client, john, jane
) -> None:
    make_client("printshop")
    consent(db, john, scope="photos.read photos.write")
    issue(db, mockgram_app, john, scope="photos.read")
    issue(db, mockgram_app, john, scope="photos.read")
    issue(db, mockgram_app, jane, scope="photos.read")  # Jane's token is not John's business
    revoked = db.exec(select(IssuedToken).where(IssuedToken.user_id == john.id)).first()
    revoked.revoked_at = utcnow()
    db.add(revoked)
    db.commit()
    sign_in(client, mockgram_app, john)
    html = client.get("/apps").text
    assert "Printshop" in html
    assert "client_id printshop" in html
    assert "See your photos" in html and "Post and delete photos" in html
    assert '<span class="badge ok">1</span>' in html  # two issued, one revoked
    assert 'action="/apps/printshop/revoke"' in html
    assert 'name="csrf_token"' in html
    assert 'style="' not in html


def test_one_client_asking_for_sign_in_and_photos_shows_one_row_per_purpose(
    client, db, mockgram_app, make_client, john
) -> None:
    make_client("printshop")
    # Log in with Mockgram, then Connect: one client_id, one remembered consent (the union).
    consent(db, john, scope="openid profile email photos.read")
    sign_in(client, mockgram_app, john)
    html = client.get("/apps").text
    signing_in = html.split("<h3>Signing you in (OpenID Connect)</h3>")[1].split("<h3>")[0]
    photos = html.split("<h3>Your photos</h3>")[1].split("</ul>")[0]
    assert "Know who you are" in signing_in and "See your photos" not in signing_in
    assert "See your photos" in photos and "Know who you are" not in photos
    assert html.index("Signing you in") < html.index("Your photos")
    assert "Mockgram remembers one consent per app" in html


def test_one_purpose_needs_no_explanation(client, db, mockgram_app, make_client, john) -> None:
    make_client("printshop")
    consent(db, john, scope="photos.read")
    sign_in(client, mockgram_app, john)
    html = client.get("/apps").text
    assert "<h3>Your photos</h3>" in html and "Signing you in" not in html
    assert "Mockgram remembers one consent per app" not in html


def test_item_27_revoking_access_kills_the_token_at_the_api_at_once(
    client, db, mockgram_app, make_client, john, jane
) -> None:
    make_client("printshop")
    make_client("otherapp")
    photo = add_photo(db, john)
    consent(db, john)
    consent(db, john, "otherapp")
    consent(db, jane)
    token = issue(db, mockgram_app, john)
    other_app_token = issue(db, mockgram_app, john, client_id="otherapp")
    janes_token = issue(db, mockgram_app, jane)
    code(db, john, name="pending")
    code(db, john, name="used", redeemed=True)
    code(db, john, "otherapp", name="other-app-pending")
    assert client.get(f"/api/photos/{photo.id}", headers=bearer(token)).status_code == 200

    csrf = sign_in(client, mockgram_app, john)
    response = client.post("/apps/printshop/revoke", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert response.headers["location"] == "/apps"

    refused = client.get(f"/api/photos/{photo.id}", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    # Only that app, only John.
    assert client.get("/api/photos", headers=bearer(other_app_token)).status_code == 200
    assert client.get("/api/photos", headers=bearer(janes_token)).status_code == 200
    db.expire_all()
    assert {(c.user_id, c.client_id) for c in db.exec(select(Consent)).all()} == {
        (john.id, "otherapp"),
        (jane.id, "printshop"),
    }
    assert {c.code_hash for c in db.exec(select(AuthorizationCode)).all()} == {
        "used",
        "other-app-pending",
    }

    page = client.get("/apps").text
    assert "Printshop can no longer see your photos." in page
    assert 'action="/apps/printshop/revoke"' not in page
    assert 'action="/apps/otherapp/revoke"' in page


def test_revoke_without_csrf_is_refused_and_nothing_changes(
    client, db, mockgram_app, make_client, john
) -> None:
    make_client("printshop")
    consent(db, john)
    token = issue(db, mockgram_app, john)
    code(db, john)
    sign_in(client, mockgram_app, john)
    for data in ({}, {"csrf_token": "forged"}):
        response = client.post("/apps/printshop/revoke", data=data)
        assert response.status_code == 403
    assert client.get("/api/photos", headers=bearer(token)).status_code == 200
    db.expire_all()
    assert len(db.exec(select(Consent)).all()) == 1
    assert len(db.exec(select(AuthorizationCode)).all()) == 1


def test_revoking_an_unknown_app_changes_nothing(
    client, db, mockgram_app, make_client, john
) -> None:
    make_client("printshop")
    consent(db, john)
    csrf = sign_in(client, mockgram_app, john)
    response = client.post("/apps/nosuchapp/revoke", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert "no such app" in client.get("/apps").text
    db.expire_all()
    assert len(db.exec(select(Consent)).all()) == 1
