"""The pytest plugin: Mockgram for a test, in-process or as a real server, and the fixtures
that drive it (each documented in the README, "Use Mockgram in your own tests").

- `mockgram`: Mockgram in-process — `.app` (ASGI), `.client` / `.http()` (httpx clients bound
  to it), `.transport` (for an httpx.AsyncClient), `.url`, `.control`; a fresh database per test.
- `mockgram_server`: Mockgram served on 127.0.0.1 and a free port, for browsers and other
  processes — `.url`, `.client`, `.http()`, `.control`; a fresh database per test.
- `mockgram_settings`: the settings both start from (override it in your conftest.py).
- `token_for(user, scopes="openid", client=None, claims=None)` → `Tokens` (access, refresh,
  id_token), earned through the real flow.
- `next_login(user, claims=None)`: who the next sign-in is.
- `mockgram_faults`: one-shot faults — `.token_error(code)`, `.slow(endpoint, ms)`,
  `.refuse_next_code()`, `.unpublished_key()`.
- `mockgram_requests`: the request log — `.all()`, `.paths()`, `.clear()`.

`token_for`, `next_login`, `mockgram_faults` and `mockgram_requests` act on `mockgram_server`
when the test uses it, else on the in-process `mockgram`. Nothing here is autouse: a test
suite that never asks for these fixtures never builds a Mockgram.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mockgram.settings import MockgramSettings
    from mockgram.testing.control import Control
    from mockgram.testing.flows import Tokens
    from mockgram.testing.instances import InProcessMockgram, Mockgram, ServedMockgram, Templates

IN_PROCESS_ISSUER = "http://mockgram.test"


@pytest.fixture(scope="session")
def _mockgram_templates() -> Templates:
    from mockgram.testing.instances import Templates

    return Templates()


@pytest.fixture(scope="session")
def _mockgram_control_secret() -> str:
    return secrets.token_urlsafe(24)


@pytest.fixture
def mockgram_settings(_mockgram_control_secret: str) -> MockgramSettings:
    """Mockgram's settings for a test: control plane and non-interactive sign-in on, the demo
    people (john, jane) and clients seeded, sign-in throttling off. Override to change."""
    from mockgram.settings import MockgramSettings

    return MockgramSettings(
        issuer=IN_PROCESS_ISSUER,
        database_url="sqlite://",
        control_secret=_mockgram_control_secret,
        non_interactive=True,
        login_throttle=False,
        seed_demo_data=True,
        secret_key="mockgram-tests-session-key",
    )


@pytest.fixture
def mockgram(
    mockgram_settings: MockgramSettings, _mockgram_templates: Templates
) -> Iterator[InProcessMockgram]:
    """Mockgram in-process, on a fresh in-memory database."""
    from mockgram.testing.instances import InProcessMockgram

    instance = InProcessMockgram(
        mockgram_settings, _mockgram_templates.for_settings(mockgram_settings)
    )
    try:
        yield instance
    finally:
        instance.close()


@pytest.fixture
def mockgram_server(
    mockgram_settings: MockgramSettings, _mockgram_templates: Templates, tmp_path: Path
) -> Iterator[ServedMockgram]:
    """Mockgram as a real server on 127.0.0.1 and a free port, on a fresh database."""
    from mockgram.testing.instances import ServedMockgram

    template = _mockgram_templates.for_settings(mockgram_settings)
    with ServedMockgram(mockgram_settings, template, tmp_path).running() as served:
        yield served


@pytest.fixture
def _mockgram_target(request: pytest.FixtureRequest) -> Mockgram:
    """The server when the test uses one, else the in-process Mockgram."""
    name = "mockgram_server" if "mockgram_server" in request.fixturenames else "mockgram"
    return request.getfixturevalue(name)


@pytest.fixture
def token_for(_mockgram_target: Mockgram) -> Callable[..., Tokens]:
    """`token_for(user, scopes="openid", client=None, claims=None)` → real tokens."""
    return _mockgram_target.token_for


@pytest.fixture
def next_login(_mockgram_target: Mockgram) -> Callable[..., Any]:
    """`next_login(user=..., claims=...)`: the next sign-in is this person, with these claims."""

    def queue(user: str, claims: dict[str, Any] | None = None) -> dict[str, Any]:
        return _mockgram_target.control.next_login(user, claims)

    return queue


class FaultQueue:
    """One-shot faults: each fires on the next matching request, then is used up."""

    def __init__(self, control: Control) -> None:
        self.control = control

    def token_error(self, error: str, description: str | None = None) -> None:
        """The next token request answers `error` (e.g. invalid_grant, server_error)."""
        self.control.fail_next_token_request(error, description)

    def slow(self, endpoint: str, ms: int) -> None:
        """The next answer of "jwks" or "token" comes `ms` milliseconds late."""
        self.control.slow_next(endpoint, ms)

    def refuse_next_code(self) -> None:
        """The next code redeemed gets invalid_grant."""
        self.control.refuse_next_code()

    def unpublished_key(self) -> None:
        """The next id_token is signed with a key the JWKS does not publish."""
        self.control.sign_next_id_token_with_unpublished_key()

    def queued(self) -> list[dict[str, Any]]:
        return self.control.queued_faults()


@pytest.fixture
def mockgram_faults(_mockgram_target: Mockgram) -> FaultQueue:
    """Queue one-shot faults on the test's Mockgram."""
    return FaultQueue(_mockgram_target.control)


class RequestLog:
    """What reached Mockgram, oldest first: dicts of at, method, path, client_id, params
    (secrets masked), status."""

    def __init__(self, control: Control) -> None:
        self.control = control

    def all(self) -> list[dict[str, Any]]:
        return self.control.requests()

    def paths(self) -> list[str]:
        return [f"{entry['method']} {entry['path']}" for entry in self.all()]

    def clear(self) -> None:
        self.control.clear_requests()


@pytest.fixture
def mockgram_requests(_mockgram_target: Mockgram) -> RequestLog:
    """The test's Mockgram's request log."""
    return RequestLog(_mockgram_target.control)
