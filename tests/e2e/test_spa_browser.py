"""The SPA demos' JavaScript in a real browser (headless Chromium) against real servers:
John gets a token in the page, the photos appear through blob: URLs, and the address bar is
cleaned; when he presses Deny, the page says access_denied and asks for nothing more.
Skipped, with the reason, where Chromium or Playwright is missing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from awesomeservice.app import create_app as create_awesomeservice
from awesomeservice.settings import AwesomeServiceSettings
from mockgram.app import create_app as create_mockgram
from mockgram.settings import MockgramSettings
from tests.browser.chromium import CHROMIUM, launch_options
from tests.e2e.servers import bind_free_port

PASSWORD = "spa-browser-password"
CLIENT_SECRET = "spa-browser-client-secret"  # the print shop's, for the attack lab's back channel

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}")


@contextmanager
def _serve(app: FastAPI, sock: object) -> Iterator[None]:
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    ready = threading.Event()
    while not server.started and thread.is_alive():
        ready.wait(0.02)
    assert server.started, "the server did not start"
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def servers(mockgram_database_url: str, awesome_database_url: str) -> Iterator[tuple[str, str]]:
    """Both apps on loopback ports known to each other: (awesomeservice URL, Mockgram URL)."""
    m_sock, a_sock = bind_free_port(), bind_free_port()
    mockgram_url = f"http://127.0.0.1:{m_sock.getsockname()[1]}"
    awesome_url = f"http://127.0.0.1:{a_sock.getsockname()[1]}"
    mockgram = create_mockgram(
        MockgramSettings(
            issuer=mockgram_url,
            database_url=mockgram_database_url,
            secret_key="spa-browser-mockgram",
            demo_password=PASSWORD,
            awesomeservice_url=awesome_url,
            awesomeservice_client_secret=CLIENT_SECRET,
        )
    )
    awesome = create_awesomeservice(
        AwesomeServiceSettings(
            url=awesome_url,
            database_url=awesome_database_url,
            mockgram_url=mockgram_url,
            secret_key="spa-browser-awesome",
            client_secret=CLIENT_SECRET,
            lab_mockgram_password=PASSWORD,  # the lab plays Jane, a seeded Mockgram account
        )
    )
    with _serve(mockgram, m_sock), _serve(awesome, a_sock):
        yield awesome_url, mockgram_url
    m_sock.close()
    a_sock.close()


@contextmanager
def _chromium_page() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_options())
        context = browser.new_context()
        context.set_default_timeout(15_000)
        yield context.new_page()
        context.close()
        browser.close()


def in_browser(scenario: Callable[[object], None]) -> None:
    """Run `scenario(page)` in a thread of its own: Playwright's sync API refuses a thread
    where another test left an asyncio loop behind."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            with _chromium_page() as page:
                scenario(page)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            failures.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive(), "the browser scenario did not finish"
    if failures:
        raise failures[0]


def _sign_in_and_decide(page: object, mockgram_url: str, decision: str = "allow") -> None:
    """Mockgram's login, then Allow or Deny on its consent page."""
    page.wait_for_url(f"{mockgram_url}/login**")  # type: ignore[attr-defined]
    page.fill('input[name="username"]', "john")  # type: ignore[attr-defined]
    page.fill('input[name="password"]', PASSWORD)  # type: ignore[attr-defined]
    page.click('main form[action^="/login"] button[type="submit"]')  # type: ignore[attr-defined]
    page.wait_for_url(f"{mockgram_url}/consent**")  # type: ignore[attr-defined]
    page.click(f'button[name="decision"][value="{decision}"]')  # type: ignore[attr-defined]


@pytest.mark.parametrize("flow", ["implicit", "pkce"])
def test_spa_gets_a_token_and_shows_johns_photos(servers: tuple[str, str], flow: str) -> None:
    in_browser(lambda page: _token_and_photos(page, *servers, flow))


