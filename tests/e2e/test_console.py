"""The request console against the real Mockgram (in process): John's own tokens, whole and
decoded; hand-made requests to the photos API, introspection, refresh and revocation; the
rotation and the replay that revokes the grant; and every refusal — another origin (SSRF),
someone else's token with the client's credentials, no CSRF token, no sign-in."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl

from sqlmodel import Session, select

from awesomeservice.models import MockgramConnection
from tests.e2e.browser import find_form
from tests.e2e.conftest import AWESOME, CLIENT_SECRET, MOCKGRAM, World
from tests.e2e.test_story import _connect_until_consent, _sign_in_to_awesomeservice


def _connected(world: World) -> MockgramConnection:
    """John signed in and connected; his stored connection."""
    browser = world.browser
    _sign_in_to_awesomeservice(world)
    _authorization_url, consent = _connect_until_consent(world)
    redirect = browser.submit(find_form(consent.text, "/consent"), button=("decision", "allow"))
    browser.follow(browser.follow(redirect))
    with Session(world.awesome.state.engine) as db:
        return db.exec(select(MockgramConnection)).one()


def _send(world: World, preset: str, **overrides: str) -> tuple[int, str]:
    """Open the console with a preset, send its form (changed by `overrides`)."""
    page = world.browser.get(f"{AWESOME}/console?preset={preset}")
    assert page.status_code == 200
    response = world.browser.submit(find_form(page.text, "/console/send"), **overrides)
    return response.status_code, html.unescape(response.text)


def test_the_console_shows_the_tokens_decoded_and_never_the_secret(world: World) -> None:
    connection = _connected(world)
    page = world.browser.get(f"{AWESOME}/console")
    text = html.unescape(page.text)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert connection.access_token in text and connection.refresh_token in text
    assert "Real apps never do this" in text
    assert '"iss": "http://mockgram.test"' in text  # the access token's payload, decoded
    assert "Opaque" in text
    assert CLIENT_SECRET not in text


def test_the_photos_api_and_introspection_answer_raw(world: World) -> None:
    connection = _connected(world)
    status, text = _send(world, "photos")
    assert status == 200
    assert "GET /api/photos HTTP/1.1" in text and "HTTP/1.1 200 OK" in text
    assert f"Bearer {connection.access_token[:12]}…" in text  # the raw request: shortened
    assert f"-H 'Authorization: Bearer {connection.access_token}'" in text  # curl: whole

    status, text = _send(world, "introspect")
    assert status == 200
    assert '"active": true' in text
    assert "Authorization: Basic **** (awesomeservice:client secret, hidden)" in text
    assert '-u "$CLIENT_ID:$CLIENT_SECRET"' in text
    assert CLIENT_SECRET not in text


def test_a_refresh_rotates_and_a_replay_revokes_the_whole_grant(world: World) -> None:
    first = _connected(world)
    status, text = _send(world, "refresh")
    assert status == 200 and "Rotation." in text
    with Session(world.awesome.state.engine) as db:
        rotated = db.exec(select(MockgramConnection)).one()
    assert rotated.refresh_token != first.refresh_token
    assert rotated.access_token != first.access_token  # AwesomeService keeps the new pair

    status, text = _send(world, "replay")
    assert "The whole grant is revoked." in text and '"error": "invalid_grant"' in text

    # The new pair died with the grant: the photos API refuses the new access token.
    status, text = _send(world, "photos")
    assert "HTTP/1.1 401" in text and "invalid_token" in text


def test_another_origin_is_refused_and_nothing_is_sent(world: World) -> None:
    _connected(world)
    calls_before = len(_recorded_calls(world))
    for url in (
        "http://169.254.169.254/latest/meta-data/",
        "http://mockgram.test.evil.example/api/photos",
        "http://mockgram.test@evil.example/api/photos",
        "http://mockgram.test:8080/api/photos",
        "https://mockgram.test/api/photos",
    ):
        status, text = _send(world, "photos", url=url)
        assert status == 400, url
        assert "Not sent:" in text, url
    assert "server-side request forgery" in text or "user part" in text
    assert len(_recorded_calls(world)) == calls_before


def _recorded_calls(world: World) -> list[str]:
    """The console's calls as the flow inspector recorded them (every back-channel call)."""
    page = world.browser.get(f"{AWESOME}/inspector")
    return re.findall(r"GET [^<]*/api/photos", page.text)


def test_someone_elses_token_is_not_sent_with_the_clients_credentials(world: World) -> None:
    _connected(world)
    status, text = _send(world, "introspect", body="token=somebody-elses-token")
    assert status == 400 and "only your own tokens" in text
    status, text = _send(world, "refresh", body="grant_type=refresh_token&refresh_token=stolen")
    assert status == 400 and "only your own tokens" in text
    status, text = _send(world, "photos", url=f"{MOCKGRAM}/api/photos?x={{client_credentials}}")
    assert status == 400 and "belongs in an Authorization: Basic header" in text


def test_a_post_without_the_csrf_token_is_refused(world: World) -> None:
    _connected(world)
    page = world.browser.get(f"{AWESOME}/console")
    response = world.browser.submit(find_form(page.text, "/console/send"), csrf_token="forged")
    assert response.status_code == 403


def test_the_console_needs_a_signed_in_user_and_a_connection(world: World) -> None:
    response = world.awesome_client.get("/console")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    _sign_in_to_awesomeservice(world)
    page = world.browser.get(f"{AWESOME}/console")
    assert page.status_code == 200 and "You have no Mockgram connection" in page.text
    assert "/console/send" not in page.text


def test_the_debuggers_tokens_work_the_same_in_this_browser_only(world: World) -> None:
    from tests.e2e.test_debugger import _send as debugger_send
    from tests.e2e.test_debugger import _sign_in_and_allow

    _sign_in_to_awesomeservice(world)
    browser = world.browser
    answer = browser.follow(_sign_in_and_allow(world, debugger_send(world)))
    exchanged = browser.submit(find_form(answer.text, "/debugger/exchange"))
    assert "/console?source=debugger" in exchanged.text

    page = browser.get(f"{AWESOME}/console?source=debugger&preset=introspect_refresh")
    assert page.status_code == 200 and "tokens the OAuth debugger obtained" in page.text
    response = browser.submit(find_form(page.text, "/console/send"))
    text = html.unescape(response.text)
    assert response.status_code == 200 and '"active": true' in text
    assert '"client_id": "oauth-debugger"' in text
    assert "Basic **** (oauth-debugger:client secret, hidden)" in text

    # Another browser (another session) signed in as John sees none of them.
    world.awesome_client.cookies.clear()
    _sign_in_to_awesomeservice(world)
    page = world.browser.get(f"{AWESOME}/console?source=debugger")
    assert "The debugger has obtained no token in this browser session" in page.text


def test_a_token_from_the_debuggers_front_channel_works_too(world: World) -> None:
    from tests.e2e.test_debugger import _send as debugger_send
    from tests.e2e.test_debugger import _sign_in_and_allow

    _sign_in_to_awesomeservice(world)
    browser = world.browser
    sent = debugger_send(world, response_type="token", scope="photos.read")
    back = _sign_in_and_allow(world, sent)
    fragment = back.headers["location"].split("#", 1)[1]
    page = browser.follow(back)
    answer = browser.submit(find_form(page.text, "/debugger/callback"), **dict(parse_qsl(fragment)))
    assert "/console?source=debugger" in answer.text
    page = browser.get(f"{AWESOME}/console?source=debugger&preset=photos")
    response = browser.submit(find_form(page.text, "/console/send"))
    assert response.status_code == 200 and "HTTP/1.1 200 OK" in response.text
