"""The back channel: every server-to-server call to Mockgram goes through the app's one client.

Browsers are sent to Mockgram's public URL; this client's base URL is its internal one
(they differ in docker compose). `back_channel()` rewrites a URL that starts with Mockgram's
public URL to its internal one; any other provider's URLs stay as they are. Transport failures
become one exception with a plain reason.
"""

from __future__ import annotations

from typing import Any

import httpx

from awesomeservice.settings import AwesomeServiceSettings


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


def on_mockgram(url: str, settings: AwesomeServiceSettings) -> bool:
    """Whether `url` is under Mockgram's public URL (the issuer)."""
    public = settings.mockgram_url
    # Prefix match on a whole origin/path boundary: http://host:8001 must not match :80010.
    return url == public or url.startswith((public + "/", public + "?"))


def back_channel(url: str, settings: AwesomeServiceSettings) -> str:
    """The URL our back end calls: Mockgram's public prefix swapped for its internal one."""
    if on_mockgram(url, settings):
        return settings.back_channel_url + url[len(settings.mockgram_url) :]
    return url
