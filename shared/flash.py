"""One-time messages carried across a redirect in the session ("Access revoked", "Order placed")."""

from __future__ import annotations

from starlette.requests import Request

SESSION_KEY = "flash"


def push_flash(request: Request, text: str, kind: str = "ok") -> None:
    """Queue a message for the next page; kind is ok, error, info or warn."""
    request.session[SESSION_KEY] = [
        *request.session.get(SESSION_KEY, []),
        {"kind": kind, "text": text},
    ]


def pop_flashes(request: Request) -> list[dict[str, str]]:
    """Take the queued messages (the base template calls this once per page)."""
    return request.session.pop(SESSION_KEY, []) if SESSION_KEY in request.session else []
