"""Both apps in one process: AwesomeService's back channel reaches Mockgram through an ASGI
transport (the real code path, no sockets), and a scripted browser visits both."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from awesomeservice.app import create_app as create_awesomeservice
from awesomeservice.settings import AwesomeServiceSettings
from mockgram.app import create_app as create_mockgram
from mockgram.settings import MockgramSettings
from tests.e2e.browser import Browser

MOCKGRAM = "http://mockgram.test"
AWESOME = "http://awesome.test"
MOCKGRAM_PASSWORD = "johns-mockgram-password"
AWESOME_PASSWORD = "johns-print-shop-password"
CLIENT_SECRET = "story-client-secret"


@dataclass
class World:
    mockgram: FastAPI
    awesome: FastAPI
    browser: Browser
    mockgram_client: TestClient
    awesome_client: TestClient


def build_apps(
    mockgram_database_url: str,
    awesome_database_url: str,
    *,
    name: str,
    lab_mode: bool = False,
    dpop: bool = False,
) -> tuple[FastAPI, FastAPI]:
    """Mockgram, and AwesomeService reaching it through an ASGI transport; `name` keys cookies.

    `dpop`: AwesomeService uses DPoP, and Mockgram asks for nonces (RFC 9449 §8, §9)."""
    mockgram = create_mockgram(
        MockgramSettings(
            issuer=MOCKGRAM,
            database_url=mockgram_database_url,
            demo=True,  # the debugger's published client secret; lab mode needs it too
            secret_key=f"{name}-mockgram-session",
            demo_password=MOCKGRAM_PASSWORD,
            awesomeservice_url=AWESOME,
            awesomeservice_client_secret=CLIENT_SECRET,
            lab_mode=lab_mode,
            dpop_require_nonce=dpop,
        )
    )
    awesome = create_awesomeservice(
        AwesomeServiceSettings(
            url=AWESOME,
            database_url=awesome_database_url,
            demo=True,
            mockgram_url=MOCKGRAM,
            client_secret=CLIENT_SECRET,
            secret_key=f"{name}-awesome-session",
            demo_password=AWESOME_PASSWORD,
            lab_mode=lab_mode,
            lab_mockgram_password=MOCKGRAM_PASSWORD,
            use_dpop=dpop,
        ),
        http_transport=httpx.ASGITransport(app=mockgram),
    )
    return mockgram, awesome


@pytest.fixture
def world(mockgram_database_url: str, awesome_database_url: str) -> Iterator[World]:
    mockgram, awesome = build_apps(mockgram_database_url, awesome_database_url, name="story")
    with (
        TestClient(mockgram, base_url=MOCKGRAM, follow_redirects=False) as mockgram_client,
        TestClient(awesome, base_url=AWESOME, follow_redirects=False) as awesome_client,
    ):
        browser = Browser({MOCKGRAM: mockgram_client, AWESOME: awesome_client})
        yield World(mockgram, awesome, browser, mockgram_client, awesome_client)
