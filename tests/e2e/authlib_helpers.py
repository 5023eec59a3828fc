"""Shared setup of the Authlib interop tests: a real Mockgram server and John's browser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mockgram.app import create_app
from mockgram.settings import MockgramSettings
from tests.e2e.browser import Browser, find_form, page_said

# Authlib's httpx integration uses httpx APIs that httpx now deprecates: their warnings, not ours.
AUTHLIB_WARNINGS = [
    pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The httpx module is deprecated"),
]

DEMO_PASSWORD = "interop-password"
REDIRECT_URI = "http://127.0.0.1:9/callback"  # never visited: the test reads the redirect itself


def interop_mockgram(database_url: str) -> Callable[[str], FastAPI]:
    """A Mockgram app factory for `serve` on `database_url` (the SQLite or PostgreSQL run's)."""

    def make(base_url: str) -> FastAPI:
        return create_app(
            MockgramSettings(
                issuer=base_url,
                database_url=database_url,
                secret_key="interop-session-key",
                demo_password=DEMO_PASSWORD,
            )
        )

    return make


def john_approves(base_url: str, authorization_url: str, client_name: str) -> str:
    """Play John's browser from the authorization URL to the redirect back; return its Location."""
    with httpx.Client(timeout=10) as http:
        browser = Browser({base_url: http})
        response = john_signs_in_and_consents(browser, browser.get(authorization_url), client_name)
        return response.headers["location"]


def john_signs_in_and_consents(browser: Browser, response: Any, client_name: str) -> Any:
    """From a redirect to Mockgram's login page: John signs in and allows `client_name`.

    Returns Mockgram's redirect back to the client (not followed: the caller decides)."""
    response = browser.follow(response)  # → the login page
    assert response.status_code == 200, page_said(response)
    response = browser.submit(
        find_form(response.text, "/login"), username="john", password=DEMO_PASSWORD
    )
    response = browser.follow(response)  # → the consent page
    assert client_name in response.text, page_said(response)
    response = browser.submit(find_form(response.text, "/consent"), button=("decision", "allow"))
    assert response.status_code in (302, 303), page_said(response)
    return response
