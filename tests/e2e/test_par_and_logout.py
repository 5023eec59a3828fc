"""Both apps in one process (`world`): "Connect Mockgram" with a pushed authorization request
(RFC 9126), switched on from the step 1 page, and signing out of a "Log in with Mockgram"
session at Mockgram too (OpenID Connect RP-Initiated Logout)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from sqlmodel import Session, select

from awesomeservice.models import MockgramConnection
from tests.e2e.browser import find_form
from tests.e2e.conftest import AWESOME, CLIENT_SECRET, MOCKGRAM, MOCKGRAM_PASSWORD, World
from tests.e2e.test_login_with_mockgram import _log_in_with_mockgram
from tests.e2e.test_story import _authorization_link, _sign_in_to_awesomeservice


def _mockgram_user(world: World) -> str | None:
    match = re.search(r'class="nav-user">@([^<]+)<', world.browser.get(f"{MOCKGRAM}/login").text)
    return match.group(1) if match else None


def test_connect_with_par_switched_on_from_the_step_1_page(world: World) -> None:
    browser = world.browser
    _sign_in_to_awesomeservice(world)
    home = browser.get(f"{AWESOME}/")
    plain = browser.submit(find_form(home.text, "/connect"))
    assert "Push the request first (PAR)" in plain.text
    pushed = browser.submit(find_form(plain.text, "/connect"))
    assert pushed.status_code == 200, pushed.text
    assert "With PAR" in pushed.text and "Without PAR" in pushed.text
    short_url = _authorization_link(pushed.text)
    query = parse_qs(urlsplit(short_url).query)
    assert set(query) == {"client_id", "request_uri"}
    assert query["request_uri"][0].startswith("urn:ietf:params:oauth:request_uri:")
    full, short = re.findall(r"(\d+) characters", pushed.text)[:2]
    assert int(short) < int(full)

    login_page = browser.follow(browser.get(short_url))
    signed_in = browser.submit(
        find_form(login_page.text, "/login"), username="john", password=MOCKGRAM_PASSWORD
    )
    consent = browser.follow(signed_in)
    back = browser.submit(find_form(consent.text, "/consent"), button=("decision", "allow"))
    assert back.headers["location"].startswith(f"{AWESOME}/connect/callback?")
    done = browser.follow(back)
    assert done.status_code == 303, done.text
    with Session(world.awesome.state.engine) as db:
        assert db.exec(select(MockgramConnection)).one().scope == "photos.read"
    # The request_uri served once: the same link again is a Mockgram page, not a redirect.
    again = browser.get(short_url)
    assert again.status_code == 400 and "invalid_request_uri" in again.text
    # The inspector shows the push, then the short front-channel request, in one flow.
    inspector = browser.get(f"{AWESOME}/inspector").text
    kinds = re.findall(r'data-kind="([a-z_]+)" data-step="(\d*)"', inspector)
    steps = [kind for kind, _ in kinds if kind not in ("discovery", "jwks", "userinfo")]
    assert steps[:3] == ["pushed_authorization_request", "authorization_request", "callback"]
    assert "https://www.rfc-editor.org/rfc/rfc9126#section-2.1" in inspector
    assert CLIENT_SECRET not in inspector


def test_sign_out_of_a_mockgram_login_ends_the_mockgram_session_too(world: World) -> None:
    browser = world.browser
    assert _log_in_with_mockgram(world).status_code == 303  # type: ignore[attr-defined]
    assert _mockgram_user(world) == "john"
    home = browser.get(f"{AWESOME}/")
    leaving = browser.submit(find_form(home.text, "/logout"))
    assert leaving.headers["location"].startswith(f"{MOCKGRAM}/session/end?")
    sent = parse_qs(urlsplit(leaving.headers["location"]).query)
    assert sent["post_logout_redirect_uri"] == [f"{AWESOME}/login/signed-out"]
    assert sent["client_id"] == ["awesomeservice"] and sent["id_token_hint"]
    at_mockgram = browser.follow(leaving)
    assert at_mockgram.headers["location"].startswith(f"{AWESOME}/login/signed-out?state=")
    home_again = browser.follow(browser.follow(at_mockgram))
    assert "You are signed out of AwesomeService and of Mockgram." in home_again.text
    assert _mockgram_user(world) is None


def test_a_return_without_our_state_says_mockgram_did_not_confirm(world: World) -> None:
    page = world.browser.follow(world.browser.get(f"{AWESOME}/login/signed-out?state=forged"))
    assert "Mockgram did not confirm" in page.text


def test_a_password_sign_in_signs_out_here_only(world: World) -> None:
    _sign_in_to_awesomeservice(world)
    home = world.browser.get(f"{AWESOME}/")
    response = world.browser.submit(find_form(home.text, "/logout"))
    assert response.headers["location"] == "/"


def test_the_debugger_can_push_its_request_first(world: World) -> None:
    browser = world.browser
    page = browser.get(f"{AWESOME}/debugger")
    sent = browser.submit(
        find_form(page.text, "/debugger"),
        client_id="awesomeservice",
        client_secret=CLIENT_SECRET,
        scope="openid photos.read",
        par="on",
    )
    assert sent.status_code == 303, sent.text
    query = parse_qs(urlsplit(sent.headers["location"]).query)
    assert set(query) == {"client_id", "request_uri"}
    login = browser.follow(browser.follow(sent))
    consent = browser.follow(
        browser.submit(find_form(login.text, "/login"), username="john", password=MOCKGRAM_PASSWORD)
    )
    back = browser.submit(find_form(consent.text, "/consent"), button=("decision", "allow"))
    assert back.headers["location"].startswith(f"{AWESOME}/debugger/callback?")
    assert "matches" in browser.follow(back).text  # the state the pushed request carried
