"""The landing page: what the print shop does, the article's six steps, and where you stand."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from awesomeservice.connections import usable_connection
from awesomeservice.db import SessionDep
from awesomeservice.deps import CurrentUserDep, TemplatesDep

router = APIRouter()


@router.get("/")
def home(
    request: Request, session: SessionDep, templates: TemplatesDep, user: CurrentUserDep
) -> Response:
    """Hero, how it works, and the next thing to do for this visitor."""
    connection = usable_connection(session, user.id) if user and user.id else None
    return templates.TemplateResponse(
        request,
        "home.html",
        {"page_title": "Print your Mockgram photos", "user": user, "connection": connection},
    )
