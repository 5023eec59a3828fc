"""Fixtures for AwesomeService's unit tests: the app on in-memory SQLite, with a fake Mockgram
behind an httpx.MockTransport (the real back-channel code path, no sockets).

The fake speaks the contract's endpoints: discovery, JWKS (keys generated here with joserfc),
token (code and refresh grants, id_tokens it signs), userinfo, revocation and the photos API."""

from __future__ import annotations

import base64
import html
import json
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from sqlmodel import Session

from awesomeservice.app import create_app
from awesomeservice.models import User
from awesomeservice.settings import AwesomeServiceSettings
from shared.hashing import hash_password
from shared.oauth_spec import left_half_hash

AWESOME_URL = "http://awesome.test"
ISSUER = "http://mockgram.test"
INTERNAL = "http://mockgram.internal"
CLIENT_ID = "awesomeservice"
CLIENT_SECRET = "awesomeservice-demo-secret"
DEMO_PASSWORD = "awesome-demo"
IMAGE_BYTES = b"\xff\xd8\xff\xe0fake-jpeg-bytes"
SUB = "7"


@cache
def signing_keys() -> tuple[RSAKey, ECKey]:
    """The fake provider's RSA and EC P-256 keys (made once per test run: RSA takes a while)."""
    rsa = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, private=True)
    rsa.ensure_kid()
    ec = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": "ES256"}, private=True)
    ec.ensure_kid()
    return rsa, ec


@cache
def other_rsa_key() -> RSAKey:
    """A key the provider does not publish (a forger's key, or one not yet rotated in)."""
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, private=True)
    key.ensure_kid()
    return key


def public_jwk(key: RSAKey | ECKey) -> dict[str, Any]:
    return dict(key.as_dict(private=False))


