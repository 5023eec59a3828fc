"""Step 6 — John's Mockgram photos, read with the access token; and the refused delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from awesomeservice.backchannel import MockgramUnavailable, back_channel
from awesomeservice.connections import (
    RefreshBusy,
    RefreshFailed,
    forget_connection,
    fresh_connection,
    get_connection,
    needs_refresh,
)
from awesomeservice.db import DatabaseDep
from awesomeservice.deps import (
    CurrentUserDep,
    DiscoveryDep,
    HttpDep,
    SettingsDep,
    TemplatesDep,
    UserDep,
)
from awesomeservice.errors import mockgram_unavailable
from awesomeservice.events import Events, EventsDep
from awesomeservice.inspector import stepping
from awesomeservice.mockgram_api import (
    ApiRefused,
    Photo,
    TokenRejected,
    fetch_image,
    list_photos,
    try_delete,
)
from awesomeservice.models import MockgramConnection, User
from awesomeservice.oauth.discovery import Discovery
from awesomeservice.oauth.dpop import DpopSender
from awesomeservice.settings import AwesomeServiceSettings
from shared.csrf import csrf_ok
from shared.db import Database
from shared.etags import etag_of, none_match
from shared.forms import text
from shared.web import csrf_refused, render_error

router = APIRouter()


@dataclass(frozen=True)
class PhotoReader:
    """What reading the signed-in user's Mockgram photos takes, for one request."""

    request: Request
    database: Database
    http: httpx.AsyncClient
    settings: AwesomeServiceSettings
    discovery: Discovery
    events: Events
    templates: Jinja2Templates
    user: User


def photo_reader(
    request: Request,
    database: DatabaseDep,
    http: HttpDep,
    settings: SettingsDep,
    discovery: DiscoveryDep,
    events: EventsDep,
    templates: TemplatesDep,
    user: UserDep,
) -> PhotoReader:
    """The signed-in user's reader; anyone else is sent to the sign-in page."""
    return PhotoReader(request, database, http, settings, discovery, events, templates, user)


PhotoReaderDep = Annotated[PhotoReader, Depends(photo_reader)]


def connect_needed(
    reader: PhotoReader, *, revoked: bool = False, refresh_failed: RefreshFailed | None = None
) -> Response:
    """Explain that AwesomeService has no usable token, and offer to connect."""
    return reader.templates.TemplateResponse(
        reader.request,
        "photos_connect.html",
        {"page_title": "Connect Mockgram", "revoked": revoked, "refresh_failed": refresh_failed},
        status_code=401 if revoked or refresh_failed else 200,
    )


def refresh_busy(request: Request) -> Response:
    """Another request of this user is renewing the token right now."""
    response = render_error(
        request,
        status_code=503,
        title="Your Mockgram access is being renewed",
        message="Another page of yours is renewing AwesomeService's token at this moment.",
        hint="Reload the page in a second.",
        error_code="refresh_in_progress",
        rfc="RFC 6749 §6",
    )
    response.headers["Retry-After"] = "1"
    return response


def api_dpop(
    request: Request, settings: AwesomeServiceSettings, connection: MockgramConnection
) -> DpopSender | None:
    """RFC 9449 §7.1: a DPoP-bound token is sent with a proof by our key; a Bearer one without."""
    key = request.app.state.dpop_key
    if connection.token_type != "DPoP" or key is None:
        return None
    return DpopSender(key, settings.mockgram_url)


async def connection_or_page(reader: PhotoReader) -> MockgramConnection | Response:
    """The user's connection with a live access token (refreshed when expired), or the page
    that says why there is none."""
    assert reader.user.id is not None
    try:
        connection = await fresh_connection(
            reader.database,
            reader.http,
            reader.settings,
            reader.discovery,
            reader.user.id,
            events=reader.events,
            dpop_key=reader.request.app.state.dpop_key,
        )
    except RefreshFailed as exc:
        return connect_needed(reader, refresh_failed=exc)
    except RefreshBusy:
        return refresh_busy(reader.request)
    except MockgramUnavailable as exc:
        return await mockgram_unavailable(reader.request, exc, step=6)
    return connection if connection is not None else connect_needed(reader)


async def token_rejected(reader: PhotoReader) -> Response:
    """401 invalid_token from Mockgram: the stored token is useless, so forget it."""
    assert reader.user.id is not None
    await reader.database.run(forget_connection, reader.user.id)
    return connect_needed(reader, revoked=True)


def api_refused(request: Request, exc: ApiRefused) -> Response:
    """Any other refusal of the photos API, shown as it came."""
    answer = exc.answer
    return render_error(
        request,
        status_code=404 if answer.status_code == 404 else 502,
        title="Mockgram refused",
        message=f"Mockgram answered {answer.status_code} {answer.error or ''}.",
        detail=answer.error_description or "",
        error_code=answer.error or "api_error",
        step=6,
    )


async def pause_before_refresh(reader: PhotoReader) -> Response | None:
    """Step-through: the expired access token is about to be refreshed (RFC 6749 §6)."""
    assert reader.user.id is not None
    if not await reader.database.run(stepping.active):
        return None  # the usual case: no extra reads on the photo grid's way
    connection = await reader.database.run(get_connection, reader.user.id)
    if connection is None or not needs_refresh(connection):
        return None
    settings = reader.settings
    try:
        metadata = await reader.discovery.metadata(reader.http, settings.mockgram_url)
    except MockgramUnavailable:
        return None  # the refresh itself will meet the same problem and say so
    assert connection.refresh_token is not None
    return await stepping.pause_before_refresh(
        reader.request,
        reader.database,
        token_url=back_channel(metadata.token_endpoint, settings),
        refresh_token=connection.refresh_token,
    )


