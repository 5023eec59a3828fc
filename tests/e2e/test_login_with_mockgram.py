"""Issue 3 end to end, both apps in one process (`world`): "Log in with Mockgram" (OIDC), the
Connect token refreshed when it expires, and "Disconnect Mockgram" revoking at Mockgram."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlmodel import Session, select

from awesomeservice.models import FederatedIdentity, LoginRecord, MockgramConnection
from awesomeservice.models import User as AwesomeUser
from mockgram.models import User
from shared.clock import utcnow
from tests.e2e.browser import find_form
from tests.e2e.conftest import (
    AWESOME,
    AWESOME_PASSWORD,
    CLIENT_SECRET,
    MOCKGRAM,
    MOCKGRAM_PASSWORD,
    World,
)
from tests.e2e.test_story import _connect_until_consent, _sign_in_to_awesomeservice


def _johns_mockgram_id(world: World) -> int:
    with Session(world.mockgram.state.engine) as db:
        john = db.exec(select(User).where(User.username == "john")).one()
        assert john.id is not None
        return john.id


def _through_mockgram(world: World, response: Any) -> Any:
    """John at Mockgram: sign in unless he is still signed in there, allow unless he already
    did for these scopes; returns Mockgram's redirect back (not followed)."""
    browser = world.browser
    while response.headers.get("location", "").startswith((MOCKGRAM, "/")):
        response = browser.follow(response)
        if urlsplit(browser.url).path == "/login":
            response = browser.submit(
                find_form(response.text, "/login"), username="john", password=MOCKGRAM_PASSWORD
            )
        elif urlsplit(browser.url).path == "/consent":
            response = browser.submit(
                find_form(response.text, "/consent"), button=("decision", "allow")
            )
    return response


def _log_in_with_mockgram(world: World, *, start_with_post: bool = False) -> object:
    """From AwesomeService's button to the redirect back; returns the callback response."""
    browser = world.browser
    if start_with_post:
        page = browser.get(f"{AWESOME}/login/mockgram")
        start = browser.submit(find_form(page.text, "/login/mockgram"))
    else:
        login_page = browser.get(f"{AWESOME}/login")
        assert 'href="/login/mockgram"' in login_page.text
        start = browser.get(f"{AWESOME}/login/mockgram")
    assert start.status_code == 303
    assert start.headers["location"].startswith(f"{MOCKGRAM}/oauth/authorize?")
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["scope"] == ["openid profile email"] and "nonce" in query
    redirect = _through_mockgram(world, browser.get(start.headers["location"]))
    assert redirect.headers["location"].startswith(f"{AWESOME}/login/callback?")
    returned = parse_qs(urlsplit(redirect.headers["location"]).query)
    assert returned["iss"] == [MOCKGRAM] and returned["state"] == query["state"]
    return browser.follow(redirect)


def test_log_in_with_mockgram_creates_an_account_and_shows_the_claims(world: World) -> None:
    callback = _log_in_with_mockgram(world)
    assert callback.status_code == 303, callback.text  # type: ignore[attr-defined]
    assert callback.headers["location"] == "/login/mockgram/claims"  # type: ignore[attr-defined]
    claims_page = world.browser.follow(callback)
    assert claims_page.status_code == 200
    assert "What Mockgram told us about you" in claims_page.text
    john_id = _johns_mockgram_id(world)
    with Session(world.awesome.state.engine) as db:
        identity = db.exec(select(FederatedIdentity)).one()
        record = db.exec(select(LoginRecord)).one()
        user = db.get(AwesomeUser, identity.user_id)
    assert (identity.issuer, identity.subject) == (MOCKGRAM, str(john_id))
    assert user is not None and user.username != "john"  # never matched by username
    assert record.outcome == "created"
    assert '"alg": "RS256"' in record.id_token_header or '"alg": "ES256"' in record.id_token_header
    assert f'"sub": "{john_id}"' in record.userinfo
    assert "john@" in claims_page.text or "John" in claims_page.text