def sign(claims: dict[str, Any], key: RSAKey | ECKey | None = None, **header: Any) -> str:
    """A JWT signed with `key` (the fake's RSA key by default); header fields as given."""
    key = key or signing_keys()[0]
    alg = "ES256" if isinstance(key, ECKey) else "RS256"
    fields = {"alg": alg, "kid": key.kid, "typ": "JWT", **header}
    return jwt.encode({k: v for k, v in fields.items() if v is not None}, claims, key)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def id_token_claims(
    *, nonce: str | None = None, access_token: str | None = None, **overrides: Any
) -> dict[str, Any]:
    """Claims of a valid id_token for John, for the test client; overrides change or drop some
    (a value of None removes the claim)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": SUB,
        "aud": [CLIENT_ID],
        "azp": CLIENT_ID,
        "exp": now + 600,
        "iat": now,
        "auth_time": now,
    }
    if nonce is not None:
        claims["nonce"] = nonce
    if access_token is not None:
        claims["at_hash"] = left_half_hash(access_token, "RS256")
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


@dataclass
class FakeMockgram:
    """Answers like Mockgram (discovery, JWKS, token, userinfo, revoke, photos API), and records
    every request."""

    access_token: str = field(default_factory=lambda: "at-" + secrets.token_urlsafe(24))
    requests: list[httpx.Request] = field(default_factory=list)
    # Discovery and keys.
    metadata_overrides: dict[str, Any] = field(default_factory=dict)
    discovery_failure: type[Exception] | None = None
    jwks_keys: list[dict[str, Any]] = field(
        default_factory=lambda: [public_jwk(key) for key in signing_keys()]
    )
    # id_tokens: the nonce a login sent (tests copy it from the authorization URL), claim
    # overrides, or a whole token the test forged.
    nonce: str | None = None
    id_token_overrides: dict[str, Any] = field(default_factory=dict)
    id_token_raw: str | None = None
    issue_id_token: bool = False
    # Refresh tokens: issued with every code grant when set; rotated on every refresh.
    issue_refresh_token: bool = False
    refresh_token: str | None = None
    refresh_error: str | None = None
    refresh_id_token_overrides: dict[str, Any] | None = None
    # Userinfo and revocation.
    userinfo_overrides: dict[str, Any] = field(default_factory=dict)
    revoke_failure: type[Exception] | None = None
    revoked_tokens: list[tuple[str, str]] = field(default_factory=list)
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

    def requests_to(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return self._discovery(request)
        if path == "/.well-known/jwks.json":
            return httpx.Response(200, json={"keys": self.jwks_keys})
        if path in ("/oauth/token", "/v2/token") and request.method == "POST":
            return self._token(request)
        if path == "/oauth/userinfo":
            return self._userinfo(request)
        if path == "/oauth/revoke" and request.method == "POST":
            return self._revoke(request)
        if path.startswith("/api/photos"):
            return self._api(request)
        return httpx.Response(404, json={"error": "not_found"})

    def metadata(self) -> dict[str, Any]:
        """The discovery document, as the contract describes it (public URLs)."""
        document: dict[str, Any] = {
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}/oauth/authorize",
            "token_endpoint": f"{ISSUER}/oauth/token",
            "userinfo_endpoint": f"{ISSUER}/oauth/userinfo",
            "jwks_uri": f"{ISSUER}/.well-known/jwks.json",
            "revocation_endpoint": f"{ISSUER}/oauth/revoke",
            "scopes_supported": ["openid", "profile", "email", "offline_access", "photos.read"],
            "response_types_supported": ["code", "token", "id_token", "id_token token"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
            "authorization_response_iss_parameter_supported": True,
        }
        document.update(self.metadata_overrides)
        return {name: value for name, value in document.items() if value is not None}

    def _discovery(self, request: httpx.Request) -> httpx.Response:
        if self.discovery_failure is not None:
            raise self.discovery_failure("simulated", request=request)
        return httpx.Response(200, json=self.metadata())

    def make_id_token(self, access_token: str, overrides: dict[str, Any]) -> str:
        if self.id_token_raw is not None:
            return self.id_token_raw
        overrides = dict(overrides)
        nonce = overrides.pop("nonce", self.nonce)
        return sign(id_token_claims(nonce=nonce, access_token=access_token, **overrides))

    def _token(self, request: httpx.Request) -> httpx.Response:
        if self.token_failure is not None:
            raise self.token_failure("simulated", request=request)
        if self.token_not_json:
            return httpx.Response(200, text="<html>oops</html>")
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return httpx.Response(401, json={"error": "invalid_client"})
        form = dict(parse_qsl(request.content.decode()))
        if form.get("grant_type") == "refresh_token":
            return self._refresh(form)
        if self.token_error:
            return httpx.Response(
                400, json={"error": self.token_error, "error_description": "Code expired."}
            )
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": "openid profile email" if self.issue_id_token else "photos.read",
        }
        if self.issue_refresh_token:
            self.refresh_token = "rt-" + secrets.token_urlsafe(24)
            body["refresh_token"] = self.refresh_token
        if self.issue_id_token:
            body["id_token"] = self.make_id_token(self.access_token, self.id_token_overrides)
        return httpx.Response(200, json=body, headers={"Cache-Control": "no-store"})

    def _refresh(self, form: dict[str, str]) -> httpx.Response:
        """RFC 6749 §6 with rotation: the presented token must be the newest one."""
        if self.refresh_error or form.get("refresh_token") != self.refresh_token:
            return httpx.Response(
                400,
                json={
                    "error": self.refresh_error or "invalid_grant",
                    "error_description": "The refresh token is no longer valid.",
                },
            )
        self.access_token = "at-" + secrets.token_urlsafe(24)
        self.refresh_token = "rt-" + secrets.token_urlsafe(24)
        self.revoked = False
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": self.refresh_token,
        }
        if self.refresh_id_token_overrides is not None:
            self.nonce = None  # OIDC Core §12.2: a refreshed id_token has no nonce
            body["id_token"] = self.make_id_token(
                self.access_token, self.refresh_id_token_overrides
            )
        return httpx.Response(200, json=body, headers={"Cache-Control": "no-store"})

    def _userinfo(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            return httpx.Response(
                401,
                json={"error": "invalid_token"},
                headers={"WWW-Authenticate": 'Bearer realm="mockgram", error="invalid_token"'},
            )
        claims = {
            "sub": SUB,
            "name": "John Appleseed",
            "preferred_username": "john",
            "picture": f"{ISSUER}/users/john/avatar.png",
            "email": "john@mockgram.test",
            "email_verified": True,
            **self.userinfo_overrides,
        }
        return httpx.Response(200, json=claims)

    def _revoke(self, request: httpx.Request) -> httpx.Response:
        if self.revoke_failure is not None:
            raise self.revoke_failure("simulated", request=request)
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return httpx.Response(401, json={"error": "invalid_client"})
        form = dict(parse_qsl(request.content.decode()))
        self.revoked_tokens.append((form.get("token_type_hint", ""), form.get("token", "")))
        if form.get("token") in (self.access_token, self.refresh_token):
            self.revoked = True
        return httpx.Response(200)

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


def settings_for(database_url: str) -> AwesomeServiceSettings:
    return AwesomeServiceSettings(
        url=AWESOME_URL,
        mockgram_url=ISSUER,
        mockgram_internal_url=INTERNAL,
        database_url=database_url,
        demo=True,  # the fake provider knows the published demo client secret
        secret_key="test-secret-key-for-awesomeservice",
        demo_password=DEMO_PASSWORD,
        doctor_on_start=False,  # the start-up check would add requests to `fake`
    )


@pytest.fixture
def settings(awesome_database_url: str) -> AwesomeServiceSettings:
    return settings_for(awesome_database_url)


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


@pytest.fixture(scope="module")
def page_reader() -> Iterator[TestClient]:
    """One browser on one app (SQLite) for all of a module's tests that only read pages no
    request changes, such as the explanation pages: the app is built once, not once a test."""
    app = create_app(
        settings_for("sqlite://"), http_transport=httpx.MockTransport(FakeMockgram().handler)
    )
    with TestClient(app, base_url=AWESOME_URL, follow_redirects=False) as browser:
        yield browser


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
    """The session the browser's cookie names, as JSON, read from the server (empty when none)."""
    value = browser.cookies.get("awesomeservice_session")
    if not value:
        return ""
    data = browser.app.state.sessions.peek(value)  # type: ignore[attr-defined]
    return json.dumps(data) if data is not None else ""


def start_mockgram_login(browser: TestClient, fake: FakeMockgram | None = None) -> dict[str, str]:
    """GET /login/mockgram (signed out) or POST it (signed in); the authorization URL's query.

    With `fake`, the fake provider learns the nonce, as the real one would from the request."""
    if browser.cookies.get("awesomeservice_session") and "user_id" in session_payload(browser):
        response = browser.post("/login/mockgram", data={"csrf_token": csrf(browser)})
    else:
        response = browser.get("/login/mockgram")
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(f"{ISSUER}/oauth/authorize?")
    params = dict(parse_qsl(urlsplit(location).query))
    if fake is not None:
        fake.nonce = params["nonce"]
        fake.issue_id_token = True
    return params


def login_callback(browser: TestClient, **params: str) -> httpx.Response:
    return browser.get("/login/callback", params=params)


def log_in_with_mockgram(browser: TestClient, fake: FakeMockgram) -> httpx.Response:
    """The whole 'Log in with Mockgram' against the fake; returns the callback's response."""
    params = start_mockgram_login(browser, fake)
    return login_callback(browser, code="login-code", state=params["state"], iss=ISSUER)
