"""The request console: your own tokens, whole and decoded, and hand-made requests to Mockgram.

A page over awesomeservice/console.py (the rules: Mockgram's origin only, your own tokens only,
the client secret never shown). Two sources of tokens: the signed-in user's own Mockgram
connection (`/console`), and what the OAuth debugger obtained in this browser session
(`/console?source=debugger`). Every database read and write is its own short session
(`database.run`), none held while Mockgram is called.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import delete
from sqlmodel import Session, col

from awesomeservice.backchannel import MockgramUnavailable
from awesomeservice.connections import get_connection
from awesomeservice.console import (
    PRESET_BY_KEY,
    PRESETS,
    Composed,
    ConsoleRefused,
    Sent,
    TokenSource,
    preset_request,
    refresh_outcome,
    send_composed,
)
from awesomeservice.db import DatabaseDep
from awesomeservice.deps import (
    DiscoveryDep,
    HttpDep,
    SettingsDep,
    UserDep,
    browser_binding,
)
from awesomeservice.inspector import jwts
from awesomeservice.models import ConsoleTokens
from awesomeservice.settings import AwesomeServiceSettings
from shared.clock import as_utc, utcnow
from shared.csrf import csrf_ok
from shared.forms import text
from shared.web import csrf_refused

router = APIRouter()

_MAX = 8000
KEEP_SECONDS = 3600  # the debugger's tokens, for this long after they were obtained


def _owner(request: Request, source: str, user_id: int) -> str:
    """Whose ConsoleTokens row: the user's (connection) or this browser session's (debugger)."""
    return f"browser:{browser_binding(request)}" if source == "debugger" else f"user:{user_id}"


def _load(
    db: Session, settings: AwesomeServiceSettings, source: str, owner: str, user_id: int
) -> TokenSource | None:
    """The tokens the console may use for this user and source, or None."""
    kept = db.get(ConsoleTokens, owner)
    if source == "debugger":
        if kept is None or not kept.access_token:
            return None
        if as_utc(kept.updated_at) < utcnow() - timedelta(seconds=KEEP_SECONDS):
            return None  # as the debugger forgets its requests after an hour
        secret = (
            settings.debugger_client_secret if kept.client_id == settings.debugger_client_id else ""
        )
        return TokenSource(
            "debugger",
            kept.client_id,
            secret,
            kept.access_token,
            kept.refresh_token,
            kept.old_refresh_token,
        )
    connection = get_connection(db, user_id)
    if connection is None:
        return None
    return TokenSource(
        "connection",
        settings.client_id,
        settings.client_secret,
        connection.access_token,
        connection.refresh_token or "",
        kept.old_refresh_token if kept else "",
    )


def keep_debugger_tokens(db: Session, owner: str, client_id: str, answer: dict[str, Any]) -> None:
    """The debugger's token answer, kept for the console of this browser session; other
    sessions' older ones are forgotten (tokens are kept no longer than the lesson needs)."""
    db.exec(
        delete(ConsoleTokens).where(
            col(ConsoleTokens.owner).startswith("browser:"),
            col(ConsoleTokens.updated_at) < utcnow() - timedelta(seconds=KEEP_SECONDS),
        )
    )
    row = db.get(ConsoleTokens, owner) or ConsoleTokens(owner=owner)
    row.client_id = client_id
    row.access_token = str(answer.get("access_token", ""))
    row.refresh_token = str(answer.get("refresh_token", "") or "")
    row.old_refresh_token = ""
    row.updated_at = utcnow()
    db.add(row)


def _rotate(
    db: Session, owner: str, source: str, user_id: int, old: str, answer: dict[str, Any]
) -> None:
    """RFC 6749 §6: the refreshed pair replaces the old one; the old refresh token is kept
    only so the reader can replay it."""
    row = db.get(ConsoleTokens, owner) or ConsoleTokens(owner=owner)
    row.old_refresh_token = old
    row.updated_at = utcnow()
    access = answer.get("access_token")
    new_refresh = answer.get("refresh_token")
    if source == "debugger":
        row.access_token = access if isinstance(access, str) else row.access_token
        row.refresh_token = new_refresh if isinstance(new_refresh, str) else row.refresh_token
    else:
        connection = get_connection(db, user_id)
        if connection is not None:
            if isinstance(access, str):
                connection.access_token = access
            if isinstance(new_refresh, str):
                connection.refresh_token = new_refresh
            expires_in = answer.get("expires_in")
            if isinstance(expires_in, int) and expires_in > 0:
                connection.expires_at = utcnow() + timedelta(seconds=expires_in)
            connection.refreshed_at = utcnow()
            db.add(connection)
    db.add(row)


