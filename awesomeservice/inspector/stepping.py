"""Step-through mode: pause before the browser is sent to the authorization server (step 1),
before a callback's code is traded (steps 4–5) and before the photo grid's call to the photos
API (step 6), show what is about to be sent, let the reader change a parameter where one can
be changed, and go on — to see what breaks.

Where "Send" goes is stored here, server side; the form can change only the editable values,
never the destination (no open redirect).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session

from awesomeservice.inspector import recorder
from awesomeservice.inspector.context import current
from awesomeservice.inspector.params import meaning
from awesomeservice.inspector.redact import redact_value
from awesomeservice.models import InspectorPrefs

EDITABLE: dict[str, tuple[str, ...]] = {
    "authorize": ("state", "redirect_uri", "scope"),
    "callback": ("code", "state"),
    "api": (),  # the token is the server's own: shown redacted, never editable
}
STEP_OF = {"authorize": 1, "callback": 4, "api": 6}


def _prefs(db: Session) -> InspectorPrefs | None:
    ctx = current()
    if ctx is None:
        return None
    prefs = db.get(InspectorPrefs, ctx.inspector_id)
    return prefs if prefs is not None and prefs.stepping else None


def _pause(
    request: Request,
    db: Session,
    prefs: InspectorPrefs,
    kind: str,
    url: str,
    *,
    api_call: list[tuple[str, str]] | None = None,
) -> Response:
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    prefs.paused_kind = kind
    prefs.paused_target = urlunsplit(parts._replace(query="", fragment=""))
    prefs.paused_params = json.dumps(params)
    db.add(prefs)
    db.commit()
    rows = [
        {
            "name": name,
            "value": value if name in EDITABLE[kind] else redact_value(name, value),
            "editable": name in EDITABLE[kind],
            "meaning": meaning(name)[0],
        }
        for name, value in params
    ]
    settings = request.app.state.settings
    token_request = (
        [
            ("grant_type", "authorization_code"),
            ("code", "the code above, as you leave it"),
            ("redirect_uri", f"{settings.url}{parts.path}"),
            ("code_verifier", "kept on AwesomeService's server, sent as it is"),
            ("Authorization", f"Basic ****  (client_id “{settings.client_id}”, secret hidden)"),
        ]
        if kind == "callback"
        else []
    )
    return request.app.state.templates.TemplateResponse(
        request,
        "inspector_step.html",
        {
            "page_title": "Step-through: paused",
            "kind": kind,
            "target": prefs.paused_target,
            "rows": rows,
            "token_request": token_request,
            "api_call": api_call or [],
            "step": STEP_OF[kind],
        },
        headers={"Cache-Control": "no-store"},
    )


def pause_before_redirect(request: Request, db: Session, url: str) -> Response | None:
    """Step 1 paused: the authorization request, its state, redirect_uri and scope editable."""
    prefs = _prefs(db)
    return _pause(request, db, prefs, "authorize", url) if prefs else None


def pause_before_exchange(request: Request, db: Session) -> Response | None:
    """Steps 4–5 paused: the callback's code and state editable before the code is traded."""
    prefs = _prefs(db)
    if prefs is None or "code" not in request.query_params:  # an error answer: nothing to trade
        return None
    if prefs.skip_next_pause:  # the reader pressed Send: this is the edited callback
        prefs.skip_next_pause = False
        db.add(prefs)
        db.commit()
        return None
    return _pause(request, db, prefs, "callback", str(request.url))


def pause_before_api_call(
    request: Request, db: Session, *, method: str, api_url: str, access_token: str
) -> Response | None:
    """Step 6 paused: the photos API call about to be made, its bearer token redacted."""
    prefs = _prefs(db)
    if prefs is None:
        return None
    if prefs.skip_next_pause:  # the reader pressed Send: this is the call to make
        prefs.skip_next_pause = False
        db.add(prefs)
        db.commit()
        return None
    api_call = [
        ("Request", f"{method} {api_url}"),
        # Its first characters only: enough to recognise, useless to replay.
        ("Authorization", f"Bearer {access_token[:12]}… ({len(access_token)} characters)"),
        ("Defined in", "RFC 6750 §2.1: the token in the header, never in the URL"),
    ]
    # "Send" comes back to this page, which then makes the call.
    return _pause(request, db, prefs, "api", request.url.path, api_call=api_call)


def resume(db: Session, edited: dict[str, str]) -> str | None:
    """The URL to send the browser to, with the reader's edits; None when nothing is paused."""
    ctx = current()
    prefs = db.get(InspectorPrefs, ctx.inspector_id) if ctx else None
    if prefs is None or prefs.paused_kind not in EDITABLE:
        return None
    kind = prefs.paused_kind
    params = [
        (name, edited[name] if name in EDITABLE[kind] and name in edited else value)
        for name, value in json.loads(prefs.paused_params)
    ]
    original = json.loads(prefs.paused_params)
    url = f"{prefs.paused_target}?{urlencode(params)}" if params else prefs.paused_target
    prefs.paused_kind, prefs.paused_target, prefs.paused_params = "", "", "[]"
    prefs.skip_next_pause = kind in ("callback", "api")
    db.add(prefs)
    db.commit()
    if kind == "authorize" and [list(p) for p in params] != original:
        recorder.record_edited_request(url)
    return url
