"""Which browser is this request from? A pure-ASGI middleware puts the answer in a contextvar.

The inspector id lives in its own cookie, not in the session: signing in clears the session
(a fresh session defends against fixation), and a flow that ends in a sign-in must stay whole.
The id is 128 random bits, HttpOnly, SameSite=Lax; it only names this browser's recordings.
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "awesomeservice_inspector"
_ID_SHAPE = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


@dataclass(frozen=True)
class InspectorContext:
    """The current request's inspector id and the app that serves it (for its engine)."""

    inspector_id: str
    app: Any
    # Events recorded while handling this request: a flow started here takes them along.
    recorded: list[int] = field(default_factory=list)


_current: ContextVar[InspectorContext | None] = ContextVar("inspector", default=None)


def current() -> InspectorContext | None:
    """The inspector context of the request being handled, or None outside a request."""
    return _current.get()


def _cookie_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header is simply ignored
                return None
            morsel = jar.get(COOKIE)
            if morsel is not None and _ID_SHAPE.match(morsel.value):
                return morsel.value
    return None


class InspectorMiddleware:
    """Sets the inspector contextvar for each HTTP request; gives a new browser its cookie."""

    def __init__(self, app: ASGIApp, *, secure: bool = False) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        inspector_id = _cookie_id(scope)
        # Only a top-level GET may give the browser its id: a cross-site POST (form_post mode)
        # arrives without SameSite=Lax cookies and must not replace the id it already has.
        is_new = inspector_id is None and scope.get("method") in ("GET", "HEAD")
        if inspector_id is None:
            inspector_id = secrets.token_urlsafe(16)
        cookie = f"{COOKIE}={inspector_id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=28800" + (
            "; Secure" if self.secure else ""
        )

        async def send_with_cookie(message: Message) -> None:
            if is_new and message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
            await send(message)

        token = _current.set(InspectorContext(inspector_id, scope.get("app")))
        try:
            await self.app(scope, receive, send_with_cookie)
        finally:
            _current.reset(token)
