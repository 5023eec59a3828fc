"""'Log in with…' reads right for any provider: its name comes from the configuration
(AWESOMESERVICE_LOGIN_PROVIDER_NAME), else Mockgram for Mockgram, else the issuer's host."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from awesomeservice.app import create_app
from tests.awesomeservice.conftest import AWESOME_URL, FakeMockgram, login, settings_for


def page(path: str, **settings: object) -> tuple[str, TestClient]:
    app = create_app(
        settings_for("sqlite://").model_copy(update=settings),
        http_transport=httpx.MockTransport(FakeMockgram().handler),
    )
    browser = TestClient(app, base_url=AWESOME_URL, follow_redirects=False)
    return browser.get(path).text, browser


@pytest.mark.parametrize(
    ("settings", "name"),
    [
        ({}, "Mockgram"),
        ({"login_issuer": "http://localhost:8080/realms/demo"}, "localhost:8080"),
        (
            {
                "login_issuer": "http://localhost:8080/realms/demo",
                "login_provider_name": "Keycloak",
            },
            "Keycloak",
        ),
    ],
)
def test_the_login_button_names_the_configured_provider(
    settings: dict[str, object], name: str
) -> None:
    text, _browser = page("/login", **settings)
    assert f'href="/login/mockgram">Log in with {name}</a>' in text
    if name != "Mockgram":
        assert "Log in with Mockgram" not in text


def test_the_link_page_names_the_provider() -> None:
    _text, browser = page("/", login_provider_name="Keycloak")
    login(browser)
    linked = browser.get("/login/mockgram")
    assert "<h1>Link your Keycloak account</h1>" in linked.text
    assert "Link Keycloak to this account" in linked.text
