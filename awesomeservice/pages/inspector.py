"""The flow inspector's pages: the timeline, the sequence diagram, Mermaid and HAR exports,
clear, and the step-through switch. Everything shown was redacted when it was recorded."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from markupsafe import Markup

from awesomeservice.db import SessionDep
from awesomeservice.deps import TemplatesDep
from awesomeservice.inspector import diagram, exports, stepping, timeline
from awesomeservice.inspector.context import current
from awesomeservice.inspector.labels import LANES, ROLES
from shared.csrf import csrf_ok
from shared.flash import push_flash
from shared.forms import PageFormDep, text
from shared.web import csrf_refused

router = APIRouter()


def _inspector_id() -> str:
    ctx = current()
    # The middleware runs for every request of this app: there is always an id.
    return ctx.inspector_id if ctx else ""


@router.get("/inspector")
def inspector_page(request: Request, session: SessionDep, templates: TemplatesDep) -> Response:
    """The timeline: newest flow first, each entry labelled with its step and RFC section."""
    inspector_id = _inspector_id()
    return templates.TemplateResponse(
        request,
        "inspector.html",
        {
            "page_title": "Flow inspector",
            "flows": timeline.flows(session, inspector_id),
            "stepping": timeline.stepping(session, inspector_id),
            "pretty": _pretty,
        },
        headers={"Cache-Control": "no-store"},
    )


def _pretty(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


@router.get("/inspector/diagram")
def diagram_page(request: Request, session: SessionDep, templates: TemplatesDep) -> Response:
    """The recorded events as a sequence diagram, one per flow (server-rendered SVG)."""
    flows = timeline.flows(session, _inspector_id())
    drawn = [
        (flow.number, Markup(diagram.svg([e.event for e in flow.entries])))  # noqa: S704
        for flow in flows
    ]
    return templates.TemplateResponse(
        request,
        "inspector_diagram.html",
        {"page_title": "Flow diagram", "drawn": drawn, "lanes": LANES, "roles": ROLES},
        headers={"Cache-Control": "no-store"},
    )


@router.get("/inspector/export.mmd")
def export_mermaid(session: SessionDep) -> Response:
    """The whole recording as a Mermaid sequenceDiagram."""
    events = timeline.events(session, _inspector_id())
    return PlainTextResponse(
        diagram.mermaid(events),
        media_type="text/vnd.mermaid",
        headers={
            "Content-Disposition": 'attachment; filename="flow.mmd"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/inspector/export.har")
def export_har(session: SessionDep) -> Response:
    """The whole recording as a HAR 1.2 file (redacted)."""
    events = timeline.events(session, _inspector_id())
    return Response(
        json.dumps(exports.har(events), indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="flow.har"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/inspector/clear")
def clear(request: Request, form: PageFormDep, session: SessionDep) -> Response:
    """Forget this browser's recording."""
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    timeline.clear(session, _inspector_id())
    push_flash(request, "The recording was cleared.", "info")
    return RedirectResponse("/inspector", status_code=303)


@router.post("/inspector/stepping")
def toggle_stepping(request: Request, form: PageFormDep, session: SessionDep) -> Response:
    """Turn step-through mode on or off for this browser."""
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    on = text(form, "stepping") == "on"
    timeline.set_stepping(session, _inspector_id(), on)
    push_flash(
        request,
        "Step-through is on: AwesomeService will pause before it sends you to Mockgram (step 1), "
        "before it trades a code for tokens (step 5), before it refreshes an expired token, "
        "before it calls the photos API (step 6) and before Disconnect revokes the tokens."
        if on
        else "Step-through is off.",
        "info",
    )
    return RedirectResponse("/inspector", status_code=303)


@router.post("/inspector/step/send")
def step_send(request: Request, form: PageFormDep, session: SessionDep) -> Response:
    """Go on from a paused step, with the reader's edits, to the destination stored here."""
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    edited = {
        key[2:]: value
        for key, value in form.multi_items()
        if key.startswith("p_") and isinstance(value, str)
    }
    url = stepping.resume(session, edited)
    if url is None:
        push_flash(request, "Nothing was paused, so nothing was sent.", "info")
        return RedirectResponse("/inspector", status_code=303)
    return RedirectResponse(url, status_code=303)
