"""AwesomeService's own refusals explain themselves: /errors/{reason} gives cause, fix and RFC;
every refusal page — Connect's, the login's, Mockgram being unavailable — links there; the
provider's own error_uri is passed through as a plain link; the lab lists its attacks and has
no lab-mode switch unless lab mode is on. (The request that failed: test_refused_requests.py.)"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from awesomeservice.oauth.token_endpoint import TokenError
from awesomeservice.pages.errors_explained import REASONS
from tests.awesomeservice.conftest import (
    ISSUER,
    FakeMockgram,
    callback,
    log_in_with_mockgram,
    login,
    login_callback,
    start_connect,
    start_mockgram_login,
)

_EXPLAIN = re.compile(r'href="(/errors/([a-z_]+)\?ref=[A-Za-z0-9_-]{22})"')


def explanation_link(page: httpx.Response) -> tuple[str, str]:
    """The refusal page's link to its explanation: (url, reason)."""
    match = _EXPLAIN.search(page.text)
    assert match, "no link to an explanation"
    return match.group(1), match.group(2)


@pytest.mark.parametrize("reason", sorted(REASONS))
def test_each_refusal_reason_is_explained(page_reader: TestClient, reason: str) -> None:
    page = page_reader.get(f"/errors/{reason}")
    assert page.status_code == 200
    assert "Why it happens" in page.text and "What to do" in page.text
    assert REASONS[reason].rfc.split(";")[0] in page.text.replace("&#39;", "'")


def test_mockgram_codes_are_explained_here_and_link_mockgrams_page(
    page_reader: TestClient,
) -> None:
    page = page_reader.get("/errors/invalid_grant")
    assert page.status_code == 200
    assert "What the provider answered" in page.text
    assert "RFC 6749 §4.1.3, §5.2" in page.text
    assert f'href="{ISSUER}/errors/invalid_grant"' in page.text


@pytest.mark.parametrize("reason", ["whatever", "made-up_code"])
def test_an_unknown_reason_gets_a_generic_page_not_a_404(
    page_reader: TestClient, reason: str
) -> None:
    page = page_reader.get(f"/errors/{reason}")
    assert page.status_code == 200
    assert "AwesomeService has no page for this code" in page.text
    assert f"<code>{reason}</code>" in page.text
    assert "RFC 6749 §4.1.2.1, §5.2" in page.text


# ── a. and c.: every refusal page links its explanation ─────────────────────────────────────


def test_callback_refusal_links_to_its_explanation(client: TestClient) -> None:
    page = client.get("/connect/callback", params={"code": "c", "iss": ISSUER})
    assert page.status_code == 400
    url, reason = explanation_link(page)
    assert reason == "state_missing"
    assert client.get(url).status_code == 200


def test_id_token_refusal_on_connect_links_to_a_page_that_exists(
    client: TestClient, fake: FakeMockgram
) -> None:
    """Issue 4 audit: the id_token reasons had links that answered 404."""
    login(client)
    fake.issue_id_token = True
    fake.id_token_overrides = {"aud": ["someone-else"], "azp": None}
    _, params = start_connect(client)
    page = callback(client, code="the-code", state=params["state"], iss=ISSUER)
    assert page.status_code == 400
    url, reason = explanation_link(page)
    assert reason == "aud_mismatch"
    explained = client.get(url)
    assert explained.status_code == 200
    assert "The id_token is meant for another app" in explained.text


def test_login_refusal_links_to_its_explanation(client: TestClient) -> None:
    page = login_callback(client, code="c", iss=ISSUER)
    assert page.status_code == 400
    url, reason = explanation_link(page)
    assert reason == "state_missing"
    assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [({"exp": int(time.time()) - 3600}, "expired"), ({"nonce": "another"}, "nonce_mismatch")],
)
def test_login_id_token_refusal_links_to_its_explanation(
    client: TestClient, fake: FakeMockgram, overrides: dict[str, object], reason: str
) -> None:
    fake.id_token_overrides = overrides
    page = log_in_with_mockgram(client, fake)
    assert page.status_code == 400
    url, linked = explanation_link(page)
    assert linked == reason
    explained = client.get(url)
    assert explained.status_code == 200
    assert REASONS[reason].title in html.unescape(explained.text)


def test_login_userinfo_refusal_links_to_its_explanation(
    client: TestClient, fake: FakeMockgram
) -> None:
    fake.userinfo_overrides = {"sub": "someone-else"}
    page = log_in_with_mockgram(client, fake)
    assert page.status_code == 400
    assert explanation_link(page)[1] == "userinfo_sub_mismatch"


