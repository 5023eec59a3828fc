"""Discovery (OIDC Discovery §4, RFC 8414 §3): C6 issuer check, the in-process cache, and the
split between public URLs (for browsers) and the internal URL (for the back channel)."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from awesomeservice.backchannel import back_channel
from awesomeservice.oauth.discovery import DiscoveryFailed, parse_metadata
from awesomeservice.settings import AwesomeServiceSettings
from tests.awesomeservice.conftest import (
    INTERNAL,
    ISSUER,
    FakeMockgram,
    connect,
    csrf,
    login,
    start_connect,
)

# ── C6: the document must name exactly the configured issuer ────────────────────────────────


@pytest.mark.parametrize(
    "issuer", ["http://evil.test", ISSUER + "/", "HTTP://MOCKGRAM.TEST", INTERNAL, None]
)
def test_c6_discovery_issuer_mismatch_is_refused(issuer: str | None) -> None:
    document = FakeMockgram().metadata()
    document["issuer"] = issuer
    with pytest.raises(DiscoveryFailed) as caught:
        parse_metadata(document, ISSUER)
    assert "OIDC Discovery §4.3" in caught.value.detail


def test_c6_connect_refuses_a_provider_naming_another_issuer(
    client: TestClient, fake: FakeMockgram
) -> None:
    fake.metadata_overrides = {"issuer": "http://evil.test"}
    login(client)
    response = client.post("/connect", data={"csrf_token": csrf(client)})
    assert response.status_code == 502
    assert "evil.test" in response.text
    assert "/oauth/authorize" not in response.text  # no request was built


def test_c6_login_refuses_a_provider_naming_another_issuer(
    client: TestClient, fake: FakeMockgram
) -> None:
    fake.metadata_overrides = {"issuer": "http://evil.test"}
    response = client.get("/login/mockgram")
    assert response.status_code == 502
    assert "location" not in response.headers


@pytest.mark.parametrize("missing", ["authorization_endpoint", "token_endpoint"])
def test_document_without_a_required_endpoint_is_refused(missing: str) -> None:
    document = FakeMockgram().metadata()
    del document[missing]
    with pytest.raises(DiscoveryFailed):
        parse_metadata(document, ISSUER)


def test_id_token_algorithms_are_the_advertised_ones_we_support() -> None:
    document = FakeMockgram().metadata()
    document["id_token_signing_alg_values_supported"] = ["none", "HS256", "ES256", "PS512"]
    assert parse_metadata(document, ISSUER).id_token_algorithms == ["ES256"]
    del document["id_token_signing_alg_values_supported"]
    assert parse_metadata(document, ISSUER).id_token_algorithms == ["RS256"]


# ── the URL split ───────────────────────────────────────────────────────────────────────────


def test_back_channel_rewrites_only_the_mockgram_public_prefix(
    settings: AwesomeServiceSettings,
) -> None:
    assert back_channel(f"{ISSUER}/oauth/token", settings) == f"{INTERNAL}/oauth/token"
    assert back_channel(ISSUER, settings) == INTERNAL
    # Not a prefix on a boundary: left alone.
    assert back_channel(f"{ISSUER}.evil.test/oauth/token", settings).startswith(ISSUER)
    assert back_channel("https://id.example.org/token", settings) == "https://id.example.org/token"


def test_browser_gets_public_urls_back_channel_uses_internal(
    client: TestClient, fake: FakeMockgram
) -> None:
    login(client)
    url, _ = start_connect(client)
    assert url.startswith(f"{ISSUER}/oauth/authorize?")
    connect(client)
    client.get("/photos")
    hosts = {r.url.host for r in fake.requests}
    assert hosts == {"mockgram.internal"}


def test_connect_uses_the_discovered_endpoints(client: TestClient, fake: FakeMockgram) -> None:
    fake.metadata_overrides = {
        "authorization_endpoint": f"{ISSUER}/v2/authorize?tenant=demo",
        "token_endpoint": f"{ISSUER}/v2/token",
    }
    login(client)
    response = client.post("/connect", data={"csrf_token": csrf(client)})
    assert (
        f"{ISSUER}/v2/authorize?tenant=demo&amp;response_type=code&amp;client_id=awesomeservice"
        in response.text
    )
    connect_response = connect_via(client, response.text)
    assert connect_response.status_code == 303
    assert [str(r.url) for r in fake.requests if r.method == "POST"] == [f"{INTERNAL}/v2/token"]


def connect_via(client: TestClient, page: str) -> httpx.Response:
    match = re.search(r'href="([^"]+/v2/authorize[^"]+)"', page)
    assert match
    url = html.unescape(match.group(1))
    state = dict(parse_qsl(urlsplit(url).query))["state"]
    return client.get("/connect/callback", params={"code": "c", "state": state, "iss": ISSUER})


# ── the cache ───────────────────────────────────────────────────────────────────────────────


def test_discovery_is_cached_in_process(
    client: TestClient, fake: FakeMockgram, app: FastAPI
) -> None:
    login(client)
    before = len(fake.requests_to("/.well-known/openid-configuration"))
    start_connect(client)
    start_connect(client)
    client.get("/login/mockgram")
    after = len(fake.requests_to("/.well-known/openid-configuration"))
    assert after - before <= 1
    assert after >= 1


def test_discovery_is_fetched_again_after_its_ttl(
    client: TestClient, fake: FakeMockgram, settings: AwesomeServiceSettings
) -> None:
    settings.discovery_ttl_seconds = 0
    login(client)
    start_connect(client)
    first = len(fake.requests_to("/.well-known/openid-configuration"))
    start_connect(client)
    assert len(fake.requests_to("/.well-known/openid-configuration")) == first + 1


def test_discovery_down_gives_a_friendly_page(client: TestClient, fake: FakeMockgram) -> None:
    login(client)
    fake.discovery_failure = httpx.ConnectError
    response = client.post("/connect", data={"csrf_token": csrf(client)})
    assert response.status_code == 502
    assert "unreachable" in response.text
