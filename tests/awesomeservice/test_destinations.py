"""The SSRF guard of the debugger and the provider check-up: public https only, and in demo mode
a provider on this machine's loopback too (a local Keycloak) — never a private network."""

from __future__ import annotations

import asyncio

import pytest

from awesomeservice.destinations import DestinationGuard, ForbiddenDestination
from awesomeservice.settings import AwesomeServiceSettings

ADDRESSES = {
    "localhost": ["127.0.0.1", "::1"],
    "127.0.0.1": ["127.0.0.1"],  # a literal resolves to itself, as getaddrinfo does
    "::1": ["::1"],
    "provider.example": ["93.184.215.14"],
    "intranet.example": ["10.0.0.7"],
    "half-local.example": ["127.0.0.1", "10.0.0.7"],
    "metadata.example": ["169.254.169.254"],
}


async def fake_resolve(host: str, port: int) -> list[str]:
    if host not in ADDRESSES:
        raise OSError("Name or service not known")
    return ADDRESSES[host]


def guard(*, demo: bool) -> DestinationGuard:
    settings = AwesomeServiceSettings(
        demo=demo, client_secret="" if demo else "a-secret-of-our-own", database_url="sqlite://"
    )
    return DestinationGuard(settings, fake_resolve)


def allowed(guard: DestinationGuard, url: str) -> bool:
    try:
        asyncio.run(guard.check(url, what="discovery URL"))
    except ForbiddenDestination:
        return False
    return True


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8080/realms/demo",
        "https://localhost:8443/realms/demo",
        "http://127.0.0.1:9000",
        "http://[::1]:9000",
    ],
)
def test_demo_mode_may_reach_a_provider_on_loopback(url: str) -> None:
    assert allowed(guard(demo=True), url)
    assert not allowed(guard(demo=False), url)


@pytest.mark.parametrize(
    "url",
    [
        "http://intranet.example",
        "https://intranet.example",
        "http://half-local.example",
        "https://metadata.example/latest",
        "http://provider.example",  # public, but plain http
        "http://unknown-host.example",
        "file:///etc/passwd",
    ],
)
def test_even_demo_mode_never_reaches_a_private_network_or_plain_http_off_loopback(
    url: str,
) -> None:
    assert not allowed(guard(demo=True), url)
    assert not allowed(guard(demo=False), url)


def test_public_https_is_allowed_in_and_out_of_demo_mode() -> None:
    assert allowed(guard(demo=True), "https://provider.example/")
    assert allowed(guard(demo=False), "https://provider.example/")


def test_outside_demo_mode_the_refusal_says_https() -> None:
    with pytest.raises(ForbiddenDestination, match="must be an https://"):
        asyncio.run(guard(demo=False).check("http://localhost:8080", what="discovery URL"))
