"""Step-through mode: pause before each redirect to the authorization server (step 1) and
before each back-channel call of the flows — a callback's code traded for tokens (steps 4–5,
with the key set and userinfo calls a login makes next), an expired token refreshed, the photo
grid's call to the photos API (step 6), the revocations of "Disconnect Mockgram" — show what is
about to be sent, let the reader change a parameter where one can be changed, and go on — to
see what breaks.

Where "Send" goes is stored here, server side; the form can change only the editable values,
never the destination (no open redirect). A pause before a form's POST (disconnect) sends the
form again, with the same CSRF token, carrying `step_confirmed`.

The page layer asks for a pause between protocol steps through the app's events
(awesomeservice/events.py: BeforeRedirect, BeforeExchange, BeforeRevocation); `pause` answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session

from awesomeservice.events import (
    CONFIRMED_FIELD,
    BeforeExchange,
    BeforeRedirect,
    BeforeRevocation,
    Events,
    PausePoint,
)
from awesomeservice.inspector import recorder
from awesomeservice.inspector.context import current
from awesomeservice.inspector.params import meaning
from awesomeservice.inspector.redact import redact_value
from awesomeservice.models import InspectorPrefs
from shared.db import Database

EDITABLE: dict[str, tuple[str, ...]] = {
    "authorize": ("state", "redirect_uri", "scope"),
    "callback": ("code", "state"),
    # Tokens are the server's own: shown shortened, never editable.
    "api": (),
    "refresh": (),
    "revoke": (),
}
# The article's step each pause belongs to; refresh and revocation come after the story.
STEP_OF: dict[str, int | None] = {
    "authorize": 1,
    "callback": 4,
    "api": 6,
    "refresh": None,
    "revoke": None,
}
POST_KINDS = frozenset({"revoke"})  # paused form posts: Send posts the form again
SENT_STATE_KEY = "stepping_sent_state"  # in the server-side session, for "You decide"


def shortened(token: str) -> str:
    """Its first characters only: enough to recognise, useless to replay."""
    return f"{token[:12]}… ({len(token)} characters)"


def active(db: Session) -> bool:
    """Whether this browser is stepping through: checked before any work done for a pause."""
    return _prefs(db) is not None


def _prefs(db: Session) -> InspectorPrefs | None:
    ctx = current()
    if ctx is None:
        return None
    prefs = db.get(InspectorPrefs, ctx.inspector_id)
    return prefs if prefs is not None and prefs.stepping else None


@dataclass(frozen=True)
class Held:
    """A call held back: its kind, where "Send" goes, and the parameters about to be sent."""

    kind: str
    target: str
    params: list[tuple[str, str]]


def _hold(db: Session, prefs: InspectorPrefs, kind: str, url: str) -> Held:
    """Remember the paused call, server side: "Send" may change its parameters, never where
    it goes."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    prefs.paused_kind = kind
    prefs.paused_target = urlunsplit(parts._replace(query="", fragment=""))
    prefs.paused_params = json.dumps(params)
    db.add(prefs)
    db.commit()
    return Held(kind, prefs.paused_target, params)


def _hold_when_stepping(db: Session, kind: str, url: str) -> Held | None:
    """Hold the call if this browser is stepping through."""
    prefs = _prefs(db)
    return _hold(db, prefs, kind, url) if prefs else None


def _hold_unless_sent(db: Session, kind: str, url: str) -> Held | None:
    """Hold the call if stepping through, unless the reader just pressed "Send" for it: then
    it goes, once."""
    prefs = _prefs(db)
    if prefs is None:
        return None
    if prefs.skip_next_pause:  # the reader pressed Send: this is the call to make
        prefs.skip_next_pause = False
        db.add(prefs)
        db.commit()
        return None
    return _hold(db, prefs, kind, url)


def _hold_unless_confirmed(db: Session, kind: str, url: str, *, confirmed: bool) -> Held | None:
    """Hold a form's POST if stepping through, unless it is the form posted again by "Send"."""
    prefs = _prefs(db)
    if prefs is None:
        return None
    if prefs.paused_kind == kind and confirmed:
        prefs.paused_kind, prefs.paused_target, prefs.paused_params = "", "", "[]"
        db.add(prefs)
        db.commit()
        return None
    return _hold(db, prefs, kind, url)


