"""Handing one print job to the print lab with a narrower token (RFC 8693 token exchange).

The print lab must read the photos of one order, and nothing else. AwesomeService keeps John's
own token to itself and trades it at Mockgram for a new one: the same person, `photos.read`
only, for the photos API only, naming AwesomeService as the actor (`act`). This page runs the
exchange for real, then lets the "lab" read the order's photos with it, and shows both tokens
decoded side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from awesomeservice.backchannel import MockgramUnavailable, back_channel
from awesomeservice.connections import print_shop_client
from awesomeservice.errors import mockgram_unavailable
from awesomeservice.inspector import jwts
from awesomeservice.mockgram_api import ApiAnswer, try_delete, try_get
from awesomeservice.models import PrintOrder, PrintOrderItem
from awesomeservice.oauth.resource_metadata import photos_api_metadata
from awesomeservice.oauth.token_endpoint import TokenError
from awesomeservice.oauth.token_exchange import exchange, request_form
from awesomeservice.pages.photos import PhotoReaderDep, connection_or_page
from shared.csrf import csrf_ok
from shared.forms import text
from shared.web import csrf_refused, render_error

router = APIRouter()

# All the lab needs: to read the order's photos.
LAB_SCOPE = "photos.read"
RFC = "RFC 8693 §2"
RFC_URL = "https://www.rfc-editor.org/rfc/rfc8693#section-2"


@dataclass(frozen=True)
class Decoded:
    label: str
    header: dict[str, Any]
    claims: dict[str, Any]


def order_and_photo_ids(
    session: Session, user_id: int, order_id: int
) -> tuple[PrintOrder, list[int]] | None:
    """The user's order and the Mockgram photos it prints; None for anyone else's."""
    order = session.get(PrintOrder, order_id) if 0 < order_id < 2**62 else None
    if order is None or order.user_id != user_id:
        return None
    items = session.exec(
        select(PrintOrderItem.photo_id)
        .where(PrintOrderItem.order_id == order.id)
        .order_by(col(PrintOrderItem.id))
    ).all()
    return order, list(dict.fromkeys(items))


@router.post("/orders/{order_id}/print-lab")
async def hand_to_print_lab(order_id: int, request: Request, reader: PhotoReaderDep) -> Response:
    """Exchange John's token for the lab's, then let the lab read the order's photos."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    assert reader.user.id is not None
    found = await reader.database.run(order_and_photo_ids, reader.user.id, order_id)
    if found is None:
        return render_error(
            request,
            status_code=404,
            title="Order not found",
            message="There is no order with this number in your account.",
            back_url="/orders",
            back_label="Your orders",
        )
    order, photo_ids = found
    connection = await connection_or_page(reader)
    if isinstance(connection, Response):
        return connection
    settings, http = reader.settings, reader.http
    try:
        metadata = await reader.discovery.metadata(http, settings.mockgram_url)
        api = await photos_api_metadata(http, issuer=metadata.issuer)
        lab_token = await exchange(
            http,
            reader.events,
            back_channel(metadata.token_endpoint, settings),
            print_shop_client(metadata, settings),
            subject_token=connection.access_token,
            scope=LAB_SCOPE,
            resource=api.resource,
        )
        # The lab at work: each photo of the order, then a delete it must not be allowed.
        reads: list[tuple[str, ApiAnswer]] = [
            (
                f"GET /api/photos/{pid}",
                await try_get(http, lab_token.access_token, f"/api/photos/{pid}"),
            )
            for pid in photo_ids[:10]
        ]
        if photo_ids:
            denied = await try_delete(http, lab_token.access_token, photo_ids[0])
            reads.append((f"DELETE /api/photos/{photo_ids[0]}", denied))
    except MockgramUnavailable as exc:
        return await mockgram_unavailable(request, exc, step=5)
    except TokenError as exc:
        return reader.templates.TemplateResponse(
            request,
            "print_lab.html",
            {
                "page_title": "The print lab's token",
                "order": order,
                "refused": exc,
                "rfc": RFC,
                "rfc_url": RFC_URL,
            },
            status_code=400,
        )
    sent = request_form(
        subject_token="(John's access token)", scope=LAB_SCOPE, resource=api.resource
    )
    tokens = [
        Decoded("John's token (AwesomeService keeps it)", *jwts.parts(connection.access_token)),
        Decoded("The print lab's token", *jwts.parts(lab_token.access_token)),
    ]
    return reader.templates.TemplateResponse(
        request,
        "print_lab.html",
        {
            "page_title": "The print lab's token",
            "order": order,
            "sent": sent,
            "tokens": tokens,
            "reads": reads,
            "scope": lab_token.scope,
            "rfc": RFC,
            "rfc_url": RFC_URL,
        },
    )
