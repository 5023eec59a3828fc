"""A client for Mockgram's control plane (/_control/), for any Python test suite.

Each method is one HTTP call (the README shows the same calls with curl); a refusal raises
`ControlError` with Mockgram's answer. Works against an in-process Mockgram (an httpx client
bound to the ASGI app) and a real server alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx


class ControlError(RuntimeError):
    """The control plane refused a call; the message carries its status and answer."""


@dataclass(frozen=True)
class RegisteredClient:
    """A client registered through the control plane; `secret` is None for a public one."""

    client_id: str
    secret: str | None
    redirect_uris: tuple[str, ...]

    @property
    def redirect_uri(self) -> str:
        return self.redirect_uris[0]


class Control:
    """The calls of /_control/, authenticated with its bearer secret."""

    def __init__(self, http: httpx.Client, secret: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {secret}"}

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One call; the JSON answer, or ControlError."""
        response = self.http.request(method, f"/_control/{path}", json=body, headers=self.headers)
        if response.status_code >= 400:
            raise ControlError(f"{method} /_control/{path}: {response.status_code} {response.text}")
        return response.json()

    # People and clients.
    def upsert_user(self, username: str, **fields: Any) -> dict[str, Any]:
        """Create or change a person: name, email, email_verified, sub, password, claims
        (a dict, added to theirs), id_token_claims, access_token_claims, userinfo_claims."""
        return self.call("POST", "users", {"username": username, **fields})

    def next_login(self, user: str, claims: dict[str, Any] | None = None) -> dict[str, Any]:
        """The next non-interactive sign-in is `user`, with `claims` applied first."""
        return self.call("POST", "next-login", {"username": user, "claims": claims or {}})

    def register_client(
        self,
        client_id: str | None = None,
        *,
        redirect_uris: list[str],
        public: bool = False,
        scopes: str | None = None,
        secret: str | None = None,
        response_types: str | None = None,
        name: str | None = None,
    ) -> RegisteredClient:
        """Register (or change) a client; the answer carries its secret."""
        body: dict[str, Any] = {"redirect_uris": redirect_uris, "public": public}
        for key, value in (
            ("client_id", client_id),
            ("scopes", scopes),
            ("secret", secret),
            ("response_types", response_types),
            ("name", name),
        ):
            if value is not None:
                body[key] = value
        answer = self.call("POST", "clients", body)
        return RegisteredClient(
            answer["client_id"], answer.get("client_secret"), tuple(answer["redirect_uris"])
        )

    # Keys and the clock.
    def rotate_keys(self, *, retire_old: bool = False) -> dict[str, Any]:
        return self.call("POST", "keys/rotate", {"retire_old": retire_old})

    def clock(self) -> dict[str, Any]:
        return self.call("GET", "clock")

    def set_clock(self, at: datetime) -> dict[str, Any]:
        """Every worker's clock jumps to `at` and ticks on from there."""
        return self.call("POST", "clock", {"at": at.isoformat()})

    def skew_clock(self, seconds: float) -> dict[str, Any]:
        """Every worker's clock runs `seconds` ahead of real time (behind when negative)."""
        return self.call("POST", "clock", {"offset_seconds": seconds})

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the clock on by `seconds` from wherever it is."""
        return self.call("POST", "clock", {"advance_seconds": seconds})

    # One-shot faults.
    def fail_next_token_request(self, error: str, description: str | None = None) -> dict:
        """The next token request answers `error` (an RFC 6749 §5.2 code, or server_error /
        temporarily_unavailable)."""
        body: dict[str, Any] = {"kind": "token_error", "error": error}
        if description is not None:
            body["error_description"] = description
        return self.call("POST", "faults", body)

    def slow_next(self, endpoint: str, ms: int) -> dict[str, Any]:
        """The next answer of `endpoint` ("jwks" or "token") comes `ms` milliseconds late."""
        return self.call("POST", "faults", {"kind": "slow", "endpoint": endpoint, "delay_ms": ms})

    def refuse_next_code(self) -> dict[str, Any]:
        """The next code redeemed at the token endpoint gets invalid_grant."""
        return self.call("POST", "faults", {"kind": "refuse_code"})

    def sign_next_id_token_with_unpublished_key(self) -> dict[str, Any]:
        """The next id_token's signature matches no key in the JWKS."""
        return self.call("POST", "faults", {"kind": "unpublished_key"})

    def queued_faults(self) -> list[dict[str, Any]]:
        return self.call("GET", "faults")

    # The request log and reset.
    def requests(self) -> list[dict[str, Any]]:
        """What reached Mockgram: {at, method, path, client_id, params, status}, oldest first."""
        newest_first = self.call("GET", "requests?limit=5000")["requests"]
        return [
            {**entry, "params": {param["name"]: param["value"] for param in entry["params"]}}
            for entry in reversed(newest_first)
        ]

    def clear_requests(self) -> None:
        self.call("DELETE", "requests")

    def reset(self) -> None:
        """No queued faults or logins, the clock on real time (people, clients, keys stay)."""
        self.call("POST", "reset")
