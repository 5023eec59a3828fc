"""Userinfo (OIDC Core §5.3) with RFC 6750 bearer rules (checklist 27), and the avatar pictures."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlmodel import select

from mockgram.models import IssuedToken, User
from mockgram.tokens import issue_access_token
from shared.clock import utcnow
from tests.mockgram.conftest import ISSUER

USERINFO = "/oauth/userinfo"


@pytest.fixture
def john(make_user, make_client, db) -> User:
    make_client(scopes="openid profile email photos.read")
    user = make_user("john", name="John Appleseed")
    user.email_verified = True
    db.add(user)
    db.commit()
    return user


@pytest.fixture
def token_for(mockgram_app, db, john):
    """An access token for John with the given scope (issued as the token endpoint would)."""

    def _issue(scope: str, user: User | None = None) -> str:
        owner = user or john
        token, _ = issue_access_token(
            db,
            keys=mockgram_app.state.keys,
            settings=mockgram_app.state.settings,
            user_id=owner.id,
            client_id="printshop",
            scope=scope,
        )
        db.commit()
        return token

    return _issue


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_openid_alone_gives_only_sub(client, john, token_for):
    response = client.get(USERINFO, headers=bearer(token_for("openid")))
    assert response.status_code == 200
    assert response.json() == {"sub": str(john.id)}
    assert response.headers["cache-control"] == "no-store"


def test_profile_adds_name_username_and_picture(client, john, token_for):
    claims = client.get(USERINFO, headers=bearer(token_for("openid profile"))).json()
    assert claims == {
        "sub": str(john.id),
        "name": "John Appleseed",
        "preferred_username": "john",
        "picture": f"{ISSUER}/users/john/avatar.png",
    }


def test_email_adds_email_and_email_verified(client, john, token_for):
    claims = client.get(USERINFO, headers=bearer(token_for("openid email"))).json()
    assert claims == {"sub": str(john.id), "email": "john@mockgram.test", "email_verified": True}


def test_jane_gets_her_own_claims_and_unverified_is_false(client, john, token_for, make_user):
    jane = make_user("jane", name="Jane Doe")
    claims = client.get(USERINFO, headers=bearer(token_for("openid profile email", jane))).json()
    assert claims["sub"] == str(jane.id) != str(john.id)
    assert claims["name"] == "Jane Doe"
    assert claims["preferred_username"] == "jane"
    assert claims["email_verified"] is False


def test_post_works_like_get(client, john, token_for):
    response = client.post(USERINFO, headers=bearer(token_for("openid profile")))
    assert response.status_code == 200
    assert response.json()["preferred_username"] == "john"


def test_item_27_no_token_is_401_with_a_challenge_without_error(client, john):
    response = client.get(USERINFO)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="mockgram"')
    assert "error=" not in challenge


def test_item_27_bad_token_is_401_invalid_token(client, john):
    response = client.get(USERINFO, headers=bearer("not.a.jwt"))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_item_27_revoked_token_is_401(client, john, token_for, db):
    token = token_for("openid profile")
    for row in db.exec(select(IssuedToken)).all():
        row.revoked_at = utcnow()
        db.add(row)
    db.commit()
    response = client.get(USERINFO, headers=bearer(token))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_item_27_token_without_openid_is_403_insufficient_scope(client, john, token_for):
    response = client.get(USERINFO, headers=bearer(token_for("profile email photos.read")))
    assert response.status_code == 403
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="openid"' in challenge
    assert response.json()["error"] == "insufficient_scope"


def test_item_27_token_in_the_query_is_refused(client, john, token_for):
    response = client.get(USERINFO, params={"access_token": token_for("openid")})
    assert response.status_code == 400
    assert 'error="invalid_request"' in response.headers["www-authenticate"]


def test_item_27_token_in_a_post_body_is_refused(client, john, token_for):
    response = client.post(USERINFO, data={"access_token": token_for("openid")})
    assert response.status_code == 400


# --- avatars ---------------------------------------------------------------------------------


def test_picture_is_a_png_with_cache_headers(client, john, token_for):
    picture = client.get(USERINFO, headers=bearer(token_for("openid profile"))).json()["picture"]
    response = client.get(picture.removeprefix(ISSUER))
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert "max-age" in response.headers["cache-control"]
    assert response.headers["etag"]
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG" and image.size == (256, 256)
    again = client.get(
        picture.removeprefix(ISSUER), headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


def test_pictures_differ_between_people(client, john, make_user):
    make_user("jane", name="Jane Doe")
    john_png = client.get("/users/john/avatar.png").content
    jane_png = client.get("/users/jane/avatar.png").content
    assert john_png != jane_png


def test_an_unknown_username_gets_a_picture_too_so_avatars_do_not_enumerate_accounts(client, john):
    known = client.get("/users/john/avatar.png")
    unknown = client.get("/users/nobody/avatar.png")
    assert known.status_code == unknown.status_code == 200
    assert known.headers["content-type"] == unknown.headers["content-type"] == "image/png"
    assert client.get("/users/" + "x" * 65 + "/avatar.png").status_code == 404
