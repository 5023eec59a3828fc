"""The article's scenario, end to end: both apps wired together, a scripted browser as John.

Each step asserts what can be observed at that step: the request AwesomeService builds (1), the
login page on Mockgram (2), the consent page (3), the redirect back with code, state and iss (4),
the back-channel exchange (5: a stored token with scope photos.read only), the photos (6), the
refused delete, and a print order.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from sqlmodel import Session, select

from awesomeservice.models import MockgramConnection, PrintOrder, PrintOrderItem
from mockgram.models import Client, IssuedToken, Photo, User
from tests.e2e.browser import find_form
from tests.e2e.conftest import (
    AWESOME,
    AWESOME_PASSWORD,
    CLIENT_SECRET,
    MOCKGRAM,
    MOCKGRAM_PASSWORD,
    World,
)


def _authorization_link(html: str) -> str:
    match = re.search(r'href="(' + re.escape(MOCKGRAM) + r'/oauth/authorize\?[^"]+)"', html)
    assert match, "the connect page links to Mockgram's authorization endpoint"
    return match.group(1).replace("&amp;", "&")


def _sign_in_to_awesomeservice(world: World) -> None:
    browser = world.browser
    page = browser.get(f"{AWESOME}/login")
    response = browser.submit(
        find_form(page.text, "/login"), username="john", password=AWESOME_PASSWORD
    )
    assert response.status_code == 303
    home = browser.follow(response)
    assert home.status_code == 200 and "Connect Mockgram" in home.text


def _connect_until_consent(world: World) -> tuple[str, object]:
    """Steps 1–3: returns the authorization URL and the consent page."""
    browser = world.browser
    home = browser.get(f"{AWESOME}/")
    preview = browser.submit(find_form(home.text, "/connect"))
    assert preview.status_code == 200
    authorization_url = _authorization_link(preview.text)
    login_page = browser.follow(browser.get(authorization_url))
    assert login_page.status_code == 200 and urlsplit(browser.url).path == "/login"
    response = browser.submit(
        find_form(login_page.text, "/login"), username="john", password=MOCKGRAM_PASSWORD
    )
    consent = browser.follow(response)
    assert urlsplit(browser.url).path == "/consent"
    return authorization_url, consent


def test_the_whole_story_step_by_step(world: World) -> None:
    browser = world.browser

    # Step 0: Mockgram knows AwesomeService: client ID, hashed secret, exact redirect URIs.
    with Session(world.mockgram.state.engine) as db:
        registered = db.get(Client, "awesomeservice")
        assert registered is not None and registered.secret_hash
        assert CLIENT_SECRET not in registered.secret_hash
        assert f"{AWESOME}/connect/callback" in registered.redirect_uri_list
        john = db.exec(select(User).where(User.username == "john")).one()
        johns_photos = db.exec(select(Photo).where(Photo.owner_id == john.id)).all()
        janes_captions = {
            p.caption for p in db.exec(select(Photo).where(Photo.owner_id != john.id)).all()
        }
    assert len(johns_photos) >= 10

    _sign_in_to_awesomeservice(world)

    # Step 1: the request is shown before it is sent; a GET with the expected parameters.
    authorization_url, consent = _connect_until_consent(world)
    query = parse_qs(urlsplit(authorization_url).query)
    assert {k: v[0] for k, v in query.items() if k not in ("state", "code_challenge")} == {
        "client_id": "awesomeservice",
        "redirect_uri": f"{AWESOME}/connect/callback",
        "scope": "photos.read",
        "response_type": "code",
        "response_mode": "query",
        "code_challenge_method": "S256",
    }
    assert len(query["state"][0]) >= 22 and len(query["code_challenge"][0]) == 43

    # Steps 2–3: John's Mockgram password went to Mockgram only; the consent page names the app.
    for _method, url, data in browser.sent:
        if url.startswith(AWESOME):
            assert MOCKGRAM_PASSWORD not in str(data)
    assert "AwesomeService" in consent.text and "See your photos" in consent.text

    # Step 4: back to the registered redirect URI with code, the same state, and iss.
    redirect = browser.submit(find_form(consent.text, "/consent"), button=("decision", "allow"))
    assert redirect.status_code in (302, 303)
    location = redirect.headers["location"]
    assert location.startswith(f"{AWESOME}/connect/callback?")
    returned = parse_qs(urlsplit(location).query)
    assert returned["state"] == query["state"]
    assert returned["iss"] == [MOCKGRAM]
    code = returned["code"][0]
    assert len(code) >= 22

    # Step 5: the callback trades the code over the back channel, then strips it from the URL.
    callback = browser.follow(redirect)
    assert callback.status_code == 303
    assert callback.headers["location"] == "/photos"
    assert code not in callback.headers["location"]
    with Session(world.awesome.state.engine) as db:
        connection = db.exec(select(MockgramConnection)).one()
    claims = jwt.decode(connection.access_token, world.mockgram.state.keys.public_set).claims
    assert claims["scope"] == "photos.read"
    assert claims["client_id"] == "awesomeservice"
    assert claims["iss"] == MOCKGRAM and claims["sub"] == str(john.id)

    # Step 6: the photo grid shows John's photos (and nobody else's), images via the back end.
    photos_page = browser.follow(callback)
    assert photos_page.status_code == 200
    for photo in johns_photos:
        assert photo.caption in photos_page.text
    assert not any(caption in photos_page.text for caption in janes_captions)
    assert connection.access_token not in photos_page.text
    first = johns_photos[0]
    image = browser.get(f"{AWESOME}/photos/{first.id}/image")
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/")
    assert image.content == first.image

    # The article's point: the read-only token cannot delete.
    browser.get(f"{AWESOME}/photos")
    refused = browser.submit(find_form(photos_page.text, f"/photos/{first.id}/try-delete"))
    assert refused.status_code in (200, 403)
    assert "insufficient_scope" in refused.text and "403" in refused.text
    with Session(world.mockgram.state.engine) as db:
        assert db.get(Photo, first.id) is not None

    # A print order of two chosen photos, saved and listed.
    browser.get(f"{AWESOME}/photos")
    chosen = [str(johns_photos[0].id), str(johns_photos[1].id)]
    order_form_page = browser.submit(find_form(photos_page.text, "/orders/new"), tick=chosen)
    assert order_form_page.status_code == 200
    placed = browser.submit(
        find_form(order_form_page.text, "/orders"),
        shipping_name="John Appleseed",
        shipping_address="1 Infinite Loop\nCupertino",
    )
    assert placed.status_code == 303
    confirmation = browser.follow(placed)
    assert confirmation.status_code == 200 and "John Appleseed" in confirmation.text
    with Session(world.awesome.state.engine) as db:
        order = db.exec(select(PrintOrder)).one()
        items = db.exec(select(PrintOrderItem).where(PrintOrderItem.order_id == order.id)).all()
    assert sorted(str(item.photo_id) for item in items) == sorted(chosen)
    assert {item.caption for item in items} == {johns_photos[0].caption, johns_photos[1].caption}
    history = browser.get(f"{AWESOME}/orders")
    assert f"/orders/{order.id}" in history.text

    # Nothing secret ever reached the browser: no token, no client secret, no Mockgram password.
    for response in (photos_page, refused, confirmation, history):
        for secret in (connection.access_token, CLIENT_SECRET, MOCKGRAM_PASSWORD):
            assert secret not in response.text
    for cookie in world.awesome_client.cookies.jar:
        assert connection.access_token not in (cookie.value or "")


def test_john_denies_and_nothing_is_shared(world: World) -> None:
    _sign_in_to_awesomeservice(world)
    _, consent = _connect_until_consent(world)
    redirect = world.browser.submit(
        find_form(consent.text, "/consent"), button=("decision", "deny")
    )
    returned = parse_qs(urlsplit(redirect.headers["location"]).query)
    assert returned["error"] == ["access_denied"] and returned["iss"] == [MOCKGRAM]
    page = world.browser.follow(redirect)
    assert page.status_code == 200 and "chose not to share" in page.text
    with Session(world.awesome.state.engine) as db:
        assert db.exec(select(MockgramConnection)).first() is None
    with Session(world.mockgram.state.engine) as db:
        assert db.exec(select(IssuedToken)).first() is None


def test_revoking_on_mockgram_stops_the_print_shop_at_once(world: World) -> None:
    _sign_in_to_awesomeservice(world)
    _, consent = _connect_until_consent(world)
    redirect = world.browser.submit(
        find_form(consent.text, "/consent"), button=("decision", "allow")
    )
    world.browser.follow(world.browser.follow(redirect))
    assert world.browser.get(f"{AWESOME}/photos").status_code == 200

    apps = world.browser.get(f"{MOCKGRAM}/apps")
    assert "AwesomeService" in apps.text
    revoked = world.browser.submit(find_form(apps.text, "/apps/awesomeservice/revoke"))
    assert revoked.status_code == 303

    after = world.browser.get(f"{AWESOME}/photos")
    assert after.status_code == 401
    assert "connect again" in after.text.lower()