async def fetch_photos(
    reader: PhotoReader, *, pause_here: bool = False
) -> tuple[MockgramConnection, list[Photo]] | Response:
    """Step 6: the user's Mockgram photos and the connection that read them, or the page
    that explains why they are not available (not connected, revoked, refused, unreachable).

    `pause_here`: the photo grid, where step-through mode pauses before a refresh and before
    the API call."""
    if pause_here and (paused := await pause_before_refresh(reader)):
        return paused
    connection = await connection_or_page(reader)
    if isinstance(connection, Response):
        return connection
    if pause_here and (
        paused := await stepping.pause_before_api_call(
            reader.request,
            reader.database,
            method="GET",
            api_url=f"{str(reader.http.base_url).rstrip('/')}/api/photos",
            access_token=connection.access_token,
        )
    ):
        return paused
    try:
        dpop = api_dpop(reader.request, reader.settings, connection)
        return connection, await list_photos(reader.http, connection.access_token, dpop)
    except TokenRejected:
        return await token_rejected(reader)
    except ApiRefused as exc:
        return api_refused(reader.request, exc)
    except MockgramUnavailable as exc:
        return await mockgram_unavailable(reader.request, exc, step=6)


@router.get("/photos")
async def photos(request: Request, reader: PhotoReaderDep) -> Response:
    """The photo grid, fetched from Mockgram's API with the bearer token."""
    fetched = await fetch_photos(reader, pause_here=True)
    if isinstance(fetched, Response):
        return fetched
    connection, items = fetched
    return reader.templates.TemplateResponse(
        request,
        "photos.html",
        {
            "page_title": "Your Mockgram photos",
            "photos": items,
            "connection": connection,
            "step": 6,
        },
    )


@router.get("/photos/{photo_id}/image")
async def photo_image(
    photo_id: int,
    request: Request,
    database: DatabaseDep,
    http: HttpDep,
    settings: SettingsDep,
    discovery: DiscoveryDep,
    events: EventsDep,
    user: CurrentUserDep,
) -> Response:
    """Proxy one image, so the browser never holds (or needs) the token."""
    if user is None or user.id is None:
        return Response(status_code=401)
    try:
        connection = await fresh_connection(
            database,
            http,
            settings,
            discovery,
            user.id,
            events=events,
            dpop_key=request.app.state.dpop_key,
        )
    except RefreshFailed:
        return Response(status_code=401)
    except RefreshBusy:
        return Response(status_code=503, headers={"Retry-After": "1"})
    except MockgramUnavailable as exc:
        return Response(status_code=504 if exc.kind == "timeout" else 502)
    if connection is None:
        return Response(status_code=404)
    try:
        dpop = api_dpop(request, settings, connection)
        content, content_type = await fetch_image(http, connection.access_token, photo_id, dpop)
    except TokenRejected:
        await database.run(forget_connection, user.id)
        return Response(status_code=401)
    except ApiRefused as exc:
        return Response(status_code=404 if exc.answer.status_code == 404 else 502)
    except MockgramUnavailable as exc:
        return Response(status_code=504 if exc.kind == "timeout" else 502)
    # The grid's twelve images: cached by this browser for five minutes, then revalidated with
    # their ETag (304, no bytes) — still through the token check above, so a revoked connection
    # stops them (RFC 9111 §5.2.2, RFC 9110 §13.1.2).
    etag = etag_of(content)
    headers = {"Cache-Control": "private, max-age=300", "ETag": etag}
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=content_type, headers=headers)


@router.get("/photos/{photo_id}/try-delete")
def photo_try_delete_reloaded(photo_id: int) -> Response:
    """A reload or bookmark of the delete's answer: back to the grid, where the button is."""
    return RedirectResponse("/photos", status_code=303)


@router.post("/photos/{photo_id}/try-delete")
async def photo_try_delete(photo_id: int, request: Request, reader: PhotoReaderDep) -> Response:
    """Ask Mockgram to delete a photo with the read-only token, and show its answer."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    connection = await connection_or_page(reader)
    if isinstance(connection, Response):
        return connection
    try:
        dpop = api_dpop(reader.request, reader.settings, connection)
        answer = await try_delete(reader.http, connection.access_token, photo_id, dpop)
    except MockgramUnavailable as exc:
        return await mockgram_unavailable(request, exc, step=6)
    if answer.status_code == 401:
        return await token_rejected(reader)
    return reader.templates.TemplateResponse(
        request,
        "photos_try_delete.html",
        {
            "page_title": "Mockgram's answer to a delete",
            "answer": answer,
            "photo_id": photo_id,
            "connection": connection,
            "step": 6,
            # The banner's usual story ("a code came back, then the photos"; "next: try a
            # delete") is behind John: what just happened is the delete, refused.
            "banner_happened": "John pressed Try to delete: the print shop sent Mockgram's photos "
            "API a DELETE with its token, and Mockgram answered (below).",
            "banner_next": "That was the story's point: the print shop can read John's photos "
            "and cannot delete one. Back to the photos to order prints.",
        },
    )
