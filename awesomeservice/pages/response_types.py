"""Which response type? `code`, `token` and `code id_token` side by side — the article's "code or
token or both" — each run for real against Mockgram through the OAuth debugger (its seeded
client accepts every response type), and for each: what travelled through the browser (the
front channel), what through the back channel, and what a thief reading the address bar gets.

The debugger notes each answer here (`note_front_channel`, `note_back_channel`); values are
shortened before they are kept. RFC 6749 §4.1 (code), §4.2 (token); OIDC Core §3.3 (hybrid);
OAuth 2.0 Multiple Response Type Encoding Practices §5 (default response modes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session, select

from awesomeservice.db import SessionDep
from awesomeservice.deps import SettingsDep
from awesomeservice.inspector.context import current
from awesomeservice.models import ResponseTypeRun
from shared.clock import utcnow
from shared.oauth_spec import new_state

router = APIRouter()


@dataclass(frozen=True)
class Contender:
    """One response type, and what the specifications say about it."""

    response_type: str
    name: str
    scope: str
    browser: str
    back_channel: str
    default_mode: str


CONTENDERS: tuple[Contender, ...] = (
    Contender(
        "code",
        "Authorization code (RFC 6749 §4.1)",
        "openid photos.read",
        "A code and the state, in the query of the redirect.",
        "The code, the client secret and the PKCE verifier go to the token endpoint; the "
        "tokens come back there, server to server.",
        "query",
    ),
    Contender(
        "token",
        "Implicit (RFC 6749 §4.2) — retired by RFC 9700 §2.1.2",
        "photos.read",
        "The access token itself, in the fragment of the redirect.",
        "Nothing: there is no back channel, no client authentication, no PKCE.",
        "fragment",
    ),
    Contender(
        "code id_token",
        "Hybrid “both” (OIDC Core §3.3)",
        "openid photos.read",
        "A code and an id_token (who John is, signed; its c_hash binds the code), in the fragment.",
        "The code is traded as in the code flow: the access token never touches the browser.",
        "fragment",
    ),
)
# What each parameter is worth to someone who reads it in the address bar or the history.
THIEF: dict[str, str] = {
    "code": "a code — useless alone: single use, and the token endpoint wants the client's "
    "secret and the PKCE verifier, both on AwesomeService's server (RFC 6749 §4.1.3, RFC 7636)",
    "access_token": "a working access token — John's photos, from anywhere, until it expires "
    "(RFC 6750 §5)",
    "id_token": "an id_token — John's identity to read (sub, and any name or email), signed "
    "for this client; not a key to the photos API",
    "refresh_token": "a refresh token — new access tokens for weeks (bound to the client's secret)",
}
EXPOSURE: dict[str, str] = {
    "query": "in the address bar, the history, and the redirect target's server logs",
    "fragment": "in the address bar and the history (a fragment is never sent to a server)",
    "form_post": "nowhere in the address bar: posted in a form body",
}
_TOKENS = ("code", "access_token", "id_token", "refresh_token")


def shortened(name: str, value: str) -> str:
    """Codes and tokens cut to their first characters; other values as they are."""
    if name in _TOKENS and len(value) > 12:
        return f"{value[:12]}… ({len(value)} characters)"
    return value[:200]


def _row(session: Session, response_type: str) -> ResponseTypeRun | None:
    ctx = current()
    if ctx is None or response_type not in {c.response_type for c in CONTENDERS}:
        return None
    row = session.get(ResponseTypeRun, (ctx.inspector_id, response_type))
    if row is None:
        row = ResponseTypeRun(inspector_id=ctx.inspector_id, response_type=response_type)
    return row


def note_front_channel(
    session: Session, response_type: str, mode: str, received: list[tuple[str, str]]
) -> None:
    """The debugger received an answer through the browser for one of the contenders."""
    row = _row(session, response_type)
    if row is None:
        return
    row.mode = mode
    row.front = json.dumps([(name, shortened(name, value)) for name, value in received])
    row.back = "[]"
    row.updated_at = utcnow()
    session.add(row)


def note_back_channel(session: Session, response_type: str, answer: dict[str, Any]) -> None:
    """The debugger traded the code: what the token endpoint answered, server to server."""
    row = _row(session, response_type)
    if row is None:
        return
    row.back = json.dumps(
        [(name, shortened(name, str(value))) for name, value in answer.items() if value != ""]
    )
    row.updated_at = utcnow()
    session.add(row)


def _observed(row: ResponseTypeRun | None) -> dict[str, Any] | None:
    if row is None:
        return None
    front = [tuple(pair) for pair in json.loads(row.front)]
    return {
        "mode": row.mode,
        "front": front,
        "back": [tuple(pair) for pair in json.loads(row.back)],
        "exposure": EXPOSURE.get(row.mode, ""),
        "stolen": [THIEF[name] for name, _ in front if name in THIEF and row.mode != "form_post"],
    }


@router.get("/response-types")
def response_types(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """The three response types side by side, each with a button that runs it for real."""
    ctx = current()
    runs = {}
    if ctx is not None:
        stored = session.exec(
            select(ResponseTypeRun).where(ResponseTypeRun.inspector_id == ctx.inspector_id)
        ).all()
        runs = {row.response_type: _observed(row) for row in stored}
    return request.app.state.templates.TemplateResponse(
        request,
        "response_types.html",
        {
            "page_title": "Which response type?",
            "contenders": CONTENDERS,
            "runs": runs,
            "client_id": settings.debugger_client_id,
            "redirect_uri": f"{settings.url}/debugger/callback",
            "new_state": new_state,
        },
        headers={"Cache-Control": "no-store"},
    )
