"""Requests too big to take get an answer, never a reset connection: 414, 431 or 413.

Two places hold the line, both apps alike:

- `LimitedHttpTools`, the HTTP protocol `python -m <app>` serves with (uvicorn's httptools
  protocol with limits): a request target longer than MAX_URL_BYTES is a 414 (RFC 9110
  §15.5.15), header lines longer than MAX_HEADER_BYTES together, or more than MAX_HEADERS of
  them, a 431 (RFC 6585 §5); anything the parser cannot read a plain 400. Before, an over-long
  head grew in memory without end, or got uvicorn's 400 and the connection closed while the
  client was still sending — the kernel then answers the unread bytes with a reset, and the
  client sees the reset instead of the answer.
- `BodyLimit`, an ASGI middleware: a body longer than the app allows is a 413 (RFC 9110
  §15.5.14) before the app reads any of it, as JSON `invalid_request` on protocol endpoints
  (RFC 6749 §5.2) and as a page elsewhere.

After refusing, the server "lingers" as web servers do: it sends the answer, stops writing, and
reads and drops what the client still sends for a moment before closing, so the answer arrives.
"""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_URL_BYTES = 16 * 1024  # the request target, path and query (most browsers stop near 32 KiB)
MAX_HEADER_BYTES = 32 * 1024  # every header line together
MAX_HEADERS = 100
MAX_BODY_BYTES = 1024 * 1024  # a form or JSON body; uploads are given more where they go
LINGER_SECONDS = 2.0  # how long the client may go on sending after a refusal

_WHY = {
    400: ("Bad Request", "That request was not understood", "The request could not be read."),
    413: (
        "Content Too Large",
        "That request was too large",
        f"This server takes bodies of at most {MAX_BODY_BYTES // 1024} KiB (uploads more).",
    ),
    414: (
        "URI Too Long",
        "That address was too long",
        f"This server takes addresses of at most {MAX_URL_BYTES // 1024} KiB.",
    ),
    431: (
        "Request Header Fields Too Large",
        "That request carried too many headers",
        f"This server takes at most {MAX_HEADERS} header lines, "
        f"{MAX_HEADER_BYTES // 1024} KiB together.",
    ),
}


def refusal_page(status: int) -> bytes:
    """A small page of its own (no template: the app never saw the request)."""
    _, title, message = _WHY[status]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        '<link rel="stylesheet" href="/static/shared/style.css"></head>'
        f'<body><main class="container"><h1>{html.escape(title)}</h1>'
        f"<p>{html.escape(message)}</p><p>Nothing was changed.</p>"
        f'<p class="muted">HTTP {status}</p></main></body></html>'
    ).encode()


def _head(status: int, content_type: str, length: int) -> bytes:
    reason = _WHY[status][0]
    return (
        f"HTTP/1.1 {status} {reason}\r\n"
        f"content-type: {content_type}\r\n"
        f"content-length: {length}\r\n"
        "cache-control: no-store\r\n"
        "x-content-type-options: nosniff\r\n"
        "connection: close\r\n\r\n"
    ).encode()


class _HeadTooLarge(Exception):
    """Raised from a parser callback; the parser turns it into its own error."""


class LimitedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with limits on the request head, and lingering refusals."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._refusal = 400
        self._lingering = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._refusal = 400

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_URL_BYTES:
            self._refusal = 414  # RFC 9110 §15.5.15
            raise _HeadTooLarge

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        self._head_bytes += len(name) + len(value) + 4
        if self._head_bytes > MAX_HEADER_BYTES or len(self.headers) > MAX_HEADERS:
            self._refusal = 431  # RFC 6585 §5
            raise _HeadTooLarge

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.scope is self.scope:
            # The app may answer before reading the whole body and the request asked for
            # "Connection: close": close by lingering then, or the unread rest resets it.
            self.cycle.transport = _LingerOnClose(self.transport, self)  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return  # what a refused client still sends is read and dropped
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        """The parser gave up (or a limit above was passed): answer, then linger."""
        body = refusal_page(self._refusal)
        self.transport.write(_head(self._refusal, "text/html; charset=utf-8", len(body)) + body)
        self.linger()

    def linger(self) -> None:
        """Stop writing, drop what still comes, close when the client does or after a moment."""
        if self._lingering or self.transport.is_closing():
            return
        self._lingering = True
        self.flow.resume_reading()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


class _LingerOnClose:
    """The transport as one request's response cycle sees it: `close()` lingers while the
    request's body is still coming."""

    def __init__(self, transport: asyncio.Transport, protocol: LimitedHttpTools) -> None:
        self._transport = transport
        self._protocol = protocol
        self._cycle = protocol.cycle

    def close(self) -> None:
        if self._cycle.more_body and not self._cycle.disconnected:
            self._protocol.linger()
        else:
            self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class BodyLimit:
    """413 for a body over the limit, before the app reads it (ASGI middleware).

    `larger` maps path prefixes to their own limit (Mockgram's photo uploads); `json_prefixes`
    are protocol endpoints, refused with an RFC 6749 §5.2 `invalid_request` object.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int = MAX_BODY_BYTES,
        larger: dict[str, int] | None = None,
        json_prefixes: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}
        self.json_prefixes = tuple(json_prefixes)

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.larger.items():
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, send)
            return
        if declared is None and scope["method"] in ("POST", "PUT", "PATCH"):
            # No length given (chunked): read up to the limit first, then hand it on.
            body, complete = await _read_at_most(receive, limit)
            if not complete:
                await self._refuse(scope, send)
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        if scope["path"].startswith(self.json_prefixes):
            body = json.dumps(
                {
                    "error": "invalid_request",  # RFC 6749 §5.2
                    "error_description": "The request body is too large.",
                },
                separators=(",", ":"),
            ).encode()
            content_type = b"application/json"
        else:
            body, content_type = refusal_page(413), b"text/html; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", content_type),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _read_at_most(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The body if it is at most `limit` bytes (True), or what was read before it passed it."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), True  # the client went away: nothing more to read
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", False
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replay(body: bytes, then: Receive) -> Receive:
    """The body read ahead, in one message; afterwards the connection's own messages."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await then()

    return receive
