"""The flow inspector follows the whole story: every entry in order, labelled with the article's
step and its RFC section, secrets redacted in every page, export and log line."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import Session, select

from awesomeservice.inspector.labels import CALLBACK_ERROR
from awesomeservice.inspector.params import meaning
from awesomeservice.models import MockgramConnection, PendingAuthorization
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
from tests.e2e.test_login_with_mockgram import _log_in_with_mockgram, _through_mockgram
from tests.e2e.test_story import _connect_until_consent, _sign_in_to_awesomeservice

ENTRY = re.compile(r'<li class="timeline-entry[^"]*" data-kind="([a-z_]+)" data-step="(\d*)">')
# Calls a flow may make besides its numbered steps (discovery and keys may be cached).
HOUSEKEEPING = {"discovery", "jwks", "userinfo"}


def _entries(html: str) -> list[tuple[str, str]]:
    """(kind, step) of every timeline entry on the page, in page order."""
    return ENTRY.findall(html)


def _run_the_story(world: World) -> dict[str, str]:
    """Sign in, connect, allow, see photos, try a delete; return what must stay hidden."""
    browser = world.browser
    _sign_in_to_awesomeservice(world)
    authorization_url, consent = _connect_until_consent(world)
    redirect = browser.submit(find_form(consent.text, "/consent"), button=("decision", "allow"))
    code = parse_qs(urlsplit(redirect.headers["location"]).query)["code"][0]
    photos = browser.follow(browser.follow(redirect))
    assert photos.status_code == 200
    first_photo = re.search(r'action="(/photos/\d+/try-delete)"', photos.text)
    assert first_photo
    refused = browser.submit(find_form(photos.text, first_photo.group(1)))
    assert "insufficient_scope" in refused.text
    with Session(world.awesome.state.engine) as db:
        connection = db.exec(select(MockgramConnection)).one()
        verifier = db.exec(select(PendingAuthorization)).one().code_verifier
    hidden = {
        "client secret": CLIENT_SECRET,
        "John's Mockgram password": MOCKGRAM_PASSWORD,
        "John's AwesomeService password": AWESOME_PASSWORD,
        "the whole code": code,
        "the PKCE verifier": verifier,
        "the whole access token": connection.access_token,
    }
    if connection.refresh_token:
        hidden["the whole refresh token"] = connection.refresh_token
    assert parse_qs(urlsplit(authorization_url).query)["client_id"] == ["awesomeservice"]
    return hidden


def test_the_timeline_follows_the_story_step_by_step(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hidden = _run_the_story(world)
    page = world.browser.get(f"{AWESOME}/inspector")
    assert page.status_code == 200
    entries = _entries(page.text)
    numbered = [(kind, step) for kind, step in entries if kind not in HOUSEKEEPING]
    # One flow: step 1 sent, step 4 received, step 5 the exchange, then step 6 API calls.
    assert numbered[:3] == [
        ("authorization_request", "1"),
        ("callback", "4"),
        ("token_request", "5"),
    ]
    assert numbered[3:] and all(entry == ("api_call", "6") for entry in numbered[3:])
    assert {kind for kind, _ in entries} - {
        "authorization_request",
        "callback",
        "token_request",
        "api_call",
    } <= HOUSEKEEPING
    text = unescape(page.text)
    # Labels: the article's step titles and links to the RFC sections.
    for link in (
        "https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1",
        "https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2",
        "https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3",
        "https://www.rfc-editor.org/rfc/rfc6750#section-2.1",
    ):
        assert f'href="{link}"' in page.text
    assert "The article: AwesomeService trades the code for a token." in text
    # The token request: Basic with the client id decoded and the secret hidden.
    assert "Basic ****  (client_id “awesomeservice”, secret hidden)" in text
    assert f"{hidden['the whole code'][:4]}… ({len(hidden['the whole code'])} chars)" in text
    # The access token decoded, its signature checked against Mockgram's JWKS, expiry in words.
    assert "Valid signature (RS256" in text or "Valid signature (ES256" in text
    assert re.search(r"expires in 1[0-9] minutes", text)
    assert '"scope": "photos.read"' in text
    # The refused delete: 403 and the bearer challenge.
    assert "insufficient_scope" in text and '→ <span class="status status-4xx">403' in page.text

    diagram = world.browser.get(f"{AWESOME}/inspector/diagram")
    assert diagram.status_code == 200 and "<svg" in diagram.text
    assert "Mockgram photos API" in diagram.text

    mermaid = world.browser.get(f"{AWESOME}/inspector/export.mmd")
    assert mermaid.status_code == 200
    lines = mermaid.text.strip().splitlines()
    assert lines[0] == "sequenceDiagram"
    arrow = re.compile(r"^    (B|C|AS|API)(->>|-->>)(B|C|AS|API): .+$")
    for line in lines[1:]:
        assert line.startswith("    participant ") or arrow.match(line), line
    assert "    C->>B: 1. redirect to the authorization endpoint" in lines
    assert "    C->>AS: 5. POST /oauth/token" in lines
    assert any(line.startswith("    C->>API: 6. GET /api/photos") for line in lines)

    har = world.browser.get(f"{AWESOME}/inspector/export.har")
    assert har.status_code == 200
    log = json.loads(har.text)["log"]
    assert log["version"] == "1.2" and len(log["entries"]) == len(entries)
    for item in log["entries"]:
        assert {"startedDateTime", "time", "request", "response", "cache", "timings"} <= set(item)
        assert {"method", "url", "headers", "queryString", "cookies"} <= set(item["request"])
        assert {"status", "content", "headers", "redirectURL"} <= set(item["response"])
    token_entry = next(e for e in log["entries"] if e["request"]["url"].endswith("/oauth/token"))
    assert token_entry["comment"].startswith("Step 5:")
    posted = {p["name"]: p["value"] for p in token_entry["request"]["postData"]["params"]}
    assert posted["grant_type"] == "authorization_code"
    assert posted["code_verifier"].endswith("chars)") and posted["code"].endswith("chars)")

    # Nothing secret in any page, export or log line.
    pages = {
        "timeline": page.text,
        "diagram": diagram.text,
        "mermaid": mermaid.text,
        "har": har.text,
        "log": "\n".join(record.getMessage() for record in caplog.records),
    }
    for where, content in pages.items():
        for what, secret in hidden.items():
            if where == "log" and what == "the whole code":
                # The test's own browser logs the URLs it visits, the callback's among them
                # (as a server's access log would); the code there is already redeemed.
                continue
            assert secret not in content, f"{what} appears in the {where}"
            assert secret not in unescape(content), f"{what} appears in the {where}"


def test_each_browser_sees_only_its_own_recording_and_can_clear_it(world: World) -> None:
    _run_the_story(world)
    # Another browser (no inspector cookie) sees nothing.
    stranger = world.awesome_client.__class__(world.awesome, base_url=AWESOME)
    with stranger:
        other = stranger.get(f"{AWESOME}/inspector")
        assert other.status_code == 200 and _entries(other.text) == []
        assert "Nothing recorded yet" in other.text

    page = world.browser.get(f"{AWESOME}/inspector")
    assert _entries(page.text)
    form = find_form(page.text, "/inspector/clear")
    refused = world.awesome_client.post(f"{AWESOME}/inspector/clear", data={"csrf_token": "wrong"})
    assert refused.status_code == 403
    assert _entries(world.browser.get(f"{AWESOME}/inspector").text)
    cleared = world.browser.submit(form)
    assert cleared.status_code == 303
    after = world.browser.get(f"{AWESOME}/inspector")
    assert _entries(after.text) == [] and "The recording was cleared." in after.text


def test_the_inspector_id_survives_signing_in(world: World) -> None:
    world.browser.get(f"{AWESOME}/inspector")
    before = world.awesome_client.cookies.get("awesomeservice_inspector")
    assert before
    _sign_in_to_awesomeservice(world)
    assert world.awesome_client.cookies.get("awesomeservice_inspector") == before


def _turn_stepping_on(world: World) -> None:
    page = world.browser.get(f"{AWESOME}/inspector")
    toggled = world.browser.submit(find_form(page.text, "/inspector/stepping"))
    assert toggled.status_code == 303
    assert "Step-through is <strong>on</strong>" in world.browser.get(f"{AWESOME}/inspector").text


def test_step_through_pauses_and_a_changed_code_breaks_the_exchange(world: World) -> None:
    browser = world.browser
    _sign_in_to_awesomeservice(world)
    _turn_stepping_on(world)
    paused = browser.submit(find_form(browser.get(f"{AWESOME}/").text, "/connect"))
    assert paused.status_code == 200 and "About to send your browser" in paused.text
    sent = browser.submit(find_form(paused.text, "/inspector/step/send"))
    assert sent.status_code == 303 and sent.headers["location"].startswith(f"{MOCKGRAM}/")
    login = browser.follow(browser.follow(sent))
    consent = browser.follow(
        browser.submit(find_form(login.text, "/login"), username="john", password=MOCKGRAM_PASSWORD)
    )
    back = browser.submit(find_form(consent.text, "/consent"), button=("decision", "allow"))
    before_exchange = browser.follow(back)
    assert before_exchange.status_code == 200
    assert "About to trade the code for tokens" in before_exchange.text
    assert CLIENT_SECRET not in before_exchange.text
    with Session(world.awesome.state.engine) as db:
        assert db.exec(select(MockgramConnection)).first() is None  # nothing traded yet

    edited = browser.submit(
        find_form(before_exchange.text, "/inspector/step/send"), p_code="a-code-nobody-issued"
    )
    assert edited.status_code == 303
    assert "code=a-code-nobody-issued" in edited.headers["location"]
    refused = browser.follow(edited)
    assert refused.status_code == 400 and "invalid_grant" in refused.text
    timeline = world.browser.get(f"{AWESOME}/inspector").text
    kinds = [kind for kind, _ in _entries(timeline) if kind not in HOUSEKEEPING]
    # Newest flow first: the edited callback, then the token request refused.
    assert kinds[:4] == ["authorization_request", "callback", "callback", "token_request"]
    assert "400 invalid_grant" in unescape(timeline)


def test_step_through_a_changed_redirect_uri_is_refused_by_mockgram(world: World) -> None:
    browser = world.browser
    _sign_in_to_awesomeservice(world)
    _turn_stepping_on(world)
    paused = browser.submit(find_form(browser.get(f"{AWESOME}/").text, "/connect"))
    sent = browser.submit(
        find_form(paused.text, "/inspector/step/send"),
        p_redirect_uri="http://attacker.test/steal",
        p_client_id="someone-else",  # not editable: ignored
    )
    location = sent.headers["location"]
    query = parse_qs(urlsplit(location).query)
    assert query["redirect_uri"] == ["http://attacker.test/steal"]
    assert query["client_id"] == ["awesomeservice"]
    answer = browser.get(location)
    assert answer.status_code == 400  # an error page at Mockgram, never a redirect
    timeline = unescape(world.browser.get(f"{AWESOME}/inspector").text)
    assert "as sent after you edited it" in timeline
    assert "redirect_uri=http%3A%2F%2Fattacker.test%2Fsteal" in timeline


def test_each_authorization_parameter_is_explained(world: World) -> None:
    _run_the_story(world)
    text = unescape(world.browser.get(f"{AWESOME}/inspector").text)
    for name in ("client_id", "redirect_uri", "scope", "response_type", "state", "code_challenge"):
        explanation, section = meaning(name)
        assert explanation in text, name
        assert section in text, name


def test_a_denied_callback_is_an_error_entry_at_step_4(world: World) -> None:
    browser = world.browser
    _sign_in_to_awesomeservice(world)
    _, consent = _connect_until_consent(world)
    denied = browser.submit(find_form(consent.text, "/consent"), button=("decision", "deny"))
    assert "error=access_denied" in denied.headers["location"]
    assert browser.follow(denied).status_code == 200
    page = world.browser.get(f"{AWESOME}/inspector")
    numbered = [entry for entry in _entries(page.text) if entry[0] not in HOUSEKEEPING]
    assert numbered[:2] == [("authorization_request", "1"), ("callback", "4")]
    assert "token_request" not in {kind for kind, _ in numbered}  # nothing to trade
    text = unescape(page.text)
    assert CALLBACK_ERROR.title in text and "access_denied" in text
    assert f'href="{CALLBACK_ERROR.rfc_url}"' in page.text


def test_refresh_and_revocation_are_recorded_with_no_whole_token(world: World) -> None:
    hidden = _run_the_story(world)
    with Session(world.awesome.state.engine) as db:
        row = db.exec(select(MockgramConnection)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.add(row)
        db.commit()
    assert world.browser.get(f"{AWESOME}/photos").status_code == 200  # refreshed on the way
    with Session(world.awesome.state.engine) as db:
        refreshed = db.exec(select(MockgramConnection)).one()
    assert refreshed.refresh_token and refreshed.refresh_token != hidden["the whole refresh token"]
    hidden["the new refresh token"] = refreshed.refresh_token
    hidden["the new access token"] = refreshed.access_token
    home = world.browser.get(f"{AWESOME}/")
    assert world.browser.submit(find_form(home.text, "/connect/disconnect")).status_code == 303

    page = world.browser.get(f"{AWESOME}/inspector")
    kinds = [kind for kind, _ in _entries(page.text)]
    assert "refresh" in kinds and kinds.count("revocation") == 2  # refresh and access token
    text = unescape(page.text)
    assert "Refresh: a new access token for an old refresh token" in text
    assert "Revocation: the token is handed back" in text
    har = world.browser.get(f"{AWESOME}/inspector/export.har").text
    for where, content in {"timeline": page.text, "har": har}.items():
        for what, secret in hidden.items():
            assert secret not in content and secret not in unescape(content), (what, where)


def test_log_in_with_mockgram_shows_the_id_token_decoded_and_checked(world: World) -> None:
    callback = _log_in_with_mockgram(world)
    assert callback.status_code == 303
    page = world.browser.get(f"{AWESOME}/inspector")
    text = " ".join(re.sub(r"<[^>]+>", " ", unescape(page.text)).split())  # as a reader sees it
    id_token = text[text.index("id_token eyJ") :]  # the token response's id_token, decoded
    assert '"nonce":' in id_token and re.search(r'"aud": \[\s*"awesomeservice"\s*\]', id_token)
    assert f'"iss": "{MOCKGRAM}"' in id_token and '"azp": "awesomeservice"' in id_token
    assert "Valid signature (RS256" in id_token
    assert re.search(r"expires in \d+ minutes", text)
    assert CLIENT_SECRET not in page.text and MOCKGRAM_PASSWORD not in page.text


def test_step_through_pauses_at_steps_1_5_and_6_and_the_story_still_ends_with_photos(
    world: World,
) -> None:
    browser = world.browser
    _sign_in_to_awesomeservice(world)
    _turn_stepping_on(world)
    paused = browser.submit(find_form(browser.get(f"{AWESOME}/").text, "/connect"))
    assert "About to send your browser" in paused.text
    login = browser.follow(
        browser.follow(browser.submit(find_form(paused.text, "/inspector/step/send")))
    )
    consent = browser.follow(
        browser.submit(find_form(login.text, "/login"), username="john", password=MOCKGRAM_PASSWORD)
    )
    back = browser.submit(find_form(consent.text, "/consent"), button=("decision", "allow"))
    before_exchange = browser.follow(back)
    assert "About to trade the code for tokens" in before_exchange.text
    to_photos = browser.follow(
        browser.submit(find_form(before_exchange.text, "/inspector/step/send"))
    )
    assert to_photos.status_code == 303 and to_photos.headers["location"] == "/photos"
    before_api = browser.follow(to_photos)
    assert before_api.status_code == 200
    text = unescape(before_api.text)
    assert "About to call Mockgram's photos API" in text and "Step 6 of 6" in text
    assert f"GET {MOCKGRAM}/api/photos" in text
    assert "Nothing here can be changed" in text and "only the values below" not in text
    with Session(world.awesome.state.engine) as db:
        token = db.exec(select(MockgramConnection)).one().access_token
    # Shortened, never whole.
    assert f"Bearer {token[:12]}… ({len(token)} characters)" in text and token not in text
    calls = [kind for kind, _ in _entries(browser.get(f"{AWESOME}/inspector").text)]
    assert "api_call" not in calls  # paused before the call
    sent = browser.submit(find_form(before_api.text, "/inspector/step/send"))
    assert sent.status_code == 303 and sent.headers["location"] == "/photos"
    photos = browser.follow(sent)
    assert photos.status_code == 200 and "try-delete" in photos.text
    assert "api_call" in [kind for kind, _ in _entries(browser.get(f"{AWESOME}/inspector").text)]
    # The next visit pauses again: one Send lets one call through.
    assert "About to call Mockgram's photos API" in browser.get(f"{AWESOME}/photos").text


def _expire_the_access_token(world: World) -> MockgramConnection:
    with Session(world.awesome.state.engine) as db:
        row = db.exec(select(MockgramConnection)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.add(row)
        db.commit()
        db.refresh(row)
        return row


def test_step_through_pauses_before_a_refresh_then_before_the_api_call(world: World) -> None:
    _run_the_story(world)
    expired = _expire_the_access_token(world)
    assert expired.refresh_token
    _turn_stepping_on(world)
    browser = world.browser
    paused = browser.get(f"{AWESOME}/photos")
    text = unescape(paused.text)
    assert paused.status_code == 200 and "About to refresh the access token" in text
    assert f"POST {MOCKGRAM}/oauth/token" in text and "refresh_token" in text
    rt = expired.refresh_token
    assert f"{rt[:12]}… ({len(rt)} characters)" in text and rt not in text
    with Session(world.awesome.state.engine) as db:  # nothing sent yet
        assert db.exec(select(MockgramConnection)).one().refresh_token == rt
    sent = browser.submit(find_form(paused.text, "/inspector/step/send"))
    assert sent.status_code == 303 and sent.headers["location"] == "/photos"
    before_api = browser.follow(sent)  # refreshed, then paused again before the API call
    assert "About to call Mockgram's photos API" in unescape(before_api.text)
    with Session(world.awesome.state.engine) as db:
        refreshed = db.exec(select(MockgramConnection)).one()
    assert refreshed.refresh_token and refreshed.refresh_token != rt  # rotated (C9)
    photos = browser.follow(browser.submit(find_form(before_api.text, "/inspector/step/send")))
    assert photos.status_code == 200 and "try-delete" in photos.text


def test_step_through_pauses_before_disconnect_revokes_and_send_posts_the_form_again(
    world: World,
) -> None:
    _run_the_story(world)
    _turn_stepping_on(world)
    browser = world.browser
    home = browser.get(f"{AWESOME}/")
    paused = browser.submit(find_form(home.text, "/connect/disconnect"))
    text = unescape(paused.text)
    assert paused.status_code == 200 and "About to revoke the tokens at Mockgram" in text
    assert f"POST {MOCKGRAM}/oauth/revoke" in text and "RFC 7009" in text
    with Session(world.awesome.state.engine) as db:  # nothing revoked or forgotten yet
        connection = db.exec(select(MockgramConnection)).one()
    token = connection.access_token
    assert f"{token[:12]}… ({len(token)} characters)" in text and token not in text
    assert "revocation" not in [
        kind for kind, _ in _entries(browser.get(f"{AWESOME}/inspector").text)
    ]
    # Send posts the same form to /connect/disconnect, which now revokes.
    done = browser.submit(find_form(paused.text, "/connect/disconnect"))
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert "Mockgram revoked" in unescape(browser.follow(done).text)
    with Session(world.awesome.state.engine) as db:
        assert db.exec(select(MockgramConnection)).all() == []
    kinds = [kind for kind, _ in _entries(browser.get(f"{AWESOME}/inspector").text)]
    assert kinds.count("revocation") == 2
    # The pause was used up: posting the paused form once more would pause again, not revoke.
    again = browser.submit(find_form(paused.text, "/connect/disconnect"))
    assert again.status_code == 303  # no connection left: "nothing to disconnect"
    assert "no Mockgram connection to disconnect" in unescape(browser.follow(again).text)


def test_step_through_before_a_logins_exchange_names_the_calls_that_follow(world: World) -> None:
    _sign_in_to_awesomeservice(world)
    _turn_stepping_on(world)
    browser = world.browser
    # Signed in, the button links the Mockgram account: the same login flow, by POST.
    page = browser.get(f"{AWESOME}/login/mockgram")
    paused_start = browser.submit(find_form(page.text, "/login/mockgram"))
    assert "About to send your browser" in paused_start.text
    sent = browser.submit(find_form(paused_start.text, "/inspector/step/send"))
    redirect = _through_mockgram(world, browser.follow(sent))
    assert redirect.headers["location"].startswith(f"{AWESOME}/login/callback?")
    response = browser.follow(redirect)
    text = unescape(response.text)
    assert "About to trade the code for tokens" in text, text[:500]
    assert "GET jwks_uri" in text and "GET userinfo_endpoint" in text
    assert "client_id “awesomeservice”" in text and CLIENT_SECRET not in text
