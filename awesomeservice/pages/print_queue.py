"""The nightly print-queue job, run now: AwesomeService's own token (RFC 6749 §4.4).

Every night a job goes through the orders waiting for the lab. Nobody is signed in and no
browser is involved, so the job cannot use anyone's consent: it authenticates as AwesomeService
and asks Mockgram for a token for AwesomeService itself. This page runs the job for real and
shows each call as it went, then what that token can and cannot do at the photos API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session, col, func, select

from awesomeservice.backchannel import MockgramUnavailable, back_channel
from awesomeservice.connections import print_shop_client
from awesomeservice.db import DatabaseDep
from awesomeservice.deps import DiscoveryDep, HttpDep, SettingsDep, TemplatesDep, UserDep
from awesomeservice.errors import mockgram_unavailable
from awesomeservice.events import EventsDep
from awesomeservice.inspector import jwts
from awesomeservice.mockgram_api import ApiAnswer, try_get
from awesomeservice.models import PrintOrder
from awesomeservice.oauth.client_credentials import machine_token, request_form
from awesomeservice.oauth.resource_metadata import METADATA_PATH, photos_api_metadata
from awesomeservice.oauth.token_endpoint import TokenError
from shared.csrf import csrf_ok
from shared.forms import text
from shared.web import csrf_refused

router = APIRouter()

# What the job asks for: reading photos is all the print shop ever registered for.
JOB_SCOPE = "photos.read"
RFC = "RFC 6749 §4.4"
RFC_URL = "https://www.rfc-editor.org/rfc/rfc6749#section-4.4"


@dataclass(frozen=True)
class JobRun:
    """One run of the job: what went to Mockgram, what came back, what the API said."""

    sent: dict[str, str]
    received: dict[str, Any]
    header: dict[str, Any]
    claims: dict[str, Any]
    api: list[tuple[str, ApiAnswer]]


def queued_orders(session: Session) -> int:
    """The orders waiting for the lab: the job's own work, in AwesomeService's database."""
    waiting = select(func.count()).select_from(PrintOrder)
    return session.exec(waiting.where(col(PrintOrder.status) == "received")).one()


def page(
    request: Request, templates: Any, *, queued: int, status_code: int = 200, **context: Any
) -> Response:
    """The job's page: before a run, after one, or after Mockgram refused it."""
    return templates.TemplateResponse(
        request,
        "print_queue.html",
        {
            "page_title": "The nightly print-queue job",
            "queued": queued,
            "rfc": RFC,
            "rfc_url": RFC_URL,
            "metadata_path": METADATA_PATH,
            "scope": JOB_SCOPE,
            **context,
        },
        status_code=status_code,
    )


@router.get("/print-queue")
async def print_queue(request: Request, templates: TemplatesDep, database: DatabaseDep) -> Response:
    """What the job does and why it needs a token of its own; a button to run it now."""
    return page(request, templates, queued=await database.run(queued_orders))


@router.post("/print-queue/run")
async def run_print_queue_job(
    request: Request,
    settings: SettingsDep,
    templates: TemplatesDep,
    http: HttpDep,
    discovery: DiscoveryDep,
    events: EventsDep,
    database: DatabaseDep,
    _user: UserDep,  # signed-in visitors only: each run mints a token (and a row at Mockgram)
) -> Response:
    """Run the job: discover, ask for AwesomeService's own token, try it at the photos API."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    queued = await database.run(queued_orders)
    try:
        metadata = await discovery.metadata(http, settings.mockgram_url)
        # RFC 9728: the photos API names its identifier, which the token should be for.
        api = await photos_api_metadata(http, issuer=metadata.issuer)
        tokens = await machine_token(
            http,
            events,
            back_channel(metadata.token_endpoint, settings),
            print_shop_client(metadata, settings),
            scope=JOB_SCOPE,
            resource=api.resource,
        )
        # What a token without a person can do at the photos API: nothing of anyone's.
        answers = [("GET /api/photos", await try_get(http, tokens.access_token, "/api/photos"))]
    except MockgramUnavailable as exc:
        return await mockgram_unavailable(request, exc, step=5)
    except TokenError as exc:
        return page(request, templates, queued=queued, refused=exc, status_code=400)
    header, claims = jwts.parts(tokens.access_token)
    run = JobRun(
        sent=request_form(scope=JOB_SCOPE, resource=api.resource),
        received={
            "access_token": tokens.access_token[:24] + "…",
            "token_type": tokens.token_type,
            "scope": tokens.scope,
            "refresh_token": tokens.refresh_token or "(none: §4.4.3)",
        },
        header=header,
        claims=claims,
        api=answers,
    )
    return page(request, templates, queued=queued, run=run)
