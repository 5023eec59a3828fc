"""John's activity page: what happened to his account, as Mockgram saw it (its side of the
flow inspector): sign-ins, consents, codes issued and redeemed, tokens, refused attempts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import col, select

from mockgram import activity
from mockgram.db import SessionDep
from mockgram.deps import CurrentUserDep, TemplatesDep
from mockgram.models import Client
from mockgram.pages.home import see_other
from shared.clock import as_utc

router = APIRouter(tags=["John's pages"])


@router.get("/me/activity", include_in_schema=False)
def activity_page(
    request: Request, session: SessionDep, user: CurrentUserDep, templates: TemplatesDep
) -> Response:
    """The signed-in person's latest account events, newest first."""
    if user is None or user.id is None:
        return see_other("/login")
    events = activity.recent(session, user.id)
    client_ids = {event.client_id for event in events if event.client_id}
    names = (
        {
            client.client_id: client.name
            for client in session.exec(
                select(Client).where(col(Client.client_id).in_(client_ids))
            ).all()
        }
        if client_ids
        else {}
    )
    rows = [
        {
            "event": event,
            "title": activity.TITLES.get(event.kind, event.kind),
            "app": names.get(event.client_id or "", event.client_id or ""),
            "at": as_utc(event.at),
        }
        for event in events
    ]
    return templates.TemplateResponse(
        request,
        "activity.html",
        {"page_title": "Your activity", "rows": rows},
        headers={"Cache-Control": "no-store"},
    )