def _token_and_photos(page: object, awesome_url: str, mockgram_url: str, flow: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))  # type: ignore[attr-defined]
    page.goto(f"{awesome_url}/spa/{flow}")  # type: ignore[attr-defined]
    page.click("#spa-start")  # type: ignore[attr-defined]
    _sign_in_and_decide(page, mockgram_url)
    page.wait_for_url(f"{awesome_url}/spa/{flow}**")  # type: ignore[attr-defined]
    page.wait_for_selector('#spa-photos img[src^="blob:"]', timeout=15_000)  # type: ignore[attr-defined]
    status = page.text_content("#spa-status") or ""  # type: ignore[attr-defined]
    assert "read 12 photos" in status
    # The answer (token or code) was removed from the address bar, and the page says so.
    assert page.url == f"{awesome_url}/spa/{flow}"  # type: ignore[attr-defined]
    note = page.text_content("#spa-fragment") or ""  # type: ignore[attr-defined]
    assert "replaceState" in note or "removed it" in note
    if flow == "implicit":  # what travelled, shown before the address bar was cleared
        sent = page.text_content("#spa-sent-url") or ""  # type: ignore[attr-defined]
        assert sent.startswith(f"{mockgram_url}/oauth/authorize?"), sent
        assert "response_type=token" in sent
        back = page.text_content("#spa-came-back") or ""  # type: ignore[attr-defined]
        assert back.startswith(f"{awesome_url}/spa/implicit#access_token=") and "state=" in back
        assert "characters)" in back  # the token shortened
    # Nothing but the state (and, for PKCE, nothing at all now) is left in sessionStorage.
    stored = page.evaluate("Object.keys(sessionStorage)")  # type: ignore[attr-defined]
    assert stored == []
    assert errors == []


def test_implicit_spa_refuses_an_answer_with_a_foreign_state(servers: tuple[str, str]) -> None:
    in_browser(lambda page: _foreign_state(page, servers[0]))


def _foreign_state(page: object, awesome_url: str) -> None:
    page.goto(f"{awesome_url}/spa/implicit")  # type: ignore[attr-defined]
    page.evaluate("sessionStorage.setItem('spa-implicit-state', 'mine')")  # type: ignore[attr-defined]
    page.goto("about:blank")  # type: ignore[attr-defined]  # a fresh document, same tab
    page.goto(  # type: ignore[attr-defined]
        f"{awesome_url}/spa/implicit#access_token=injected&token_type=Bearer&state=theirs"
    )
    page.locator("#spa-status", has_text="Refused").wait_for()  # type: ignore[attr-defined]
    assert page.url == f"{awesome_url}/spa/implicit"  # type: ignore[attr-defined]
    assert page.locator("#spa-photos img").count() == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("flow", ["implicit", "pkce"])
def test_spa_shows_access_denied_when_john_denies(servers: tuple[str, str], flow: str) -> None:
    in_browser(lambda page: _denied(page, *servers, flow))


def _denied(page: object, awesome_url: str, mockgram_url: str, flow: str) -> None:
    errors: list[str] = []
    requests: list[str] = []
    redirects: list[str] = []  # Mockgram's Location headers: a fragment never reaches a server
    page.on("pageerror", lambda exc: errors.append(str(exc)))  # type: ignore[attr-defined]
    page.on("request", lambda request: requests.append(request.url))  # type: ignore[attr-defined]
    page.on(  # type: ignore[attr-defined]
        "response",
        lambda response: (
            redirects.append(response.headers.get("location", ""))
            if response.url.startswith(mockgram_url)
            else None
        ),
    )
    page.goto(f"{awesome_url}/spa/{flow}")  # type: ignore[attr-defined]
    api = page.get_attribute("#spa", "data-api") or ""  # type: ignore[attr-defined]
    assert api.startswith(mockgram_url)
    page.click("#spa-start")  # type: ignore[attr-defined]
    _sign_in_and_decide(page, mockgram_url, "deny")
    # Mockgram's answer (RFC 6749 §4.1.2.1 / §4.2.2.1) carries error=access_denied, no token.
    page.wait_for_url(f"{awesome_url}/spa/{flow}**")  # type: ignore[attr-defined]
    status = page.locator("#spa-status", has_text="access_denied")  # type: ignore[attr-defined]
    status.wait_for()
    assert "Mockgram answered access_denied" in (status.text_content() or "")
    note = page.text_content("#spa-fragment") or ""  # type: ignore[attr-defined]
    assert "no token" in note and "access_token=" not in note and "redeem" not in note
    assert page.url == f"{awesome_url}/spa/{flow}"  # type: ignore[attr-defined]
    # No token: none in the answer, no code redeemed, the photos API never called.
    answer = [url for url in redirects if url.startswith(f"{awesome_url}/spa/{flow}")]
    assert len(answer) == 1 and "error=access_denied" in answer[0], redirects
    assert "access_token" not in answer[0] and "code=" not in answer[0]
    assert not [url for url in requests if "/oauth/token" in url or url.startswith(api)]
    assert page.locator("#spa-photos img").count() == 0  # type: ignore[attr-defined]
    assert page.locator("#spa-photos figure").count() == 0  # type: ignore[attr-defined]
    assert page.evaluate("Object.keys(sessionStorage)") == []  # type: ignore[attr-defined]
    assert errors == []


