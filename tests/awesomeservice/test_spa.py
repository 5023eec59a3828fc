"""The two single-page demos: served with the right CSP and configuration; C10 (the implicit
demo is labelled teaching-only, RFC 9700 §2.1.2); the JavaScript they load."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.awesomeservice.conftest import AWESOME_URL, ISSUER, FakeMockgram
from tests.postgres import sqlite_only

# The pages and scripts of the demos read no database.
pytestmark = sqlite_only


def data_attributes(page: str) -> dict[str, str]:
    block = re.search(r'<div id="spa"(.*?)>', page, re.S)
    assert block, "no #spa element"
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'data-([a-z-]+)="([^"]*)"', block.group(1))
    }


@pytest.mark.parametrize("path", ["/spa/implicit", "/spa/pkce"])
def test_spa_page_csp_allows_connect_to_mockgram_only(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert directives["connect-src"] == ["'self'", ISSUER]
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "blob:" in directives["img-src"]  # images shown through blob: URLs
    # Only one CSP header: the shared middleware does not add a second, stricter one.
    assert len(response.headers.get_list("content-security-policy")) == 1
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/spa/implicit", "/spa/pkce"])
def test_spa_pages_have_no_inline_script(client: TestClient, path: str) -> None:
    page = client.get(path).text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts
    assert all('src="/static/spa/' in attrs and body.strip() == "" for attrs, body in scripts)
    assert "style=" not in page


def test_other_pages_keep_the_strict_csp(client: TestClient) -> None:
    csp = client.get("/").headers["content-security-policy"]
    assert "connect-src" not in csp


def test_implicit_page_config(client: TestClient) -> None:
    config = data_attributes(client.get("/spa/implicit").text)
    assert config["flow"] == "implicit"
    assert config["client-id"] == "awesomeservice-spa-implicit"
    assert config["redirect-uri"] == f"{AWESOME_URL}/spa/implicit"
    assert config["authorization-endpoint"] == f"{ISSUER}/oauth/authorize"  # public, for browsers
    assert config["api"] == f"{ISSUER}/api/photos"
    assert config["issuer"] == ISSUER
    assert config["scope"] == "photos.read"
    assert "token-endpoint" not in config  # the implicit flow has none


def test_pkce_page_config(client: TestClient) -> None:
    config = data_attributes(client.get("/spa/pkce").text)
    assert config["flow"] == "pkce"
    assert config["client-id"] == "awesomeservice-spa-pkce"
    assert config["redirect-uri"] == f"{AWESOME_URL}/spa/pkce"
    assert config["token-endpoint"] == f"{ISSUER}/oauth/token"  # public: the browser calls it
    assert "mockgram.internal" not in client.get("/spa/pkce").text


def test_c10_implicit_demo_is_labelled_teaching_only(client: TestClient) -> None:
    page = client.get("/spa/implicit").text
    assert "teaching only" in page.lower()
    assert "RFC 9700" in page and "§2.1.2" in page
    assert "SHOULD NOT" in page
    assert 'href="/spa/pkce"' in page  # points to what to use instead
    # The trade-off the article describes, next to the demo.
    for words in ("history", "No client authentication", "fragment"):
        assert words in page


def test_pkce_page_explains_what_is_still_a_trade_off(client: TestClient) -> None:
    page = client.get("/spa/pkce").text
    assert "No client authentication" in page
    assert "RFC 7636" in page
    assert "sessionStorage" in page


def test_spa_pages_need_no_sign_in_and_no_back_channel_token(
    client: TestClient, fake: FakeMockgram
) -> None:
    client.get("/spa/implicit")
    client.get("/spa/pkce")
    assert fake.token_requests == []  # the browser, not AwesomeService, gets the tokens


def test_spa_page_with_mockgram_down_gives_a_friendly_page(
    client: TestClient, fake: FakeMockgram
) -> None:
    fake.discovery_failure = httpx.ConnectError
    response = client.get("/spa/pkce")
    assert response.status_code == 502
    assert "unreachable" in response.text


@pytest.mark.parametrize("name", ["common.js", "implicit.js", "pkce.js"])
def test_spa_scripts_are_served_as_javascript(client: TestClient, name: str) -> None:
    response = client.get(f"/static/spa/{name}")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]


def test_implicit_script_clears_the_fragment_and_checks_state(client: TestClient) -> None:
    script = client.get("/static/spa/implicit.js").text
    assert 'response_type: "token"' in script
    assert "history.replaceState" in script
    assert "window.location.hash" in script
    assert "takeState" in script and "sessionStorage" in client.get("/static/spa/common.js").text
    # Only the state and the authorization URL sent (no secret in it, shown when the answer
    # comes back) are written to storage; the token stays in a variable.
    assert re.findall(r"setItem\((\w+), (\w+)\)", script) == [
        ("STATE_KEY", "state"),
        ("SENT_KEY", "url"),
    ]


def test_pkce_script_uses_s256_and_a_public_client_token_request(client: TestClient) -> None:
    script = client.get("/static/spa/pkce.js").text
    assert '"SHA-256"' in script
    assert 'code_challenge_method: "S256"' in script
    assert 'grant_type: "authorization_code"' in script
    assert "code_verifier" in script and "client_secret" not in script
    assert "history.replaceState" in script


def test_photos_are_fetched_with_the_authorization_header(client: TestClient) -> None:
    common = client.get("/static/spa/common.js").text
    assert 'Authorization: "Bearer " + accessToken' in common
    assert "URL.createObjectURL" in common
    assert "access_token=" not in common  # never in a URL
