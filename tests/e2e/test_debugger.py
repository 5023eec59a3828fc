"""The OAuth debugger completes flows against Mockgram: compose, send, sign in, consent, see the
answer decoded, exchange the code (secret and PKCE verifier from the server side). The code flow,
the hybrid flow by form_post and the implicit `id_token token` flow by fragment, the last two with
the seeded debugger client from one-click URLs (README), the id_token's c_hash / at_hash checked."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from sqlmodel import Session, select

from awesomeservice.models import DebuggerRequest
from awesomeservice.settings import AwesomeServiceSettings
from mockgram.demo.seed import DEBUGGER_CLIENT_ID
from shared.demo import DEBUGGER_CLIENT_SECRET
from tests.e2e.browser import find_form
from tests.e2e.conftest import AWESOME, CLIENT_SECRET, MOCKGRAM, MOCKGRAM_PASSWORD, World
from tests.e2e.test_kiosk import approve_on_phone


def _send(world: World, path: str = "/debugger", **fields: str) -> Any:
    browser = world.browser
    page = browser.get(f"{AWESOME}{path}")
    assert page.status_code == 200 and "Compose an authorization request" in page.text
    form = find_form(page.text, "/debugger")
    return browser.submit(form, **fields)


def _sign_in_and_allow(world: World, sent: object) -> object:
    browser = world.browser
    login = browser.follow(browser.follow(sent))
    assert urlsplit(browser.url).path == "/login"
    consent = browser.follow(
        browser.submit(find_form(login.text, "/login"), username="john", password=MOCKGRAM_PASSWORD)
    )
    assert urlsplit(browser.url).path == "/consent"
    return browser.submit(find_form(consent.text, "/consent"), button=("decision", "allow"))


def test_debugger_completes_a_code_flow_against_mockgram(world: World) -> None:
    browser = world.browser
    sent = _send(
        world,
        client_id="awesomeservice",  # the web app's own client: registered for code only
        client_secret=CLIENT_SECRET,
        scope="openid photos.read",
        state="debugger-state-123",
        nonce="debugger-nonce-456",
    )
    assert sent.status_code == 303
    location = sent.headers["location"]
    assert location.startswith(f"{MOCKGRAM}/oauth/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query["client_id"] == "awesomeservice"
    assert query["redirect_uri"] == f"{AWESOME}/debugger/callback"
    assert query["state"] == "debugger-state-123" and query["nonce"] == "debugger-nonce-456"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert CLIENT_SECRET not in location
    with Session(world.awesome.state.engine) as db:
        stored = db.exec(select(DebuggerRequest)).one()
        assert stored.client_secret == CLIENT_SECRET and stored.code_verifier

    back = _sign_in_and_allow(world, sent)
    assert back.headers["location"].startswith(f"{AWESOME}/debugger/callback?")
    answer = browser.follow(back)
    assert answer.status_code == 200
    assert "matches" in answer.text and "equals" in answer.text  # state and iss checked
    assert CLIENT_SECRET not in answer.text

    exchanged = browser.submit(find_form(answer.text, "/debugger/exchange"))
    assert exchanged.status_code == 200, exchanged.text[:2000]
    text = exchanged.text
    assert "The token endpoint answered <strong>200</strong>" in text
    assert "access_token" in text and "Valid signature" in text
    assert "nonce equals the one sent" in text and "FAILED" not in text
    assert CLIENT_SECRET not in text
    with Session(world.awesome.state.engine) as db:
        stored = db.exec(select(DebuggerRequest)).one()
        assert stored.exchanged_at is not None and stored.client_secret == ""

    # The same code cannot be exchanged twice from the debugger.
    assert "Exchange the code" not in text


def test_debugger_explains_an_error_answer(world: World) -> None:
    # A scope the client may not have: Mockgram answers invalid_scope at once (checklist 6).
    sent = _send(world, scope="photos.write")
    back = world.browser.follow(sent)
    assert back.headers["location"].startswith(f"{AWESOME}/debugger/callback?")
    page = world.browser.follow(back)
    assert page.status_code == 400
    assert "invalid_scope" in page.text and "not allowed for this client" in page.text
    assert "matches" in page.text  # the state came back and is ours


def test_debugger_refuses_a_plain_http_provider(world: World) -> None:
    page = _send(world, discovery_url="http://169.254.169.254/latest")
    assert page.status_code == 400 and "https://" in page.text


def test_the_fragment_page_posts_the_fragment_back(world: World) -> None:
    page = world.browser.get(f"{AWESOME}/debugger/callback")
    assert page.status_code == 200
    assert 'src="/static/inspector/debugger_fragment.js"' in page.text
    script = world.browser.get(f"{AWESOME}/static/inspector/debugger_fragment.js")
    assert script.status_code == 200 and "replaceState" in script.text
    posted = world.awesome_client.post(
        f"{AWESOME}/debugger/callback",
        data={"_mode": "fragment", "error": "access_denied", "state": "nobody-sent-this"},
    )
    assert posted.status_code == 400
    assert "access_denied" in posted.text and "unknown" in posted.text


def test_a_cross_site_form_post_is_relayed_without_touching_the_session(world: World) -> None:
    # form_post from another site arrives without SameSite=Lax cookies (no inspector cookie).
    stranger = world.awesome_client.__class__(world.awesome, base_url=AWESOME)
    with stranger:
        relay = stranger.post(
            f"{AWESOME}/debugger/callback", data={"code": "abc", "state": "some-state"}
        )
    assert relay.status_code == 200 and 'data-relay="1"' in relay.text
    assert "set-cookie" not in relay.headers  # neither a new session nor a new inspector id
    form = find_form(relay.text, "/debugger/callback")
    assert dict(form.fields)["_mode"] == "form_post" and dict(form.fields)["code"] == "abc"


def test_the_debugger_defaults_to_the_client_mockgram_seeds_for_it() -> None:
    settings = AwesomeServiceSettings(demo=True, database_url="sqlite://")
    assert settings.debugger_client_id == DEBUGGER_CLIENT_ID
    assert settings.debugger_client_secret == DEBUGGER_CLIENT_SECRET


def _checks_pass(text: str, *checks: str) -> None:
    assert "Valid signature (RS256" in text
    for check in ("iss equals the issuer", "aud contains the client_id", "nonce equals", *checks):
        assert f"ok — {check}" in text, check
    assert "FAILED" not in text


def test_debugger_completes_a_hybrid_flow_by_form_post(world: World) -> None:
    browser = world.browser
    # The README's one-click URL; the seeded debugger client, its secret left to the server.
    sent = _send(world, "/debugger?response_type=code+id_token&response_mode=form_post")
    assert sent.status_code == 303
    query = dict(parse_qsl(urlsplit(sent.headers["location"]).query))
    assert query["client_id"] == DEBUGGER_CLIENT_ID
    assert (query["response_type"], query["response_mode"]) == ("code id_token", "form_post")
    assert query["code_challenge_method"] == "S256"
    assert DEBUGGER_CLIENT_SECRET not in sent.headers["location"]

    posted = _sign_in_and_allow(world, sent)
    while posted.status_code in (302, 303):
        posted = browser.follow(posted)
    # Form Post Response Mode §2: Mockgram's page carries the answer in a self-submitting form.
    assert posted.status_code == 200 and 'id="form-post-response"' in posted.text
    envelope = find_form(posted.text, "/debugger/callback")
    assert envelope.action == f"{AWESOME}/debugger/callback"
    assert {"code", "id_token", "state", "iss"} <= dict(envelope.fields).keys()
    answer = browser.submit(envelope)
    if 'data-relay="1"' in answer.text:  # a real browser sends no Lax cookies cross-site
        answer = browser.submit(find_form(answer.text, "/debugger/callback"))
    assert answer.status_code == 200, answer.text[:2000]
    assert "OAuth debugger · form_post" in answer.text
    assert "<strong>matches</strong>" in answer.text and "<strong>equals</strong>" in answer.text
    # The id_token from the authorization endpoint: decoded, verified, and bound to the code.
    _checks_pass(answer.text, "c_hash matches the code")

    exchanged = browser.submit(find_form(answer.text, "/debugger/exchange"))
    assert exchanged.status_code == 200, exchanged.text[:2000]
    assert "The token endpoint answered <strong>200</strong>" in exchanged.text
    assert "Client authentication: client_secret_basic" in exchanged.text
    _checks_pass(exchanged.text)
    assert DEBUGGER_CLIENT_SECRET not in answer.text + exchanged.text
    with Session(world.awesome.state.engine) as db:
        stored = db.exec(select(DebuggerRequest)).one()
        assert stored.exchanged_at is not None and stored.client_secret == ""
    # The inspector shows the answer as it came: a POST with a form body, not a query string.
    timeline = unescape(browser.get(f"{AWESOME}/inspector").text)
    assert f"POST {AWESOME}/debugger/callback" in timeline
    assert f"{AWESOME}/debugger/callback?" not in timeline
    mermaid = browser.get(f"{AWESOME}/inspector/export.mmd").text
    assert "B->>C: POST /debugger/callback (code " in mermaid


def test_debugger_completes_an_id_token_token_flow_by_fragment(world: World) -> None:
    browser = world.browser
    sent = _send(world, "/debugger?response_type=id_token+token")
    query = dict(parse_qsl(urlsplit(sent.headers["location"]).query))
    assert query["response_type"] == "id_token token" and "code_challenge" not in query
    with Session(world.awesome.state.engine) as db:
        stored = db.exec(select(DebuggerRequest)).one()
        assert stored.client_secret == "" and stored.code_verifier == ""  # no code, no secret

    back = _sign_in_and_allow(world, sent)
    location = back.headers["location"]
    assert location.startswith(f"{AWESOME}/debugger/callback#")
    fragment = urlsplit(location).fragment
    page = browser.follow(back)  # the fragment never reaches the server
    assert page.status_code == 200 and "Reading the answer from the fragment" in page.text
    # What debugger_fragment.js does: post the fragment's parameters back, marked as such.
    answer = browser.submit(find_form(page.text, "/debugger/callback"), **dict(parse_qsl(fragment)))
    assert answer.status_code == 200, answer.text[:2000]
    assert "OAuth debugger · fragment" in answer.text
    _checks_pass(answer.text, "at_hash matches the access_token")
    assert "Exchange the code" not in answer.text
    # The inspector says where the tokens were: after '#', never in a query string.
    timeline = unescape(browser.get(f"{AWESOME}/inspector").text)
    assert f"{AWESOME}/debugger/callback#" in timeline and "access_token=" in timeline
    assert not re.search(r"/debugger/callback\?[^\s\"<]*access_token", timeline)
    assert "no code, token or error" not in timeline


def test_debugger_runs_client_credentials_against_mockgram(world: World) -> None:
    browser = world.browser
    page = browser.get(f"{AWESOME}/debugger")
    form = find_form(page.text, "/debugger/client-credentials")
    answer = browser.submit(form, scope="photos.read", resource=f"{MOCKGRAM}/api")
    assert answer.status_code == 200, answer.text
    text = unescape(answer.text)
    assert "client credentials (RFC 6749 §4.4)" in text
    assert f'"sub": "{DEBUGGER_CLIENT_ID}"' in text and f'"aud": "{MOCKGRAM}/api"' in text
    assert DEBUGGER_CLIENT_SECRET not in text  # the seeded secret was used, never shown
    refused = browser.submit(
        find_form(browser.get(f"{AWESOME}/debugger").text, "/debugger/client-credentials"),
        scope="openid",
    )
    assert refused.status_code == 400 and "invalid_scope" in refused.text


def test_debugger_exchanges_a_code_with_a_dpop_proof(world: World) -> None:
    sent = _send(
        world, client_id="awesomeservice", client_secret=CLIENT_SECRET, scope="photos.read"
    )
    answer = world.browser.follow(_sign_in_and_allow(world, sent))
    assert "DPoP proof" in answer.text  # the option is offered beside the exchange button
    exchanged = world.browser.submit(find_form(answer.text, "/debugger/exchange"), dpop="1")
    text = exchanged.text.replace("&#34;", '"')
    assert exchanged.status_code == 200, text[:2000]
    assert '"token_type": "DPoP"' in text and '"cnf"' in text  # bound: cnf.jkt in the token
    assert "DPoP proof (RFC 9449 §4.2)" in text and '"typ": "dpop+jwt"' in text
    assert f'"htu": "{MOCKGRAM}/oauth/token"' in text


def test_debugger_plays_a_device_through_pending_slow_down_and_tokens(world: World) -> None:
    browser = world.browser
    form = find_form(browser.get(f"{AWESOME}/debugger").text, "/debugger/device")
    started = browser.submit(form, scope="photos.read")
    assert started.status_code == 200, started.text
    user_code = re.search(r'id="debugger-user-code">([A-Z]{4}-[A-Z]{4})<', started.text).group(1)
    assert f"{MOCKGRAM}/device" in started.text
    pending = browser.submit(find_form(started.text, "/debugger/device"))
    assert pending.status_code == 200 and "<code>authorization_pending</code>" in pending.text
    # RFC 8628 §3.5: polling again at once is too soon.
    slowed = browser.submit(find_form(pending.text, "/debugger/device"))
    assert "<code>slow_down</code>" in slowed.text
    assert "You may return to your device" in approve_on_phone(world, user_code).text
    done = browser.submit(find_form(slowed.text, "/debugger/device"))
    text = unescape(done.text)
    assert done.status_code == 200 and "The device got its tokens" in text
    assert '"token_type": "Bearer"' in text and '"client_id": "awesomeservice-kiosk"' in text
    assert 'action="/debugger/device"' not in text.split("</h1>", 1)[1]  # the flow is over
    # A used device_code is refused: the page says so and offers no further poll.
    again = browser.submit(find_form(slowed.text, "/debugger/device"))
    assert again.status_code == 400 and "<code>invalid_grant</code>" in again.text