def test_pkce_spa_binds_its_token_to_a_non_extractable_dpop_key(servers: tuple[str, str]) -> None:
    in_browser(lambda page: _dpop(page, *servers))


def _dpop(page: object, awesome_url: str, mockgram_url: str) -> None:
    errors: list[str] = []
    api_calls: list[dict[str, str]] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))  # type: ignore[attr-defined]
    page.on(  # type: ignore[attr-defined]
        "request",
        lambda request: (
            api_calls.append(request.headers)
            if request.url.startswith(f"{mockgram_url}/api/") and request.method == "GET"
            else None
        ),
    )
    page.goto(f"{awesome_url}/spa/pkce")  # type: ignore[attr-defined]
    page.check("#spa-dpop")  # type: ignore[attr-defined]
    page.click("#spa-start")  # type: ignore[attr-defined]
    _sign_in_and_decide(page, mockgram_url)
    page.wait_for_url(f"{awesome_url}/spa/pkce**")  # type: ignore[attr-defined]
    page.wait_for_selector('#spa-photos img[src^="blob:"]', timeout=15_000)  # type: ignore[attr-defined]
    assert "read 12 photos" in (page.text_content("#spa-status") or "")  # type: ignore[attr-defined]
    note = page.text_content("#spa-dpop-note") or ""  # type: ignore[attr-defined]
    assert "not extractable" in note and "token_type DPoP" in note
    # The proofs the page sent, decoded on the page: the token request's, then the API's.
    proofs = page.text_content("#spa-dpop-proofs") or ""  # type: ignore[attr-defined]
    assert '"typ": "dpop+jwt"' in proofs and '"alg": "ES256"' in proofs
    assert f'"htu": "{mockgram_url}/oauth/token"' in proofs and '"ath":' in proofs
    assert '"d":' not in proofs  # the public key only
    # Every API call used the DPoP scheme with a proof of its own.
    assert api_calls and all(h["authorization"].startswith("DPoP ") for h in api_calls)
    assert len({h["dpop"] for h in api_calls}) == len(api_calls)
    assert page.evaluate("Object.keys(sessionStorage)") == []  # type: ignore[attr-defined]
    assert errors == []


def test_lab_attack_9_stolen_token_clicked_through(servers: tuple[str, str]) -> None:
    in_browser(lambda page: _stolen_token(page, servers[0]))


def _stolen_token(page: object, awesome_url: str) -> None:
    page.goto(f"{awesome_url}/lab")  # type: ignore[attr-defined]
    page.click('form[action="/lab/stolen-token"] button[type="submit"]')  # type: ignore[attr-defined]
    page.locator("text=Defence held").first.wait_for()  # type: ignore[attr-defined]
    text = page.text_content("main") or ""  # type: ignore[attr-defined]
    # Both outcomes on one page: the bearer token worked for the thief, the bound one did not.
    assert "the stolen bearer token read Jane's photos" in text
    assert "invalid_dpop_proof" in text and 'DPoP error="invalid_token"' in text
