"""Write FlowEvent rows: the httpx event hooks record every back-channel call, and two listeners
of the app's events (awesomeservice/events.py) record what only the browser carries: step 1's
request URL and step 4's callback.

Nothing secret is stored: every value goes through `redact` first. Recording never breaks a
flow: a failure to record is logged and forgotten.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import anyio.to_thread
import httpx
from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from awesomeservice.events import AuthorizationRequestSent, CallbackReceived, Events
from awesomeservice.inspector import jwts, labels
from awesomeservice.inspector.context import InspectorContext, current
from awesomeservice.inspector.params import explain_error, meaning
from awesomeservice.inspector.redact import (
    redact_headers,
    redact_json,
    redact_pairs,
    redact_url,
    redact_value,
)
from awesomeservice.models import FlowEvent
from shared.db import delete_older_than

log = logging.getLogger("awesomeservice.inspector")
KEEP_EVENTS = 500  # per browser; older ones are dropped
RECORDING_LIFETIME = timedelta(hours=8)  # the inspector cookie's Max-Age
_BODY_PREVIEW = 2000
_STARTED = "inspector_started"
STARTS_FLOW = "authorization_request"


def _store_in_thread(label: labels.Label, **fields: Any) -> FlowEvent | None:
    """Save one event for the current browser; None outside a request or on failure.

    For code already in a worker thread (a synchronous endpoint); async code calls `_store`.
    """
    ctx = current()
    if ctx is None or ctx.app is None:
        return None
    try:
        event = ctx.app.state.database.run_sync(_save, ctx, label, fields)
    except Exception:
        log.warning("inspector: could not record a %s event", label.kind, exc_info=True)
        return None
    log.info("inspector: %s %s %s -> %s", label.kind, event.method, event.url, event.status)
    return event


async def _store(label: labels.Label, **fields: Any) -> FlowEvent | None:
    """`_store_in_thread` from async code: the database work runs in a worker thread."""
    return await anyio.to_thread.run_sync(functools.partial(_store_in_thread, label, **fields))


def _save(
    db: Session, ctx: InspectorContext, label: labels.Label, fields: dict[str, Any]
) -> FlowEvent:
    """Add the event to this browser's current flow (a new flow for an authorization request,
    taking along the calls this request made before it), and let old events go."""
    if label.kind == labels.DEVICE_POLL.kind and (folded := _fold_poll(db, ctx, fields)):
        return folded
    latest = db.exec(
        select(func.max(FlowEvent.flow_no)).where(FlowEvent.inspector_id == ctx.inspector_id)
    ).one()
    starts_flow = label.kind in (STARTS_FLOW, labels.DEVICE_AUTHORIZATION.kind)
    flow_no = (latest or 0) + 1 if starts_flow else latest or 0
    event = FlowEvent(
        inspector_id=ctx.inspector_id,
        flow_no=flow_no,
        step=label.step,
        kind=label.kind,
        title=fields.pop("title", label.title),
        rfc_label=label.rfc_label,
        rfc_url=label.rfc_url,
        actor_from=label.actor_from,
        actor_to=label.actor_to,
        **fields,
    )
    db.add(event)
    db.commit()
    db.refresh(event)
    if label.kind == "authorization_request":
        # A recording lives as long as the browser's inspector cookie (8 hours).
        delete_older_than(db, FlowEvent, FlowEvent.created_at, RECORDING_LIFETIME)
        db.commit()
    if label.kind == "authorization_request" and ctx.recorded:
        # Discovery made while building this request belongs to its flow.
        db.exec(
            update(FlowEvent).where(col(FlowEvent.id).in_(ctx.recorded)).values(flow_no=flow_no)
        )
        db.commit()
    assert event.id is not None
    ctx.recorded.append(event.id)
    _prune(db, ctx.inspector_id)
    return event


def _fold_poll(db: Session, ctx: InspectorContext, fields: dict[str, Any]) -> FlowEvent | None:
    """A device poll with the same answer as the row just before it: that row, counted once
    more (RFC 8628 §3.4 polls every few seconds; one row a poll would bury the flow)."""
    previous = db.exec(
        select(FlowEvent)
        .where(FlowEvent.inspector_id == ctx.inspector_id)
        .order_by(col(FlowEvent.id).desc())
        .limit(1)
    ).first()
    if (
        previous is None
        or previous.kind != labels.DEVICE_POLL.kind
        or previous.status != fields.get("status")
        or previous.summary != fields.get("summary")
    ):
        return None
    previous.repeats += 1
    previous.details = fields.get("details", previous.details)
    db.add(previous)
    db.commit()
    db.refresh(previous)
    return previous


def _prune(db: Session, inspector_id: str) -> None:
    oldest_kept = db.exec(
        select(FlowEvent.id)
        .where(FlowEvent.inspector_id == inspector_id)
        .order_by(col(FlowEvent.id).desc())
        .offset(KEEP_EVENTS - 1)
        .limit(1)
    ).first()
    if oldest_kept is not None:
        db.exec(
            delete(FlowEvent).where(
                col(FlowEvent.inspector_id) == inspector_id, col(FlowEvent.id) < oldest_kept
            )
        )
        db.commit()


def _parameters(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [
        {"name": name, "value": value, "meaning": meaning(name)[0], "ref": meaning(name)[1]}
        for name, value in redact_pairs(pairs)
    ]


# ── What only the browser carries ───────────────────────────────────────────────────────────


async def record_authorization_request(url: str, *, title: str | None = None) -> None:
    """Step 1: the URL the browser is about to GET, each parameter explained."""
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    extra = {"title": title} if title else {}
    await _store(
        labels.AUTHORIZATION_REQUEST,
        method="GET",
        url=redact_url(url),
        summary=f"{len(pairs)} parameters; scope “{dict(pairs).get('scope', '')}”",
        details=json.dumps({"parameters": _parameters(pairs)}),
        **extra,
    )


def record_edited_request(url: str) -> None:
    """Step 1 again, in step-through mode: the request as the reader changed it.

    Synchronous: step-through's "Send" is a synchronous endpoint, in a worker thread.
    """
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    _store_in_thread(
        labels.AUTHORIZATION_REQUEST_EDITED,
        method="GET",
        url=redact_url(url),
        summary=f"edited; scope “{dict(pairs).get('scope', '')}”",
        details=json.dumps({"parameters": _parameters(pairs)}),
    )


async def record_callback(url: str, *, title: str | None = None, mode: str = "query") -> None:
    """Step 4: the redirect back as received — code (redacted), state, iss, or an error.

    `url` carries the answer's parameters in its query; `mode` says how they really came: in
    the query, in a form POSTed to the callback (form_post), or in the fragment (which the
    page's script posted on: it never reaches a server by itself).
    """
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    received = dict(pairs)
    error = received.get("error")
    label = labels.CALLBACK_ERROR if error else labels.CALLBACK
    if error:
        summary = f"error “{error[:64]}”: {explain_error(error)}"
    else:
        carried = [name for name in ("code", "access_token", "id_token") if name in received]
        summary = ", ".join(f"{name} {redact_value(name, received[name])}" for name in carried)
        summary = summary or "no code, token or error"
    extra = {"title": title} if title else {}
    shown = redact_url(url)
    method = "GET"
    if mode == "form_post":  # OAuth 2.0 Form Post Response Mode: a POST, the answer in its body
        method, shown = "POST", shown.split("?", 1)[0]
    elif mode == "fragment":  # the answer after '#', read by the page's script
        shown = shown.replace("?", "#", 1)
    await _store(
        label,
        method=method,
        url=shown,
        summary=summary + (f" (by {mode})" if mode != "query" else ""),
        details=json.dumps({"parameters": _parameters(pairs), "response_mode": mode}),
        **extra,
    )


def listen_to(events: Events) -> None:
    """Record each authorization request and callback the protocol announces."""
    events.listen(AuthorizationRequestSent, _on_authorization_request_sent)
    events.listen(CallbackReceived, _on_callback_received)


async def _on_authorization_request_sent(event: AuthorizationRequestSent) -> None:
    await record_authorization_request(event.url, title=event.title or None)


async def _on_callback_received(event: CallbackReceived) -> None:
    await record_callback(event.url, title=event.title or None, mode=event.mode)


# ── The back channel: httpx event hooks ─────────────────────────────────────────────────────


def _body(content_type: str, raw: bytes) -> tuple[Any, list[tuple[str, str]]]:
    """A request or response body, redacted: JSON, a form, or a short description."""
    if "json" in content_type:
        try:
            return redact_json(json.loads(raw)), []
        except ValueError:
            pass
    if "x-www-form-urlencoded" in content_type:
        pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
        return None, redact_pairs(pairs)
    if not raw:
        return None, []
    if content_type.startswith("text/"):
        return raw[:_BODY_PREVIEW].decode("utf-8", "replace"), []
    return f"({len(raw)} bytes of {content_type or 'data'})", []


async def _on_request(request: httpx.Request) -> None:
    request.extensions[_STARTED] = time.perf_counter()


async def _on_response(response: httpx.Response) -> None:
    request = response.request
    ctx = current()
    if ctx is None or request.extensions.get("inspector_skip"):
        return
    await response.aread()
    try:
        await _record_exchange(ctx, request, response)
    except Exception:
        log.warning("inspector: could not record a back-channel call", exc_info=True)


async def _record_exchange(ctx: Any, request: httpx.Request, response: httpx.Response) -> None:
    started = request.extensions.get(_STARTED)
    duration = (time.perf_counter() - started) * 1000 if isinstance(started, float) else None
    request_type = request.headers.get("content-type", "")
    request_json, request_form = _body(request_type, request.content)
    response_type = response.headers.get("content-type", "")
    response_json, _ = _body(response_type, response.content)
    label = labels.for_back_channel(
        request.method,
        request.url.path,
        dict(parse_qsl(request.content.decode("utf-8", "replace")))
        if "x-www-form-urlencoded" in request_type
        else {},
    )
    decoded = await _decode_tokens(ctx, request, response)
    # RFC 9449 §4.2: the DPoP proof sent with the request, decoded for the reader.
    if (proof := jwts.dpop_proof(request.headers.get("dpop", ""))) is not None:
        decoded.insert(0, proof)
    await _store(
        label,
        method=request.method,
        url=redact_url(str(request.url)),
        status=response.status_code,
        summary=_summary(response, response_json),
        duration_ms=duration,
        details=json.dumps(
            {
                "request": {
                    "headers": redact_headers(list(request.headers.items())),
                    "form": request_form,
                    "json": request_json,
                },
                "response": {
                    "status": response.status_code,
                    "headers": redact_headers(list(response.headers.items())),
                    "json": response_json if not isinstance(response_json, str) else None,
                    "text": response_json if isinstance(response_json, str) else None,
                },
                "jwts": [token.as_dict() for token in decoded],
            }
        ),
    )


async def _decode_tokens(
    ctx: Any, request: httpx.Request, response: httpx.Response
) -> list[jwts.DecodedJwt]:
    """JWTs in a JSON answer (access_token, id_token), decoded and checked against the JWKS."""
    if "json" not in response.headers.get("content-type", ""):
        return []
    try:
        body = response.json()
    except ValueError:
        return []
    if not isinstance(body, dict):
        return []
    found = [
        (name, body[name])
        for name in ("access_token", "id_token")
        if jwts.looks_like_jwt(body.get(name))
    ]
    if not found:
        return []
    # The key set the provider's discovery document names (none known: shown as unchecked).
    called = str(request.url.copy_with(query=None))
    jwks_url = ctx.app.state.discovery.jwks_uri_behind(called)
    http = ctx.app.state.http
    return [await jwts.decode(name, value, http=http, jwks_url=jwks_url) for name, value in found]


def _summary(response: httpx.Response, body: Any) -> str:
    status = response.status_code
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            return f"{status} {body['error'][:64]}: {explain_error(body['error'])}"
        issued = [name for name in ("access_token", "refresh_token", "id_token") if name in body]
        if issued:
            scope = body.get("scope", "")
            return f"{status}: {', '.join(issued)} issued" + (
                f" (scope “{scope}”)" if scope else ""
            )
        if "active" in body:
            return f"{status}: active={body['active']}"
    if isinstance(body, list):
        return f"{status}: a list of {len(body)} items"
    challenge = response.headers.get("www-authenticate")
    if challenge:
        return f"{status}: {challenge[:160]}"
    return f"{status} {response.reason_phrase}"


def event_hooks() -> dict[str, list[Any]]:
    """The hooks to give the back-channel httpx client."""
    return {"request": [_on_request], "response": [_on_response]}
