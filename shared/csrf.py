"""CSRF protection for HTML forms: a per-session token, checked in constant time."""

from __future__ import annotations

import secrets

from starlette.requests import Request

from shared.hashing import constant_equals

SESSION_KEY = "csrf_token"


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use; templates put it in a hidden field.

    Only a GET (or HEAD) may create it. A cross-site POST arrives without the SameSite=Lax
    session cookie; creating a token while answering it would send a new session cookie back,
    replacing the person's own — another site could sign John out. Such a page's forms carry
    no token, and submitting one meets the friendly "form expired" page.
    """
    token = request.session.get(SESSION_KEY)
    if not token:
        if request.method not in ("GET", "HEAD"):
            return ""
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return token


def csrf_ok(request: Request, submitted: str | None) -> bool:
    """True when the submitted form token matches the session's."""
    expected = request.session.get(SESSION_KEY)
    if not expected or not submitted:
        return False
    return constant_equals(expected, submitted)