def _paused_page(
    request: Request,
    held: Held,
    *,
    api_call: list[tuple[str, str]] | None = None,
    repost_to: str = "",
    note: str = "",
) -> Response:
    """The page that shows the held call, its editable parameters, and what comes next."""
    kind = held.kind
    rows = [
        {
            "name": name,
            "value": value if name in EDITABLE[kind] else redact_value(name, value),
            "editable": name in EDITABLE[kind],
            "meaning": meaning(name)[0],
        }
        for name, value in held.params
    ]
    settings = request.app.state.settings
    token_request: list[tuple[str, str]] = []
    then: list[tuple[str, str]] = []
    if kind == "callback":
        path = urlsplit(held.target).path
        login = path == "/login/callback"
        client_id = settings.login_client_id if login else settings.client_id
        token_request = [
            ("grant_type", "authorization_code"),
            ("code", "the code above, as you leave it"),
            ("redirect_uri", f"{settings.url}{path}"),
            ("code_verifier", "kept on AwesomeService's server, sent as it is"),
            ("client authentication", f"client_id “{client_id}” and its secret (never shown)"),
        ]
        if login:
            # OIDC Core §3.1.3.7, §5.3: what the login does with the answer, over the back channel.
            then = [
                (
                    "GET jwks_uri",
                    "the provider's public keys, to check the id_token's signature "
                    "(from the cache when fresh; fetched again once for an unknown kid)",
                ),
                (
                    "GET userinfo_endpoint",
                    "the profile, with the new access token as a Bearer "
                    "token; its sub must equal the id_token's",
                ),
            ]
    return request.app.state.templates.TemplateResponse(
        request,
        "inspector_step.html",
        {
            "page_title": "Step-through: paused",
            "kind": kind,
            "target": held.target,
            "rows": rows,
            "token_request": token_request,
            "api_call": api_call or [],
            "then": then,
            "repost_to": repost_to,
            "confirmed_field": CONFIRMED_FIELD,
            "step": STEP_OF[kind],
            # "You decide": the state AwesomeService sent, beside the one that came back.
            "sent_state": request.session.get(SENT_STATE_KEY, "") if kind == "callback" else "",
            "note": note,
        },
        headers={"Cache-Control": "no-store"},
    )


async def pause_before_redirect(request: Request, database: Database, url: str) -> Response | None:
    """Step 1 paused: the authorization request, its state, redirect_uri and scope editable."""
    held = await database.run(_hold_when_stepping, "authorize", url)
    if held:
        # "You decide" at the callback compares the answer with this (the session is server side).
        request.session[SENT_STATE_KEY] = dict(held.params).get("state", "")
    return _paused_page(request, held) if held else None


async def pause_before_exchange(request: Request, database: Database) -> Response | None:
    """Steps 4–5 paused: the callback's code and state editable before the code is traded."""
    if "code" not in request.query_params:  # an error answer: nothing to trade
        return None
    # After "Send", this is the edited callback: it goes on.
    held = await database.run(_hold_unless_sent, "callback", str(request.url))
    return _paused_page(request, held) if held else None


async def _pause_unless_sent(
    request: Request, database: Database, kind: str, call: list[tuple[str, str]]
) -> Response | None:
    """Pause a page's back-channel call; "Send" comes back to this page, which then makes it."""
    held = await database.run(_hold_unless_sent, kind, request.url.path)
    return _paused_page(request, held, api_call=call) if held else None


async def pause_before_api_call(
    request: Request, database: Database, *, method: str, api_url: str, access_token: str
) -> Response | None:
    """Step 6 paused: the photos API call about to be made, its bearer token redacted."""
    call = [
        ("Request", f"{method} {api_url}"),
        ("Authorization", f"Bearer {shortened(access_token)}"),
        ("Defined in", "RFC 6750 §2.1: the token in the header, never in the URL"),
    ]
    return await _pause_unless_sent(request, database, "api", call)


async def pause_before_refresh(
    request: Request, database: Database, *, token_url: str, refresh_token: str
) -> Response | None:
    """The access token expired: the refresh_token grant about to be sent, paused."""
    call = [
        ("Request", f"POST {token_url}"),
        ("grant_type", "refresh_token"),
        ("refresh_token", shortened(refresh_token)),
        ("client authentication", "AwesomeService's client_id and secret (never shown)"),
        (
            "Defined in",
            "RFC 6749 §6; the answer's new refresh token replaces this one (RFC 9700 §4.14.2)",
        ),
    ]
    return await _pause_unless_sent(request, database, "refresh", call)


