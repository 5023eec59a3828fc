"""The back channel: every server-to-server call to Mockgram goes through the app's one client.

Browsers are sent to Mockgram's public URL; this client's base URL is its internal one
(they differ in docker compose). Transport failures become one exception with a plain reason.
"""

from __future__ import annotations

from typing import Any

import httpx


class MockgramUnavailable(Exception):
    """Mockgram timed out (`timeout`), was unreachable (`unreachable`) or answered nonsense."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


async def send(http: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """Send one request to Mockgram; transport errors become MockgramUnavailable."""
    try:
        return await http.request(method, path, **kwargs)
    except httpx.TimeoutException as exc:
        raise MockgramUnavailable("timeout", f"No answer from Mockgram for {path}.") from exc
    except httpx.TransportError as exc:
        raise MockgramUnavailable(
            "unreachable", f"Could not connect to Mockgram for {path}."
        ) from exc


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The response body as a JSON object, or MockgramUnavailable('bad_answer')."""
    try:
        body = response.json()
    except ValueError as exc:
        raise MockgramUnavailable("bad_answer", "The reply was not JSON.") from exc
    if not isinstance(body, dict):
        raise MockgramUnavailable("bad_answer", "The reply was not a JSON object.")
    return body