def _decoded(source: TokenSource) -> dict[str, Any]:
    """Header and claims of the access token (a JWT at Mockgram); the refresh token is opaque."""
    header, claims = jwts.parts(source.access_token)
    return {
        "is_jwt": jwts.looks_like_jwt(source.access_token),
        "header": header,
        "claims": claims,
        "expiry": jwts.expiry_in_words(claims.get("exp")) if claims else "",
    }


async def _page(
    request: Request,
    *,
    source_name: str,
    source: TokenSource | None,
    composed: Composed | None,
    preset: str,
    sent: Sent | None = None,
    refused: str = "",
    outcome: tuple[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return request.app.state.templates.TemplateResponse(
        request,
        "console.html",
        {
            "page_title": "Request console",
            "source_name": source_name,
            "source": source,
            "decoded": _decoded(source) if source else None,
            "presets": PRESETS,
            "preset": preset,
            "composed": composed,
            "sent": sent,
            "refused": refused,
            "outcome": outcome,
        },
        status_code=status_code,
        # The tokens are in this page: no cache may keep a copy (RFC 9111 §5.2.2.5).
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def _source_name(value: str) -> str:
    return "debugger" if value == "debugger" else "connection"


@router.get("/console")
async def console(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    http: HttpDep,
    discovery: DiscoveryDep,
    user: UserDep,
) -> Response:
    """The tokens and the builder, prefilled with a preset (?preset=refresh)."""
    assert user.id is not None
    source_name = _source_name(request.query_params.get("source", ""))
    owner = _owner(request, source_name, user.id)
    source = await database.run(_load, settings, source_name, owner, user.id)
    key = request.query_params.get("preset", "photos")
    preset = PRESET_BY_KEY.get(key, PRESETS[0])
    composed = None
    refused = ""
    if source is not None:
        try:
            metadata = await discovery.metadata(http, settings.mockgram_url)
            composed = preset_request(preset, metadata.document, settings.mockgram_url)
        except MockgramUnavailable as exc:
            refused = f"Mockgram's discovery document did not answer ({exc.detail})."
    return await _page(
        request,
        source_name=source_name,
        source=source,
        composed=composed,
        preset=preset.key,
        refused=refused,
    )


@router.post("/console/send")
async def console_send(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    http: HttpDep,
    user: UserDep,
) -> Response:
    """Send the composed request to Mockgram (and only there), then show both sides."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    assert user.id is not None
    source_name = _source_name(text(form, "source"))
    owner = _owner(request, source_name, user.id)
    source = await database.run(_load, settings, source_name, owner, user.id)
    composed = Composed(
        method=text(form, "method")[:10],
        url=text(form, "url")[:_MAX],
        headers=text(form, "headers")[:_MAX],
        body=text(form, "body")[:_MAX],
    )
    preset = text(form, "preset")[:40]
    if source is None:
        return await _page(
            request,
            source_name=source_name,
            source=None,
            composed=None,
            preset=preset,
            refused="There are no tokens of yours to use: connect Mockgram first.",
            status_code=400,
        )
    try:
        sent = await send_composed(http, settings, source, composed)
    except ConsoleRefused as exc:
        return await _page(
            request,
            source_name=source_name,
            source=source,
            composed=composed,
            preset=preset,
            refused=str(exc),
            status_code=400,
        )
    body = composed.body.replace("{refresh_token}", source.refresh_token).replace(
        "{old_refresh_token}", source.old_refresh_token
    )
    outcome = refresh_outcome(body, source, sent)
    if outcome and outcome[0] == "rotated" and isinstance(sent.json, dict):
        await database.run(_rotate, owner, source_name, user.id, source.refresh_token, sent.json)
        source = await database.run(_load, settings, source_name, owner, user.id)
    return await _page(
        request,
        source_name=source_name,
        source=source,
        composed=composed,
        preset=preset,
        sent=sent,
        outcome=outcome,
    )
