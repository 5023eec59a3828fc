"""The provider check-up: point it at any issuer and a client it may use, and it runs the client
side's view of the security checklist against that provider — a graded report, one row per
rule with its RFC line and what a failure lets an attacker do.

What it sends and how it reads the answers is in awesomeservice/checkup/ (probes.py: near-miss
redirect URIs from this server, the token endpoint tried as an attacker would; legs.py: the
trips through the person's browser that bring back codes). Runs live in the database, per
signed-in user (checkup/store.py), so any worker may serve the next answer. Every outbound URL
passes the debugger's SSRF guard (awesomeservice/destinations.py) first, and no database session
is open while the provider is called.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from awesomeservice.checkup import legs, probes, store
from awesomeservice.checkup.legs import LEGS
from awesomeservice.checkup.rows import BY_KEY, ROWS, letter, result
from awesomeservice.checkup.store import CheckupRun, Snapshot
from awesomeservice.db import DatabaseDep, SessionDep
from awesomeservice.deps import HttpDep, SettingsDep, TemplatesDep, UserDep
from awesomeservice.destinations import ForbiddenDestination
from awesomeservice.oauth import token_endpoint
from awesomeservice.oauth.discovery import (
    IssuerMismatch,
    NoDocument,
    NotADiscoveryAddress,
    find_document,
)
from awesomeservice.settings import AwesomeServiceSettings
from shared.csrf import csrf_ok
from shared.forms import text
from shared.web import csrf_refused, render_error

router = APIRouter()

FIELDS = ("issuer", "client_id", "client_secret", "scope")
_MAX_FIELD = 2000


def redirect_uri(settings: AwesomeServiceSettings) -> str:
    """The check-up's own callback: the one redirect URI its client must have registered."""
    return f"{settings.url}/checkup/callback"


