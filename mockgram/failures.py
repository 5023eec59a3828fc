"""Errors that explain themselves: every protocol error carries an `error_uri` (RFC 6749 §4.1.2.1,
§5.2; RFC 6750 §3) pointing at Mockgram's own page about it, `{issuer}/errors/{code}?ref=…`.

How the page can show "the request that failed", across several workers:

1. `FailureRecorder`, a pure ASGI middleware, watches the protocol paths (`/oauth/…`, `/api/…`).
   For each request it keeps a small `FailureContext` in a context variable: method, path,
   query, a few headers and (for form or JSON bodies) the first bytes of the body as it streams by.
2. The rendering helpers in mockgram/oauth/errors.py and the bearer challenge call
   `error_uri(code)`: that names the error, draws a random reference once per request, and
   returns the URL. Nothing is written yet, so a helper never touches the database.
3. When the response has gone out, the middleware writes one `FailedRequest` row — redacted:
   secrets, codes, tokens, passwords, state and nonce are replaced by "[redacted]"; a Basic
   header shows only its client_id — and prunes rows older than an hour.

The reference is 128 random bits; a row holds nothing worth stealing, and is gone in an hour.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode

import anyio
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, col
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockgram.models import MockgramTable
from shared.clock import as_utc, utcnow
from shared.db import keep_newest

log = logging.getLogger("mockgram")
RETENTION = timedelta(hours=1)
# At most this many are kept, however many come in an hour: a flood cannot fill the disk.
MAX_KEPT = 1000
WATCHED_PREFIXES = ("/oauth/", "/api/")
MAX_BODY_BYTES = 16 * 1024
MAX_PARAMS = 40
MAX_VALUE_CHARS = 200
REDACTED = "[redacted]"
# Never stored, never shown: credentials, codes, tokens — and state/nonce, which bind a browser.
SECRET_NAMES = frozenset(
    {
        "client_secret",
        "code",
        "code_verifier",
        "refresh_token",
        "access_token",
        "token",
        "id_token",
        "id_token_hint",
        "password",
        "client_assertion",
        "assertion",
        "state",
        "nonce",
        "csrf_token",
        "registration_access_token",
    }
)
SHOWN_HEADERS = ("authorization", "content-type", "origin", "accept")


class FailedRequest(MockgramTable, table=True):
    """One refused protocol request, redacted, kept an hour so its error_uri page can show it."""

    ref: str = Field(primary_key=True, max_length=32)
    error: str = Field(max_length=64)
    status_code: int
    method: str = Field(max_length=10)
    path: str = Field(max_length=200)
    # JSON lists of [name, value] pairs, already redacted.
    query: str = "[]"
    headers: str = "[]"
    body: str = "[]"
    created_at: datetime = Field(default_factory=utcnow, index=True)


@dataclass
class FailureContext:
    """What one watched request looked like, and the error it ended with (if any)."""

    base_url: str
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    content_type: str
    body: bytearray = field(default_factory=bytearray)
    error: str | None = None
    ref: str | None = None
    status_code: int = 0


_current: ContextVar[FailureContext | None] = ContextVar("mockgram_failure", default=None)


def error_uri(error: str, *, issuer: str | None = None) -> str:
    """The page explaining `error`; inside a watched request it also names that request."""
    context = _current.get()
    base = issuer or (context.base_url if context else "")
    uri = f"{base}/errors/{error}"
    if context is None:
        return uri
    context.error = error
    context.ref = context.ref or secrets.token_urlsafe(16)
    return f"{uri}?{urlencode({'ref': context.ref})}"


def current_error() -> str | None:
    """The error code the current watched request was answered with so far, if any."""
    context = _current.get()
    return context.error if context else None


# ── Redaction ────────────────────────────────────────────────────────────────────────────────


def _short(value: str) -> str:
    return value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS] + "…"


def redact_pairs(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Parameter pairs with every secret value replaced, long values cut."""
    shown = []
    for name, value in pairs[:MAX_PARAMS]:
        if name.lower() in SECRET_NAMES:
            shown.append((_short(name), REDACTED))
        else:
            shown.append((_short(name), _short(value)))
    return shown


def redact_authorization(value: str) -> str:
    """An Authorization header without its credentials: Basic keeps only the client_id."""
    scheme, _, credentials = value.strip().partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return "Basic [malformed, redacted]"
        client_id, _, _ = decoded.partition(":")
        return f"Basic (client_id={_short(unquote_plus(client_id))}, secret {REDACTED})"
    return f"{_short(scheme)} {REDACTED}" if credentials else _short(scheme)


