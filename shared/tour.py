"""Tour mode: the banner on each page of the story, and the one-click switch that hides it.

The choice is per browser, kept in its session (`tour`), and defaults to the app's
`tour_default` setting (on in the demo). The switch is a CSRF-checked POST that sends the browser
back to the page it came from — a local path only, never another site (checklist C8, item 30).
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from shared.csrf import csrf_ok
from shared.forms import text

SESSION_KEY = "tour"
# A path on this site: one leading slash (not "//host"), no backslash, no control characters.
_LOCAL_PATH = re.compile(r"^/(?![/\\])[^\\\x00-\x1f\x7f]{0,500}$")

router = APIRouter(include_in_schema=False)


def tour_on(request: Request) -> bool:
    """Whether this browser sees the tour banners (its own choice, else the app's default)."""
    chosen = request.session.get(SESSION_KEY)
    if isinstance(chosen, bool):
        return chosen
    return bool(getattr(request.app.state.settings, "tour_default", True))


# An answer from an authorization server: never copied into a page again (checklist C7), and
# never replayed — going "back" to a callback would only be refused for its used state.
_PROTOCOL_ANSWER_PARAMS = frozenset(
    {"code", "state", "iss", "access_token", "id_token", "refresh_token", "error"}
)


def tour_back(request: Request) -> str:
    """Where the switch returns to: this page, or '/' when its URL carries a protocol answer."""
    if _PROTOCOL_ANSWER_PARAMS & set(request.query_params.keys()):
        return "/"
    query = request.url.query
    return f"{request.url.path}?{query}" if query else request.url.path


def local_path(value: str) -> str:
    """`value` if it is a path on this site, else '/' (never an open redirect)."""
    return value if _LOCAL_PATH.match(value) else "/"


@router.post("/tour/toggle")
async def toggle(request: Request) -> Response:
    """Show or hide the tour in this browser, then go back to the page the button was on."""
    from shared.web import csrf_refused  # shared.web imports this module for tour_on

    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    request.session[SESSION_KEY] = text(form, "show") == "1"
    # Redirect after POST is 303 (RFC 9700 §4.12), to a local path only.
    return RedirectResponse(local_path(text(form, "back")), status_code=303)
