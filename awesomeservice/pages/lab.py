"""The attack lab: `/lab` lists nine attacks; each button runs one for real against the live
apps (Mockgram over the back channel, AwesomeService in-process) and shows the requests, the
defence's answer and why the attack fails.

Lab mode (setting `lab_mode`, off by default, a red banner on every page when on) adds, for the
defences listed in awesomeservice/lab/switches.py (AwesomeService's iss check; Mockgram's, which
Mockgram switches in its own lab mode), a "switch this defence off for one run" button. Outside
lab mode that button is not shown and the form field is ignored.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from awesomeservice.backchannel import MockgramUnavailable
from awesomeservice.db import DatabaseDep
from awesomeservice.deps import HttpDep, SettingsDep, TemplatesDep, browser_binding
from awesomeservice.lab.attacks import ATTACKS, BY_SLUG, LabContext, Outcome
from awesomeservice.lab.browser import LabCannotRun
from awesomeservice.lab.switches import (
    DEFENCES,
    MOCKGRAM_DEFENCES,
    switch_off,
    switch_off_at_mockgram,
)
from shared.csrf import csrf_ok
from shared.forms import text
from shared.web import csrf_refused, render_error

router = APIRouter()


@router.get("/lab")
def lab(request: Request, templates: TemplatesDep, settings: SettingsDep) -> Response:
    """The nine attacks, each with its button."""
    return templates.TemplateResponse(
        request,
        "lab.html",
        {
            "page_title": "Attack lab",
            "attacks": ATTACKS,
            "defences": DEFENCES | MOCKGRAM_DEFENCES,
        },
    )


@router.get("/lab/{slug}")
def attack_reloaded(slug: str) -> Response:
    """A reload or bookmark of an attack's result: back to that attack's card, to run it again."""
    anchor = f"#{slug}" if slug in BY_SLUG else ""
    return RedirectResponse(f"/lab{anchor}", status_code=303)


@router.post("/lab/{slug}")
async def run_attack(
    request: Request,
    slug: str,
    database: DatabaseDep,
    settings: SettingsDep,
    templates: TemplatesDep,
    http: HttpDep,
) -> Response:
    """Run one attack now and show what happened."""
    attack = BY_SLUG.get(slug)
    if attack is None:
        return render_error(
            request, status_code=404, title="No such attack", message="The lab has nine."
        )
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    binding = browser_binding(request)
    switched_off = False
    # Lab mode only: outside it the field is ignored and no switch is ever stored.
    problem = ""
    if settings.lab_mode and attack.switchable and text(form, "defence_off") == "1":
        if attack.switchable in MOCKGRAM_DEFENCES:
            client_id = (
                settings.spa_pkce_client_id if attack.switchable == "pkce" else (settings.client_id)
            )
            switched_off = await switch_off_at_mockgram(
                http, settings, defence=attack.switchable, client_id=client_id
            )
            if not switched_off:
                problem = "Mockgram did not switch its defence off: is MOCKGRAM_LAB_MODE on? "
        else:
            await database.run(
                switch_off, settings, defence=attack.switchable, browser_binding=binding
            )
            switched_off = True
    context = LabContext(
        http=http,
        settings=settings,
        database=database,
        app=request.app,
        cookie_header=request.headers.get("cookie", ""),
        user_id=request.session.get("user_id"),
        browser_binding=binding,
    )
    try:
        outcome = await attack.run(context)
    except (LabCannotRun, MockgramUnavailable) as exc:
        outcome = Outcome(held=False)
        problem += str(exc.detail if isinstance(exc, MockgramUnavailable) else exc)
    return templates.TemplateResponse(
        request,
        "lab_result.html",
        {
            "page_title": f"Attack {attack.number}: {attack.title}",
            "attack": attack,
            "outcome": outcome,
            "problem": problem,
            "switched_off": switched_off,
        },
        headers={"Cache-Control": "no-store"},
    )
