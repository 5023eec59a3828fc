"""The example app under test, wired to the Mockgram the plugin gives each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from app import Settings, create_app
from fastapi.testclient import TestClient

APP_URL = "http://app.test"


@pytest.fixture
def app_client(mockgram) -> Iterator[TestClient]:
    """The app, registered at Mockgram as a client, its back end calling Mockgram in-process."""
    client = mockgram.control.register_client(
        "login-example", redirect_uris=[f"{APP_URL}/callback"], scopes="openid profile email"
    )
    settings = Settings(
        issuer=mockgram.url,
        client_id=client.client_id,
        client_secret=client.secret,
        redirect_uri=f"{APP_URL}/callback",
    )
    app = create_app(settings, transport=mockgram.transport)
    with TestClient(app, base_url=APP_URL, follow_redirects=False) as browser:
        yield browser


@pytest.fixture
def log_in(app_client, mockgram):
    """Press "Log in with Mockgram" and come back: returns the app's answer to the callback."""

    def run():
        to_mockgram = app_client.get("/login").headers["location"]
        back_at_the_app = mockgram.authorize(to_mockgram)
        return app_client.get(back_at_the_app)

    return run