def test_linking_then_logging_in_with_mockgram_reaches_the_same_account(world: World) -> None:
    _sign_in_to_awesomeservice(world)
    linked = _log_in_with_mockgram(world, start_with_post=True)
    assert linked.status_code == 303  # type: ignore[attr-defined]
    with Session(world.awesome.state.engine) as db:
        john = db.exec(select(AwesomeUser).where(AwesomeUser.username == "john")).one()
        identity = db.exec(select(FederatedIdentity)).one()
    assert identity.user_id == john.id
    # Sign out, then "Log in with Mockgram" alone signs John in to his print-shop account.
    home = world.browser.get(f"{AWESOME}/")
    world.browser.submit(find_form(home.text, "/logout"))
    again = _log_in_with_mockgram(world)
    assert again.status_code == 303  # type: ignore[attr-defined]
    page = world.browser.follow(again)
    assert "signed you in" in page.text
    assert world.browser.get(f"{AWESOME}/").text.count("john") >= 1


def _connected(world: World) -> MockgramConnection:
    _sign_in_to_awesomeservice(world)
    _, consent = _connect_until_consent(world)
    redirect = world.browser.submit(
        find_form(consent.text, "/consent"), button=("decision", "allow")
    )
    assert world.browser.follow(redirect).status_code == 303
    with Session(world.awesome.state.engine) as db:
        return db.exec(select(MockgramConnection)).one()


def _expire_connection(world: World) -> None:
    with Session(world.awesome.state.engine) as db:
        row = db.exec(select(MockgramConnection)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.add(row)
        db.commit()


def _basic() -> dict[str, str]:
    pair = base64.b64encode(f"awesomeservice:{CLIENT_SECRET}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def test_expired_connect_token_is_refreshed_with_rotation(world: World) -> None:
    first = _connected(world)
    assert first.refresh_token, "Mockgram issues refresh tokens to confidential clients"
    _expire_connection(world)
    photos = world.browser.get(f"{AWESOME}/photos")
    assert photos.status_code == 200
    with Session(world.awesome.state.engine) as db:
        refreshed = db.exec(select(MockgramConnection)).one()
    assert refreshed.access_token != first.access_token
    # C9: the stored refresh token was replaced; the old one is spent at Mockgram.
    assert refreshed.refresh_token and refreshed.refresh_token != first.refresh_token
    new_token_works = world.mockgram_client.get(
        "/api/photos", headers={"Authorization": f"Bearer {refreshed.access_token}"}
    )
    assert new_token_works.status_code == 200


def test_disconnect_revokes_at_mockgram(world: World) -> None:
    connection = _connected(world)
    api = world.mockgram_client
    bearer = {"Authorization": f"Bearer {connection.access_token}"}
    assert api.get("/api/photos", headers=bearer).status_code == 200
    home = world.browser.get(f"{AWESOME}/")
    response = world.browser.submit(find_form(home.text, "/connect/disconnect"))
    assert response.status_code == 303
    page = world.browser.follow(response)
    assert "Mockgram revoked the refresh token and the access token" in page.text
    # RFC 7009: the access token is refused at once, the refresh token no longer works.
    refused = api.get("/api/photos", headers=bearer)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    replay = api.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": connection.refresh_token},
        headers=_basic(),
    )
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    with Session(world.awesome.state.engine) as db:
        assert db.exec(select(MockgramConnection)).first() is None


def test_revoked_at_mockgram_then_expired_asks_john_to_connect_again(world: World) -> None:
    connection = _connected(world)
    revoked = world.mockgram_client.post(
        "/oauth/revoke",
        data={"token": connection.refresh_token, "token_type_hint": "refresh_token"},
        headers=_basic(),
    )
    assert revoked.status_code == 200
    _expire_connection(world)
    page = world.browser.get(f"{AWESOME}/photos")
    assert page.status_code == 401
    assert "could not be renewed" in page.text
    assert "Connect Mockgram again" in page.text


def test_password_login_still_works(world: World) -> None:
    page = world.browser.get(f"{AWESOME}/login")
    response = world.browser.submit(
        find_form(page.text, "/login"), username="john", password=AWESOME_PASSWORD
    )
    assert response.status_code == 303