async def pause_before_post(
    request: Request,
    database: Database,
    form_fields: dict[str, str],
    *,
    kind: str,
    call: list[tuple[str, str]],
) -> Response | None:
    """A form's POST whose back-channel calls are paused; Send posts the same form again."""
    path = request.url.path
    confirmed = form_fields.get(CONFIRMED_FIELD) == "1"
    held = await database.run(_hold_unless_confirmed, kind, path, confirmed=confirmed)
    return _paused_page(request, held, api_call=call, repost_to=path) if held else None


async def pause_before_revoking(request: Request, point: BeforeRevocation) -> Response | None:
    """ "Disconnect Mockgram": the RFC 7009 revocations about to be sent."""
    database: Database = request.app.state.database
    if not await database.run(active):
        return None  # not stepping: the endpoint is not even looked up
    call = [("Request", f"POST {await point.endpoint()}, once per token")]
    call += [
        (hint, f"token={shortened(token)}, token_type_hint={hint}") for hint, token in point.tokens
    ]
    call += [
        ("client authentication", "AwesomeService's client_id and secret (never shown)"),
        ("Defined in", "RFC 7009 §2.1; revoking the refresh token ends the whole grant"),
    ]
    fields = {CONFIRMED_FIELD: point.confirmed}
    return await pause_before_post(request, database, fields, kind="revoke", call=call)


async def pause(request: Request, point: PausePoint) -> Response | None:
    """The step-through hook the page layer calls between protocol steps."""
    database: Database = request.app.state.database
    if isinstance(point, BeforeRedirect):
        return await pause_before_redirect(request, database, point.url)
    if isinstance(point, BeforeExchange):
        return await pause_before_exchange(request, database)
    if isinstance(point, BeforeRevocation):
        return await pause_before_revoking(request, point)
    return None


def pause_with(events: Events) -> None:
    """Register step-through as the app's pause."""
    events.pause_with(pause)


def resume(db: Session, edited: dict[str, str]) -> str | None:
    """The URL to send the browser to, with the reader's edits; None when nothing is paused."""
    ctx = current()
    prefs = db.get(InspectorPrefs, ctx.inspector_id) if ctx else None
    if prefs is None or prefs.paused_kind not in EDITABLE or prefs.paused_kind in POST_KINDS:
        return None  # nothing paused here (a paused POST goes on by posting its form again)
    kind = prefs.paused_kind
    params = [
        (name, edited[name] if name in EDITABLE[kind] and name in edited else value)
        for name, value in json.loads(prefs.paused_params)
    ]
    original = json.loads(prefs.paused_params)
    url = f"{prefs.paused_target}?{urlencode(params)}" if params else prefs.paused_target
    prefs.paused_kind, prefs.paused_target, prefs.paused_params = "", "", "[]"
    prefs.skip_next_pause = kind in ("callback", "api", "refresh")
    db.add(prefs)
    db.commit()
    if kind == "authorize" and [list(p) for p in params] != original:
        recorder.record_edited_request(url)
    return url


# ── "You decide": the paused callback, judged by the reader ─────────────────────────────────


def held_now(db: Session) -> Held | None:
    """The call paused in this browser, if any."""
    ctx = current()
    prefs = db.get(InspectorPrefs, ctx.inspector_id) if ctx else None
    if prefs is None or not prefs.paused_kind:
        return None
    params = [(name, value) for name, value in json.loads(prefs.paused_params)]
    return Held(prefs.paused_kind, prefs.paused_target, params)


def discard(db: Session) -> None:
    """Drop the paused call: nothing is sent (the reader stopped it)."""
    ctx = current()
    prefs = db.get(InspectorPrefs, ctx.inspector_id) if ctx else None
    if prefs is not None:
        prefs.paused_kind, prefs.paused_target, prefs.paused_params = "", "", "[]"
        db.add(prefs)
        db.commit()


def replace_paused(db: Session, name: str, value: str) -> Held | None:
    """Change one parameter of the paused callback (the forged answer of "You decide")."""
    ctx = current()
    prefs = db.get(InspectorPrefs, ctx.inspector_id) if ctx else None
    if prefs is None or prefs.paused_kind != "callback":
        return None
    params = [(n, value if n == name else v) for n, v in json.loads(prefs.paused_params)]
    prefs.paused_params = json.dumps(params)
    db.add(prefs)
    db.commit()
    return Held(prefs.paused_kind, prefs.paused_target, params)


def paused_page(request: Request, held: Held, *, note: str = "") -> Response:
    """The paused page again, with a note above the values."""
    return _paused_page(request, held, note=note)