def body_pairs(
    content_type: str, body: bytes, *, strings_as_json: bool = False
) -> list[tuple[str, str]]:
    """A form or JSON object body as name/value pairs; anything else only by its size.

    A JSON value that is not a string is shown as JSON; a string too when `strings_as_json`.
    """
    if not body:
        return []
    text = body.decode("utf-8", errors="replace")
    if content_type == "application/x-www-form-urlencoded":
        return parse_qsl(text, keep_blank_values=True)
    if content_type == "application/json":
        try:
            data = json.loads(text)
        except ValueError:
            return [("(body)", f"{len(body)} bytes of malformed JSON")]
        if isinstance(data, dict):
            return [
                (str(k), v if isinstance(v, str) and not strings_as_json else json.dumps(v))
                for k, v in data.items()
            ]
        return [("(body)", "JSON that is not an object")]
    return [("(body)", f"{len(body)} bytes of {content_type or 'unknown type'}")]


def redact_body(content_type: str, body: bytes) -> list[tuple[str, str]]:
    """Form or JSON bodies as redacted pairs; anything else only by its size."""
    return redact_pairs(body_pairs(content_type, body, strings_as_json=True))


def record_of(context: FailureContext) -> FailedRequest:
    """The row for a failed request, redacted."""
    headers = [
        (name, redact_authorization(value) if name == "authorization" else _short(value))
        for name, value in context.headers
    ]
    return FailedRequest(
        ref=context.ref or "",
        error=context.error or "",
        status_code=context.status_code,
        method=context.method,
        path=_short(context.path),
        query=json.dumps(redact_pairs(parse_qsl(context.query, keep_blank_values=True))),
        headers=json.dumps(headers),
        body=json.dumps(redact_body(context.content_type, bytes(context.body))),
    )


def save(engine: Engine, row: FailedRequest) -> None:
    """Store the row; drop those older than the retention period and all but the newest."""
    with Session(engine) as session:
        stale = delete(FailedRequest).where(col(FailedRequest.created_at) < utcnow() - RETENTION)
        session.exec(stale)  # type: ignore[call-overload]
        keep_newest(session, FailedRequest, FailedRequest.created_at, MAX_KEPT - 1)
        session.add(row)
        session.commit()


def load(session: Session, ref: str) -> FailedRequest | None:
    """The recorded request behind a reference, if it is still kept."""
    if not ref or len(ref) > 32:
        return None
    row = session.get(FailedRequest, ref)
    if row is None or as_utc(row.created_at) < utcnow() - RETENTION:
        return None
    return row


# ── The middleware ───────────────────────────────────────────────────────────────────────────


class FailureRecorder:
    """Pure ASGI: gives watched requests a FailureContext, stores the ones that named an error."""

    def __init__(self, app: ASGIApp, *, engine: Engine, issuer: str) -> None:
        self.app = app
        self.engine = engine
        self.issuer = issuer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(WATCHED_PREFIXES):
            await self.app(scope, receive, send)
            return
        raw_headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
        }
        context = FailureContext(
            base_url=self.issuer,
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            headers=[(name, raw_headers[name]) for name in SHOWN_HEADERS if name in raw_headers],
            content_type=raw_headers.get("content-type", "").split(";")[0].strip().lower(),
        )

        tee_receive = keeping_body(receive, context, MAX_BODY_BYTES)

        async def watch_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                context.status_code = message["status"]
            await send(message)

        token = _current.set(context)
        try:
            await self.app(scope, tee_receive, watch_send)
        finally:
            _current.reset(token)
        if context.ref and context.error:
            try:
                await anyio.to_thread.run_sync(save, self.engine, record_of(context))
            except Exception:  # the answer is already sent; a lost record only costs the page
                log.exception("could not record the failed request %s", context.path)


def keeping_body(receive: Receive, holder: Any, limit: int) -> Receive:
    """`receive`, also adding the body's first `limit` bytes to `holder.body` as they pass."""

    async def tee_receive() -> Message:
        message = await receive()
        if message["type"] == "http.request" and len(holder.body) < limit:
            holder.body += message.get("body", b"")[: limit - len(holder.body)]
        return message

    return tee_receive