@pytest.mark.parametrize(
    ("failure", "reason"),
    [(httpx.ConnectError, "provider_unreachable"), (httpx.ReadTimeout, "provider_timeout")],
)
def test_mockgram_unavailable_links_to_its_explanation(
    client: TestClient, fake: FakeMockgram, failure: type[Exception], reason: str
) -> None:
    fake.discovery_failure = failure
    page = client.get("/login/mockgram")
    assert page.status_code in (502, 504)
    url, linked = explanation_link(page)
    assert linked == reason
    explained = client.get(url)
    assert explained.status_code == 200
    assert "GET /login/mockgram" in explained.text


def test_unreadable_answer_links_to_its_explanation(client: TestClient, fake: FakeMockgram) -> None:
    login(client)
    fake.token_not_json = True
    _, params = start_connect(client)
    page = callback(client, code="the-code", state=params["state"], iss=ISSUER)
    assert page.status_code == 502
    assert explanation_link(page)[1] == "provider_bad_answer"


# ── d. the provider's own error_uri, passed through ──────────────────────────────────────────


def _provider_error(browser: TestClient, *, login_flow: bool, **params: str) -> httpx.Response:
    """An error answer to a request this browser started (Connect or the login)."""
    if login_flow:
        state = start_mockgram_login(browser)["state"]
        return login_callback(browser, state=state, iss=ISSUER, **params)
    login(browser)
    _, started = start_connect(browser)
    return callback(browser, state=started["state"], iss=ISSUER, **params)


@pytest.mark.parametrize("login_flow", [False, True])
def test_authorization_error_uri_is_linked_beside_ours(
    client: TestClient, login_flow: bool
) -> None:
    uri = f"{ISSUER}/errors/invalid_scope?ref=abc&x=1"
    page = _provider_error(client, login_flow=login_flow, error="invalid_scope", error_uri=uri)
    assert page.status_code == 400
    assert f'href="{html.escape(uri)}"' in page.text  # as a plain link…
    assert "location" not in page.headers  # …never a redirect
    url, reason = explanation_link(page)
    assert reason == "invalid_scope"
    explained = client.get(url)
    assert f'href="{html.escape(uri)}"' in explained.text  # and on our explanation too


@pytest.mark.parametrize(
    "uri",
    [
        "javascript:alert(1)",
        "data:text/html,<b>hi</b>",
        "/errors/relative",
        'https://evil.test/"><script>',
        "https://evil.test/a b",
        "ftp://mockgram.test/errors/x",
    ],
)
def test_an_error_uri_that_is_not_a_web_address_is_not_shown(client: TestClient, uri: str) -> None:
    page = _provider_error(client, login_flow=False, error="access_denied", error_uri=uri)
    assert page.status_code == 200
    assert "The provider's own explanation" not in page.text
    assert html.escape(uri) not in page.text
    assert explanation_link(page)[1] == "access_denied"


@pytest.fixture
def token_error_uri(fake: FakeMockgram) -> str:
    """The fake's token endpoint adds an error_uri to its error answers (RFC 6749 §5.2)."""
    uri = f"{ISSUER}/errors/invalid_grant?ref=tok"
    answer = fake._token

    def with_error_uri(request: httpx.Request) -> httpx.Response:
        response = answer(request)
        if response.status_code != 400:
            return response
        return httpx.Response(400, json={**response.json(), "error_uri": uri})

    fake._token = with_error_uri  # type: ignore[method-assign]
    return uri


@pytest.mark.parametrize("login_flow", [False, True])
def test_token_error_uri_is_linked_beside_ours(
    make_client: Callable[[], TestClient],
    fake: FakeMockgram,
    token_error_uri: str,
    login_flow: bool,
) -> None:
    browser = make_client()
    fake.token_error = "invalid_grant"
    if login_flow:
        page = log_in_with_mockgram(browser, fake)
    else:
        login(browser)
        _, params = start_connect(browser)
        page = callback(browser, code="the-code", state=params["state"], iss=ISSUER)
    assert page.status_code == 400
    assert f'href="{html.escape(token_error_uri)}"' in page.text
    assert explanation_link(page)[1] == "invalid_grant"


def test_token_error_still_builds_without_an_error_uri() -> None:
    """TokenError grew an error_uri; callers that build one without it keep working."""
    exc = TokenError("invalid_grant", "Code expired.", 400)
    assert (exc.error, exc.description, exc.status_code, exc.error_uri) == (
        "invalid_grant",
        "Code expired.",
        400,
        "",
    )


# ── the lab ─────────────────────────────────────────────────────────────────────────────────


def test_lab_page_without_lab_mode_has_no_switch(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/lab")
    assert page.status_code == 200
    assert page.text.count('action="/lab/') == 9
    assert "defence_off" not in page.text and "lab-banner" not in page.text


def test_lab_refuses_a_run_without_csrf_and_unknown_attacks(client) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/lab/stolen-code", data={}).status_code == 403
    assert client.post("/lab/nope", data={}).status_code == 404
