"""The developer portal's window on a client's traffic: what it sent, and its report card.

`/developers/requests` lists the captured requests (mockgram/capture.py) of the signed-in
developer's apps, secrets masked, each with the RFC section of its endpoint; `?client_id=` narrows
it to one app. `/developers/clients/{client_id}/report` grades one app (mockgram/report_card.py).
The portal's rule holds: a developer sees only the apps they registered (mockgram/pages/
developers.py); a stranger is sent to sign in, and another developer's app is "not found".
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session, col, select
from starlette.responses import Response

from mockgram import capture
from mockgram.db import SessionDep
from mockgram.deps import CurrentUserDep, TemplatesDep
from mockgram.models import Client, User
from mockgram.report_card import report_card
from shared.web import render_error

router = APIRouter()
SIGN_IN = "/login?next=/developers"
NO_STORE = {"Cache-Control": "no-store"}


def own_apps(session: Session, user: User) -> list[Client]:
    """The apps this developer registered, newest first (the portal's list)."""
    statement = (
        select(Client)
        .where(Client.owner_user_id == user.id)
        .order_by(col(Client.created_at).desc())
    )
    return list(session.exec(statement).all())


def not_yours(request: Request) -> Response:
    """The same answer for an app that does not exist and one registered by someone else."""
    return render_error(
        request,
        status_code=404,
        title="No such app among yours",
        message="You can see the requests and the report card of apps you registered only.",
        back_url="/developers",
        back_label="Back to the developer portal",
        step=0,
    )


@router.get("/developers/requests")
def requests_page(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    templates: TemplatesDep,
    client_id: str | None = None,
) -> Response:
    """What your apps actually sent to Mockgram, newest first, secrets masked."""
    if user is None:
        return RedirectResponse(SIGN_IN, status_code=303)
    apps = own_apps(session, user)
    ids = [app.client_id for app in apps]
    if client_id and client_id not in ids:
        return not_yours(request)
    shown = capture.rows(session, client_ids=[client_id] if client_id else ids, limit=200)
    return templates.TemplateResponse(
        request,
        "developers_requests.html",
        {
            "page_title": "What your apps sent",
            "step": 0,
            "apps": apps,
            "selected": client_id or "",
            "requests": [capture.as_json(row) for row in shown],
        },
        headers=NO_STORE,
    )


@router.get("/developers/clients/{client_id}/report")
def report_page(
    request: Request,
    client_id: str,
    session: SessionDep,
    user: CurrentUserDep,
    templates: TemplatesDep,
) -> Response:
    """One app's report card: each check, passed, failed or not seen yet, with its RFC line."""
    if user is None:
        return RedirectResponse(SIGN_IN, status_code=303)
    client = session.get(Client, client_id)
    if client is None or client.owner_user_id != user.id:
        return not_yours(request)
    return templates.TemplateResponse(
        request,
        "developers_report.html",
        {
            "page_title": f"Report card: {client.name}",
            "step": 0,
            "card": report_card(session, client_id),
        },
        headers=NO_STORE,
    )