def _form_page(
    request: Request,
    templates: Any,
    settings: AwesomeServiceSettings,
    values: dict[str, str],
    runs: list[CheckupRun],
    *,
    problem: str = "",
    status_code: int = 200,
) -> Response:
    return templates.TemplateResponse(
        request,
        "checkup.html",
        {
            "page_title": "Provider check-up",
            "values": values,
            "problem": problem,
            "redirect_uri": redirect_uri(settings),
            "runs": [(run, letter(run.outcome())) for run in runs],
            "rows": ROWS,
            "legs_count": len(LEGS),
        },
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


def _defaults(settings: AwesomeServiceSettings) -> dict[str, str]:
    return {
        "issuer": settings.mockgram_url,
        "client_id": "",
        "client_secret": "",
        "scope": "openid",
    }


@router.get("/checkup")
def checkup_form(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    templates: TemplatesDep,
    user: UserDep,
) -> Response:
    """The form: issuer, client, secret, scope; and this person's earlier runs."""
    assert user.id is not None
    values = _defaults(settings)
    for name in ("issuer", "client_id", "scope"):  # a link may pre-fill all but the secret
        if name in request.query_params:
            values[name] = request.query_params[name].strip()[:_MAX_FIELD]
    return _form_page(request, templates, settings, values, store.recent(session, user.id))


def _form_problem(values: dict[str, str]) -> str:
    """What is missing or too long in the form, in words ('' when nothing)."""
    if not values["issuer"] or not values["client_id"]:
        return "The issuer and the client_id are needed."
    for name in ("client_id", "client_secret", "scope"):
        if len(values[name]) > store.MAX_VALUE:
            return f"The {name} is longer than {store.MAX_VALUE} characters."
    return ""


def _problem(exc: Exception) -> str:
    """Why no provider could be checked at the address given, in words."""
    if isinstance(exc, ForbiddenDestination):
        return str(exc)
    if isinstance(exc, NotADiscoveryAddress):
        return "Give the provider's issuer URL (no query, no fragment), or its discovery URL."
    if isinstance(exc, IssuerMismatch):
        return (
            f"{exc.url} names the issuer “{exc.named}”, not “{exc.expected}” (OIDC Discovery "
            "§4.3, RFC 8414 §3.3): its endpoints cannot be trusted, so nothing was checked."
        )
    if isinstance(exc, NoDocument) and exc.reason == "unreachable":
        return f"Could not fetch {exc.url}: {exc.detail}."
    if isinstance(exc, NoDocument) and exc.reason == "url_too_long":
        return f"The {exc.detail} of {exc.url} is longer than {store.MAX_URL} characters."
    if isinstance(exc, NoDocument):
        return f"No usable discovery document at {exc.url} ({exc.reason} {exc.detail})."
    return str(exc)


async def _discover(
    request: Request, http: Any, settings: AwesomeServiceSettings, issuer: str
) -> dict[str, Any]:
    """The provider's checked discovery document; every endpoint this server calls, guarded."""
    guard = request.app.state.destination_guard

    async def allowed(url: str, what: str) -> None:
        await guard.check(url, what=what)

    _url, document = await find_document(http, settings, issuer, allowed=allowed)
    if not isinstance(document.get("token_endpoint"), str) or not document["token_endpoint"]:
        raise NoDocument("no_token_endpoint", issuer)
    for name in ("issuer", "authorization_endpoint", "token_endpoint"):
        if len(document[name]) > store.MAX_URL:
            raise NoDocument("url_too_long", issuer, name)
    # The near-miss probes call the authorization endpoint from this server too.
    await guard.check(document["authorization_endpoint"], what="authorization_endpoint")
    return document


async def _redirect_rows(
    http: Any,
    settings: AwesomeServiceSettings,
    endpoint: str,
    *,
    client_id: str,
    registered: str,
    scope: str,
) -> dict[str, dict[str, str]]:
    """The registered URI once (the control), then each near miss, one after another (a
    gentle caller: the provider sees six requests, never a burst)."""
    misses = probes.near_misses(registered)

    async def probe(uri: str) -> probes.Probe:
        return await probes.probe_authorization(
            http, settings, endpoint, client_id=client_id, redirect_uri=uri, scope=scope
        )

    control = await probe(registered)
    if not probes.registered_uri_accepted(control):
        why = (
            f"Even the registered redirect URI {registered} was refused "
            f"(HTTP {control.status}{', ' + control.failure if control.failure else ''}): "
            "is it registered for this client_id?"
        )
        return {key: result("not_run", why) for key, _uri in misses}
    rows = {}
    for key, uri in misses:
        if key == "redirect_other_port" and probes.port_may_vary(registered):
            rows[key] = result(
                "not_run",
                f"{registered} is on a loopback IP, whose port a provider may let vary (RFC "
                "8252 §7.3); serve AwesomeService under a name such as localhost to check it.",
            )
            continue
        rows[key] = probes.judge_near_miss(await probe(uri), uri, registered, endpoint)
    return rows


@router.post("/checkup")
async def start(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    http: HttpDep,
    templates: TemplatesDep,
    user: UserDep,
) -> Response:
    """Find the provider, probe its redirect URI checks, and store the run at its first leg."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    assert user.id is not None
    values = {name: text(form, name).strip()[:_MAX_FIELD] for name in FIELDS}
    shown = {**values, "client_secret": ""}  # never echoed back into the page
    problem = _form_problem(values)
    if problem:
        runs = await database.run(store.recent, user.id)
        return _form_page(
            request, templates, settings, shown, runs, problem=problem, status_code=400
        )
    try:
        document = await _discover(request, http, settings, values["issuer"])
    except (NotADiscoveryAddress, ForbiddenDestination, IssuerMismatch, NoDocument) as exc:
        runs = await database.run(store.recent, user.id)
        return _form_page(
            request, templates, settings, shown, runs, problem=_problem(exc), status_code=400
        )
    registered = redirect_uri(settings)
    rows = await _redirect_rows(
        http,
        settings,
        document["authorization_endpoint"],
        client_id=values["client_id"],
        registered=registered,
        scope=values["scope"],
    )
    method = token_endpoint.auth_method(
        document.get("token_endpoint_auth_methods_supported"),
        has_secret=bool(values["client_secret"]),
    )
    run = CheckupRun(
        user_id=user.id,
        issuer=str(document["issuer"]),
        client_id=values["client_id"],
        client_secret=values["client_secret"],
        auth_method=method,
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        redirect_uri=registered,
        scope=values["scope"],
        iss_advertised=document.get("authorization_response_iss_parameter_supported") is True,
        results=store.dumps(rows),
    )
    run = await database.run(store.create, run, _outbound(run.authorization_endpoint, run, 0))
    return RedirectResponse(f"/checkup/runs/{run.id}", status_code=303)


def _outbound(endpoint: str, run: CheckupRun | Snapshot, leg: int) -> legs.Outbound | None:
    """Leg `leg`'s authorization request, or None after the last leg."""
    if leg >= len(LEGS):
        return None
    return legs.request_for(
        LEGS[leg],
        endpoint=endpoint,
        client_id=run.client_id,
        redirect_uri=run.redirect_uri,
        scope=run.scope,
    )


def _waiting(session: Any, user_id: int) -> Snapshot | None:
    run = store.waiting_run(session, user_id)
    return store.snapshot(run) if run is not None else None


def _pending(run: Snapshot) -> legs.Pending:
    client = token_endpoint.Client(run.client_id, run.client_secret, run.auth_method)
    return legs.Pending(
        issuer=run.issuer,
        iss_advertised=run.iss_advertised,
        redirect_uri=run.redirect_uri,
        state=run.state,
        verifier=run.verifier,
        client=probes.Client(run.token_endpoint, client),
    )


@router.get("/checkup/callback")
async def callback(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    http: HttpDep,
    user: UserDep,
) -> Response:
    """A leg's answer: read it, use its code as the leg says, then on to the next leg."""
    assert user.id is not None
    run = await database.run(_waiting, user.id)
    if run is None or not await database.run(store.claim, run.id, run.leg):
        return render_error(
            request,
            status_code=400,
            title="No check-up was waiting for this answer",
            message="This answer does not belong to a check-up step of yours in progress "
            "(it may have been read already). Nothing was done with it.",
            back_url="/checkup",
            back_label="Your check-ups",
        )
    received = dict(request.query_params)
    rows = await legs.answer(http, settings, LEGS[run.leg], _pending(run), received)
    outbound = _outbound(run.authorization_endpoint, run, run.leg + 1)
    await database.run(store.advance, run.id, rows, outbound)
    # The code leaves the address bar either way; with consent remembered, the next leg
    # comes straight back.
    return RedirectResponse(outbound.url if outbound else f"/checkup/runs/{run.id}", 303)


@router.post("/checkup/runs/{run_id}/skip")
async def skip(request: Request, run_id: int, database: DatabaseDep, user: UserDep) -> Response:
    """The provider did not come back (it showed a page of its own): mark the leg not run."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    assert user.id is not None
    run = await database.run(_owned_snapshot, run_id, user.id)
    if run is not None and not run.done and await database.run(store.claim, run.id, run.leg):
        why = (
            "The provider did not send the browser back. If it showed an error page, it "
            "refused — good — but the check-up could not see that."
        )
        outbound = _outbound(run.authorization_endpoint, run, run.leg + 1)
        await database.run(store.advance, run.id, legs.not_run(LEGS[run.leg], why), outbound)
    return RedirectResponse(f"/checkup/runs/{run_id}", status_code=303)


def _owned_snapshot(session: Any, run_id: int, user_id: int) -> Snapshot | None:
    run = store.owned(session, run_id, user_id)
    return store.snapshot(run) if run is not None and run.awaiting else None


@router.get("/checkup/runs/{run_id}")
def report(
    request: Request,
    run_id: int,
    session: SessionDep,
    templates: TemplatesDep,
    user: UserDep,
) -> Response:
    """The graded report, or how far the run has come."""
    assert user.id is not None
    run = store.owned(session, run_id, user.id)
    if run is None:
        return render_error(
            request,
            status_code=404,
            title="No such check-up",
            message="There is no check-up of yours at this address.",
            back_url="/checkup",
            back_label="Your check-ups",
        )
    outcome = run.outcome()
    lines = [(row, outcome.get(row.key, result("not_run", _not_yet(run, row.key)))) for row in ROWS]
    counts = {
        grade: sum(1 for _row, r in lines if r["grade"] == grade)
        for grade in ("pass", "fail", "warn", "not_run")
    }
    return templates.TemplateResponse(
        request,
        "checkup_run.html",
        {
            "page_title": f"Check-up of {run.issuer}",
            "run": run,
            "lines": lines,
            "counts": counts,
            "letter": letter(outcome) if run.finished_at else "",
            "legs": LEGS,
            "current": LEGS[run.leg] if run.leg < len(LEGS) else None,
            "stale": store.is_stale(run),
        },
        headers={"Cache-Control": "no-store"},
    )


def _not_yet(run: CheckupRun, key: str) -> str:
    """Why a row has no result yet."""
    if run.finished_at is None:
        return "Not run yet: its step through the provider is still ahead."
    if key in BY_KEY:
        return "The run ended before this row could be checked."
    return ""
