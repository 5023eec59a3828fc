"""Fixtures for AwesomeService's unit tests: the app on in-memory SQLite, with a fake Mockgram
behind an httpx.MockTransport (the real back-channel code path, no sockets)."""

from __future__ import annotations

import base64
import html
import json
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote_plus, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from awesomeservice.app import create_app
from awesomeservice.models import User
from awesomeservice.settings import AwesomeServiceSettings
from shared.hashing import hash_password

AWESOME_URL = "http://awesome.test"
ISSUER = "http://mockgram.test"
INTERNAL = "http://mockgram.internal"
CLIENT_ID = "awesomeservice"
CLIENT_SECRET = "awesomeservice-demo-secret"
DEMO_PASSWORD = "awesome-demo"
IMAGE_BYTES = b"\xff\xd8\xff\xe0fake-jpeg-bytes"


@dataclass
class FakeMockgram:
    """Answers like Mockgram's token endpoint and photos API, and records every request."""

    access_token: str = field(default_factory=lambda: "at-" + secrets.token_urlsafe(24))
    requests: list[httpx.Request] = field(default_factory=list)
    token_error: str | None = None  # e.g. "invalid_grant"
    token_failure: type[Exception] | None = None  # httpx.ReadTimeout, httpx.ConnectError
    token_not_json: bool = False
    api_failure: type[Exception] | None = None
    revoked: bool = False
    photos: list[dict[str, object]] = field(
        default_factory=lambda: [
            {
                "id": n,
                "caption": caption,
                "taken_at": f"2021-12-0{n}T10:00:00+00:00",
                "width": 800,
                "height": 600,
                "content_type": "image/jpeg",
                "image_url": f"{ISSUER}/api/photos/{n}/image",
            }
            for n, caption in ((3, "Sunset over the bay"), (2, "Coffee"), (1, "Mountain hike"))
        ]
    )

    @property
    def token_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == "/oauth/token"]

    def token_form(self, index: int = -1) -> dict[str, str]:
        return dict(parse_qsl(self.token_requests[index].content.decode()))

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/oauth/token" and request.method == "POST":
            return self._token(request)
        if path.startswith("/api/photos"):
            return self._api(request)
        return httpx.Response(404, json={"error": "not_found"})

    def _token(self, request: httpx.Request) -> httpx.Response:
        if self.token_failure is not None:
            raise self.token_failure("simulated", request=request)
        if self.token_not_json:
            return httpx.Response(200, text="<html>oops</html>")
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return httpx.Response(401, json={"error": "invalid_client"})
        if self.token_error:
            return httpx.Response(
                400, json={"error": self.token_error, "error_description": "Code expired."}
            )
        return httpx.Response(
            200,
            json={
                "access_token": self.access_token,
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": "photos.read",
            },
            headers={"Cache-Control": "no-store"},
        )

    def _api(self, request: httpx.Request) -> httpx.Response:
        if self.api_failure is not None:
            raise self.api_failure("simulated", request=request)
        if self.revoked or request.headers.get("authorization") != f"Bearer {self.access_token}":
            return httpx.Response(
                401,
                json={"error": "invalid_token", "error_description": "The token was revoked."},
                headers={
                    "WWW-Authenticate": 'Bearer realm="mockgram", error="invalid_token", '
                    'error_description="The token was revoked."'
                },
            )
        parts = request.url.path.split("/")
        if request.method == "DELETE":
            return httpx.Response(
                403,
                json={
                    "error": "insufficient_scope",
                    "error_description": "This needs photos.write.",
                },
                headers={
                    "WWW-Authenticate": 'Bearer realm="mockgram", error="insufficient_scope", '
                    'error_description="This needs photos.write.", scope="photos.write"'
                },
            )
        if request.url.path == "/api/photos":
            return httpx.Response(200, json={"photos": self.photos})
        if len(parts) == 5 and parts[4] == "image":
            if any(str(p["id"]) == parts[3] for p in self.photos):
                return httpx.Response(
                    200, content=IMAGE_BYTES, headers={"content-type": "image/jpeg"}
                )
            return httpx.Response(404, json={"error": "not_found"})
        return httpx.Response(404, json={"error": "not_found"})


@pytest.fixture
def settings(awesome_database_url: str) -> AwesomeServiceSettings:
    return AwesomeServiceSettings(
        url=AWESOME_URL,
        mockgram_url=ISSUER,
        mockgram_internal_url=INTERNAL,
        database_url=awesome_database_url,
        secret_key="test-secret-key-for-awesomeservice",
        demo_password=DEMO_PASSWORD,
    )


@pytest.fixture
def fake() -> FakeMockgram:
    return FakeMockgram()


@pytest.fixture
def app(settings: AwesomeServiceSettings, fake: FakeMockgram) -> FastAPI:
    return create_app(settings, http_transport=httpx.MockTransport(fake.handler))


@pytest.fixture
def make_client(app: FastAPI) -> Iterator[Callable[[], TestClient]]:
    """Browsers: each call is a separate cookie jar, none follows redirects."""
    opened: list[TestClient] = []

    def _make() -> TestClient:
        browser = TestClient(app, base_url=AWESOME_URL, follow_redirects=False)
        browser.__enter__()
        opened.append(browser)
        return browser

    yield _make
    for browser in reversed(opened):
        browser.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[[], TestClient]) -> TestClient:
    return make_client()


@pytest.fixture
def db(app: FastAPI) -> Iterator[Session]:
    with Session(app.state.engine) as session:
        yield session


@pytest.fixture
def make_user(db: Session) -> Callable[..., User]:
    def _make(username: str = "jane", password: str = "jane-password") -> User:
        user = User(username=username, name=username.title(), password_hash=hash_password(password))
        db.add(user)
        db.commit()
        db.refresh(user)
        return user

    return _make


# ── helpers the tests share ───────────────────────────────────────────────────────────────

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(browser: TestClient) -> str:
    """This browser's CSRF token, read from a page that has a form."""
    page = browser.get("/")
    match = _CSRF.search(page.text) or _CSRF.search(browser.get("/login").text)
    assert match, "no form with a CSRF token found"
    return html.unescape(match.group(1))


def login(browser: TestClient, username: str = "john", password: str = DEMO_PASSWORD) -> None:
    response = browser.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf(browser)}
    )
    assert response.status_code == 303, response.text


_AUTH_URL = re.compile(r'href="(' + re.escape(ISSUER) + r'/oauth/authorize\?[^"]+)"')


def start_connect(browser: TestClient) -> tuple[str, dict[str, str]]:
    """POST /connect (step 1) and read the authorization URL from the 'Continue' link."""
    response = browser.post("/connect", data={"csrf_token": csrf(browser)})
    assert response.status_code == 200, response.text
    match = _AUTH_URL.search(response.text)
    assert match, "no Continue to Mockgram link"
    url = html.unescape(match.group(1))
    return url, dict(parse_qsl(urlsplit(url).query))


def callback(browser: TestClient, **params: str) -> httpx.Response:
    return browser.get("/connect/callback", params=params)


def connect(browser: TestClient) -> httpx.Response:
    """Run steps 1–5 against the fake; returns the callback's response."""
    _, params = start_connect(browser)
    return callback(browser, code="the-code", state=params["state"], iss=ISSUER)


def session_payload(browser: TestClient) -> str:
    """The decoded JSON inside the signed session cookie (empty when none)."""
    value = browser.cookies.get("awesomeservice_session")
    if not value:
        return ""
    data = unquote_plus(value).split(".")[0]
    return json.dumps(json.loads(base64.b64decode(data + "=" * (-len(data) % 4))))
