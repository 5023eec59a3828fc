"""The flow inspector's pages: the timeline, the sequence diagram, Mermaid and HAR exports,
clear, and the step-through switch. Everything shown was redacted when it was recorded."""

from __future__ import annotations

import json
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import Session

from awesomeservice.db import SessionDep
from awesomeservice.deps import TemplatesDep
from awesomeservice.inspector import decide, diagram, exports, stepping, timeline
from awesomeservice.inspector.context import current
from awesomeservice.inspector.labels import LANES, ROLES
from shared.csrf import csrf_ok
from shared.flash import push_flash
from shared.forms import PageFormDep, text
from shared.steps import STEPS
from shared.web import csrf_refused

router = APIRouter()


def _inspector_id() -> str:
    ctx = current()
    # The middleware runs for every request of this app: there is always an id.
    return ctx.inspector_id if ctx else ""


def _number(value: str | None) -> int | None:
    """A whole number from the query string, or None for anything else (a filter is optional)."""
    return int(value) if value and value.isdigit() and len(value) < 10 else None


@dataclass(frozen=True)
class Selection:
    """Which flows a page shows: one chosen flow, or the newest few; and maybe only one step."""

    summaries: list[timeline.FlowSummary]
    numbers: list[int]
    flow: int | None
    step: int | None

    @property
    def newest(self) -> int:
        """How many flows "the newest" shows in full."""
        return min(len(self.summaries), timeline.SHOWN_FLOWS)

    @property
    def older(self) -> list[timeline.FlowSummary]:
        """The flows not shown in full, when no flow was chosen: listed, one link each."""
        return [] if self.flow is not None else self.summaries[timeline.SHOWN_FLOWS :]


def _selection(request: Request, session: SessionDep) -> Selection:
    summaries = timeline.summaries(session, _inspector_id())
    flow = _number(request.query_params.get("flow"))
    step = _number(request.query_params.get("step"))
    step = step if step in STEPS else None
    if flow is not None:
        numbers = [flow] if any(s.number == flow for s in summaries) else []
    else:
        numbers = [s.number for s in summaries[: timeline.SHOWN_FLOWS]]
    return Selection(summaries, numbers, flow, step)


@router.get("/inspector")
def inspector_page(request: Request, session: SessionDep, templates: TemplatesDep) -> Response:
    """The timeline: newest flow first, each entry labelled with its step and RFC section."""
    inspector_id = _inspector_id()
    chosen = _selection(request, session)
    return templates.TemplateResponse(
        request,
        "inspector.html",
        {
            "page_title": "Flow inspector",
            "flows": timeline.flows(session, inspector_id, chosen.numbers, step=chosen.step),
            "chosen": chosen,
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
    chosen = _selection(request, session)
    flows = timeline.flows(session, _inspector_id(), chosen.numbers, step=chosen.step)
    drawn = [
        (flow.number, Markup(diagram.svg([e.event for e in flow.entries])))  # noqa: S704
        for flow in flows
    ]
    return templates.TemplateResponse(
        request,
        "inspector_diagram.html",
        {
            "page_title": "Flow diagram",
            "drawn": drawn,
            "lanes": LANES,
            "roles": ROLES,
            "chosen": chosen,
        },
        headers={"Cache-Control": "no-store"},
    )


def _download_name(request: Request, extension: str) -> str:
    flow = _number(request.query_params.get("flow"))
    return f"flow-{flow}.{extension}" if flow is not None else f"flow.{extension}"


@router.get("/inspector/export.mmd")
def export_mermaid(request: Request, session: SessionDep) -> Response:
    """The recording (or one flow of it, `?flow=N`) as a Mermaid sequenceDiagram."""
    flow = _number(request.query_params.get("flow"))
    events = timeline.events(session, _inspector_id(), flow=flow)
    return PlainTextResponse(
        diagram.mermaid(events),
        media_type="text/vnd.mermaid",
        headers={
            "Content-Disposition": f'attachment; filename="{_download_name(request, "mmd")}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/inspector/export.har")
def export_har(request: Request, session: SessionDep) -> Response:
    """The recording (or one flow of it, `?flow=N`) as a HAR 1.2 file (redacted)."""
    flow = _number(request.query_params.get("flow"))
    events = timeline.events(session, _inspector_id(), flow=flow)
    return Response(
        json.dumps(exports.har(events), indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{_download_name(request, "har")}"',
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
    if decision := text(form, "decision"):
        decided = _you_decide(request, session, decision, edited)
        if decided is not None:
            return decided
    url = stepping.resume(session, edited)
    if url is None:
        push_flash(request, "Nothing was paused, so nothing was sent.", "info")
        return RedirectResponse("/inspector", status_code=303)
    return RedirectResponse(url, status_code=303)


def _you_decide(
    request: Request, session: Session, decision: str, edited: dict[str, str]
) -> Response | None:
    """The reader judged the paused callback's state; None: it goes on as after Send."""
    held = stepping.held_now(session)
    sent = request.session.get(stepping.SENT_STATE_KEY, "")
    if held is None or held.kind != "callback" or not sent:
        return None
    if decision == decide.FORGE:
        forged = stepping.replace_paused(session, "state", decide.forged_state())
        return stepping.paused_page(request, forged or held, note="forged")
    came_back = edited.get("state", dict(held.params).get("state", ""))
    verdict = decide.judge(decision, sent, came_back)
    if verdict.kind == "go":
        return None
    if verdict.kind == "false_alarm":
        return stepping.paused_page(request, held, note="false_alarm")
    # The reader's choice never decides: a stopped answer is dropped, a let-in one still meets
    # AwesomeService's own state check when it goes on.
    url = stepping.resume(session, edited) if verdict.kind == "fooled" else None
    if verdict.kind == "stopped_rightly":
        stepping.discard(session)
    login = held.target.endswith("/login/callback")
    return request.app.state.templates.TemplateResponse(
        request,
        "inspector_decide.html",
        {
            "page_title": f"You decided: {verdict.title}",
            "verdict": verdict,
            "sent": sent,
            "came_back": came_back,
            "go_on": url,
            "login": login,
        },
        headers={"Cache-Control": "no-store"},
    )
