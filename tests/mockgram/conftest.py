"""Fixtures for Mockgram's unit tests: an app on in-memory SQLite, and helpers to add rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from mockgram.app import create_app
from mockgram.models import Client, User
from mockgram.settings import MockgramSettings
from shared.hashing import hash_password, hash_secret

ISSUER = "http://mockgram.test"
CLIENT_REDIRECT = "http://client.test/callback"
PASSWORD = "correct horse battery staple"


def settings_for(database_url: str) -> MockgramSettings:
    return MockgramSettings(
        issuer=ISSUER,
        database_url=database_url,
        demo=True,  # pages show the demo accounts (tests/mockgram/test_demo_mode.py: outside it)
        seed_demo_data=False,
        secret_key="test-secret-key-for-sessions",
        awesomeservice_url="http://client.test",
    )


@pytest.fixture
def mockgram_settings(mockgram_database_url: str) -> MockgramSettings:
    return settings_for(mockgram_database_url)


@pytest.fixture
def mockgram_app(mockgram_settings: MockgramSettings) -> FastAPI:
    return create_app(mockgram_settings)


@pytest.fixture
def client(mockgram_app: FastAPI) -> Iterator[TestClient]:
    """A browser-like client that does not follow redirects, so tests see each 302/303."""
    with TestClient(mockgram_app, base_url=ISSUER, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def page_reader() -> Iterator[TestClient]:
    """One browser on one app (SQLite) for all of a module's tests that only read pages no
    request changes, such as the error explanations: the app is built once, not once a test."""
    app = create_app(settings_for("sqlite://"))
    with TestClient(app, base_url=ISSUER, follow_redirects=False) as browser:
        yield browser


@pytest.fixture
def db(mockgram_app: FastAPI) -> Iterator[Session]:
    with Session(mockgram_app.state.engine) as session:
        yield session


@pytest.fixture
def make_user(db: Session) -> Callable[..., User]:
    def _make(username: str = "john", password: str = PASSWORD, name: str | None = None) -> User:
        user = User(
            username=username,
            name=name or username.title(),
            email=f"{username}@mockgram.test",
            password_hash=hash_password(password),
        )
        db.add(user)
        db.commit()
        db.refresh(user)
        return user

    return _make


@pytest.fixture
def make_client(db: Session) -> Callable[..., tuple[Client, str | None]]:
    """Register a client; returns it with its clear-text secret (None for a public client)."""

    def _make(
        client_id: str = "printshop",
        *,
        redirect_uris: list[str] | None = None,
        public: bool = False,
        scopes: str = "photos.read photos.write",
        secret: str = "printshop-secret",
        verified: bool = True,
    ) -> tuple[Client, str | None]:
        row = Client(
            client_id=client_id,
            name=client_id.title(),
            client_type="public" if public else "confidential",
            secret_hash=None if public else hash_secret(secret),
            redirect_uris="\n".join(redirect_uris or [CLIENT_REDIRECT]),
            allowed_scopes=scopes,
            token_endpoint_auth_method="none" if public else "client_secret_basic",
            verified=verified,
        )
        db.add(row)
        db.commit()
        db.refresh(row)
        return row, None if public else secret

    return _make


@pytest.fixture
def printshop(
    make_client: Callable[..., tuple[Client, str | None]], make_user: Callable[..., User]
) -> Client:
    """John, and AwesomeService registered as the confidential client `printshop`."""
    make_user()
    return make_client()[0]
