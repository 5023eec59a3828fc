"""Step 0: the developer portal (RFC 6749 §2; the same rules as RFC 7591)."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from mockgram.models import Client
from shared.hashing import hash_secret
from tests.mockgram.conftest import CLIENT_REDIRECT
from tests.mockgram.oauth_helpers import csrf_from, login


@pytest.fixture
def john(make_user):
    return make_user()


def create(client, **fields):
    data = {
        "csrf_token": fields.pop("csrf_token", None) or csrf_from(client.get("/developers").text),
        "name": "Photo Book",
        "redirect_uris": "https://book.example/cb\nhttp://localhost:5000/cb\n",
        "client_type": "confidential",
        "scope": ["photos.read"],
    }
    data.update(fields)
    return client.post("/developers/apps", data={k: v for k, v in data.items() if v is not None})


def test_signed_out_portal_explains_and_links_to_sign_in(client):
    response = client.get("/developers")
    assert response.status_code == 200
    assert "/login?next=/developers" in response.text
    assert "/.well-known/oauth-authorization-server" in response.text
    assert "/oauth/register" in response.text
    assert 'action="/developers/apps"' not in response.text


def test_the_seeded_print_shop_is_shown_read_only_to_everyone(client, make_client, john):
    assert "Already registered" not in client.get("/developers").text  # none seeded here
    make_client("awesomeservice", secret="never-shown-secret")
    for signed_in in (False, True):
        if signed_in:
            login(client)
        page = client.get("/developers").text
        seeded = page.split('class="card seeded-client"')[1].split("</section>")[0]
        assert "Already registered: Awesomeservice" in seeded and "read only" in seeded
        assert "<code>awesomeservice</code>" in seeded
        assert f"<code>{CLIENT_REDIRECT}</code>" in seeded
        assert "client_secret_basic" in seeded and "photos.read photos.write" in seeded
        assert "never-shown-secret" not in page
        assert "<form" not in seeded  # nothing here changes it


def test_signed_in_portal_shows_the_form(client, john):
    login(client)
    response = client.get("/developers")
    assert 'action="/developers/apps"' in response.text
    assert "You have not registered any app yet" in response.text


def test_registering_shows_client_id_and_secret_once(client, john, db):
    login(client)
    response = create(client)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert "copy it now, it is never shown again" in response.text
    row = db.exec(select(Client)).one()
    assert row.client_id in response.text
    assert row.owner_user_id == john.id
    assert row.redirect_uri_list == ["https://book.example/cb", "http://localhost:5000/cb"]
    assert row.allowed_scopes == "photos.read"
    secret = re.search(r'<p class="url-box">([^<]+)</p>', response.text).group(1)
    assert len(secret) >= 43
    assert row.secret_hash == hash_secret(secret)
    # Later visits list the app but never the secret.
    listing = client.get("/developers").text
    assert row.client_id in listing and "Photo Book" in listing
    assert secret not in listing


def test_public_app_gets_no_secret(client, john, db):
    login(client)
    response = create(client, client_type="public")
    assert "copy it now" not in response.text
    row = db.exec(select(Client)).one()
    assert row.is_public and row.secret_hash is None
    assert row.token_endpoint_auth_method == "none"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"redirect_uris": "http://book.example/cb"}, "https"),
        ({"redirect_uris": "https://book.example/cb#x"}, "fragment"),
        ({"redirect_uris": ""}, "redirect_uris"),
        ({"name": "  "}, "name"),
        ({"scope": None}, "scope"),
        ({"scope": ["photos.read", "admin"]}, "Unknown scope"),
        ({"client_type": "weird"}, "confidential or public"),
    ],
)
def test_validation_errors_re_render_the_form(client, john, db, fields, message):
    login(client)
    response = create(client, **fields)
    assert response.status_code == 400
    assert 'action="/developers/apps"' in response.text
    assert message in response.text
    assert db.exec(select(Client)).all() == []


def test_form_keeps_what_was_typed_after_an_error(client, john):
    login(client)
    response = create(client, name="Kept Name", redirect_uris="http://nope.example/cb")
    assert 'value="Kept Name"' in response.text
    assert "http://nope.example/cb" in response.text


def test_missing_csrf_registers_nothing(client, john, db):
    login(client)
    response = create(client, csrf_token="forged")
    assert response.status_code == 400
    assert db.exec(select(Client)).all() == []


def test_signed_out_post_goes_to_sign_in(client, db):
    token = csrf_from(client.get("/login").text)
    response = create(client, csrf_token=token)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/developers"
    assert db.exec(select(Client)).all() == []


def test_each_developer_sees_only_their_own_apps(client, john, make_user, db):
    make_user("jane")
    login(client)
    create(client, name="Johns App")
    token = csrf_from(client.get("/developers").text)
    client.post("/logout", data={"csrf_token": token})
    login(client, "jane")
    assert "Johns App" not in client.get("/developers").text
