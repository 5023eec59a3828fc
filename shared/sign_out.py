"""Sign out of every browser at once: the same button in both apps (server-side sessions)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from shared.csrf import csrf_ok
from shared.flash import push_flash
from shared.forms import text
from shared.sessions import renew_session
from shared.web import csrf_refused


def sign_out_everywhere(
    request: Request, form: Any, session: Session, user_id: int | None, *, app_name: str
) -> Response:
    """End every session of the account (CSRF-checked), this browser's included, and go home.

    The sessions live in the app's database, so a copied cookie ends with the rest: this is
    what makes "sign out" mean something after a stolen or forgotten session.
    """
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    if user_id is not None:
        request.app.state.sessions.end_user_sessions(session, user_id)
        session.commit()
    renew_session(request)
    request.session.clear()
    push_flash(request, f"You are signed out of {app_name} on every browser.", "info")
    return RedirectResponse("/", status_code=303)
