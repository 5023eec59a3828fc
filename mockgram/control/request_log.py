"""The request log a test reads at GET /_control/requests: what reached Mockgram, in order.

One row per request (the control plane's own excepted): when, method, path, the client it
came from, its parameters with every secret masked, and the status answered. Parameters are
the query string's and, for a urlencoded body, the form's; a client's id comes from
`client_id` or from HTTP Basic (RFC 6749 §2.3.1). A small stand-in kept apart here, so a fuller
request capture can replace it behind the same two routes.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from urllib.parse import parse_qsl, unquote_plus

from sqlalchemy import JSON, Column, delete
from sqlmodel import Field, Session, col, select
from starlette.types import Message, Scope

from mockgram.models import MockgramTable
from shared.clock import utcnow

MASKED = "[masked]"
# Parameters that carry a secret or a credential: shown as present, never as their value.
SECRET_PARAMS = frozenset(
    {
        "client_secret",
        "code",
        "code_verifier",
        "refresh_token",
        "access_token",
        "id_token",
        "token",
        "password",
        "csrf_token",
        "client_assertion",
        "assertion",
    }
)
MAX_BODY = 64 * 1024  # a form bigger than this is logged without its parameters
KEEP = 1000  # rows; the oldest go first


class LoggedRequest(MockgramTable, table=True):
    """One request Mockgram answered while the control plane was on."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    client_id: str | None = Field(default=None, max_length=200)
    params: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: int = 0


class Seen:
    """What the middleware saw of one request and its answer."""

    def __init__(self, scope: Scope) -> None:
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.query = bytes(scope.get("query_string", b"")).decode("latin-1")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        self.content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        self.authorization = headers.get("authorization", "")
        self.chunks: list[bytes] = []
        self.size = 0
        self.status = 0

    def body(self, message: Message) -> None:
        if message["type"] == "http.request" and self.size <= MAX_BODY:
            chunk = message.get("body", b"")
            self.size += len(chunk)
            self.chunks.append(chunk)

    def response(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])

    def params(self) -> dict[str, str]:
        pairs = parse_qsl(self.query, keep_blank_values=True)
        if self.content_type == "application/x-www-form-urlencoded" and self.size <= MAX_BODY:
            pairs += parse_qsl(b"".join(self.chunks).decode("utf-8", "replace"), True)
        return {
            name[:100]: MASKED if name in SECRET_PARAMS else value[:500] for name, value in pairs
        }

    def client_id(self, params: dict[str, str]) -> str | None:
        if "client_id" in params:
            return params["client_id"]
        scheme, _, credentials = self.authorization.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return unquote_plus(decoded.partition(":")[0]) or None


def record(session: Session, seen: Seen) -> None:
    """Keep one line for this request (the session's work is committed by Database.run)."""
    params = seen.params()
    client_id = seen.client_id(params)
    session.add(
        LoggedRequest(
            method=seen.method,
            path=seen.path[:500],
            client_id=client_id[:200] if client_id else None,
            params=params,
            status=seen.status,
        )
    )
    # Bounded: beyond KEEP rows the oldest go, so a long test run cannot fill the disk.
    newest = session.exec(
        select(LoggedRequest.id).order_by(col(LoggedRequest.id).desc()).offset(KEEP)
    ).first()
    if newest is not None:
        session.exec(delete(LoggedRequest).where(col(LoggedRequest.id) <= newest))  # type: ignore[call-overload]


def read(session: Session) -> list[dict[str, object]]:
    """The log, oldest first, as GET /_control/requests answers it."""
    rows = session.exec(select(LoggedRequest).order_by(col(LoggedRequest.id))).all()
    return [
        {
            "at": row.at.isoformat(),
            "method": row.method,
            "path": row.path,
            "client_id": row.client_id,
            "params": row.params,
            "status": row.status,
        }
        for row in rows
    ]


def clear(session: Session) -> None:
    """Empty the log (DELETE /_control/requests)."""
    session.exec(delete(LoggedRequest))  # type: ignore[call-overload]
