"""The in-store print kiosk — the device authorization grant, run for real (RFC 8628).

The kiosk has a screen and no keyboard, so John approves it on his phone. This page is the
kiosk's screen; AwesomeService's server is the kiosk's brain (awesomeservice/oauth/device.py):

- POST /kiosk/start: the server asks Mockgram for codes over the back channel (§3.1) and keeps
  them in a KioskSession row; the browser's session holds only that row's id.
- GET /kiosk: the user code, the verification URI, a QR code of verification_uri_complete
  (§3.3.1), each poll so far and its answer; once approved, John's photos.
- POST /kiosk/poll: the page's script asks every `interval` seconds; the server polls Mockgram
  (§3.4) when the interval has passed — or at once with `now=1`, the "poll too soon" button that
  shows slow_down (§3.5) — and answers in JSON (a plain form post gets the page back).
  The row is read, then the database session is closed, then Mockgram is called with the
  client's timeout, then the answer is written in a new session: no connection is held while
  Mockgram thinks.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import update
from sqlmodel import Session, col

from awesomeservice.backchannel import MockgramUnavailable, back_channel
from awesomeservice.db import DatabaseDep
from awesomeservice.deps import DiscoveryDep, HttpDep, SettingsDep, TemplatesDep
from awesomeservice.errors import mockgram_unavailable
from awesomeservice.events import EventsDep
from awesomeservice.mockgram_api import ApiRefused, TokenRejected, fetch_image, list_photos
from awesomeservice.models import KioskSession
from awesomeservice.oauth import device
from awesomeservice.oauth.discovery import endpoint
from awesomeservice.oauth.token_endpoint import Client, TokenError
from shared.clock import as_utc, utcnow
from shared.csrf import csrf_ok
from shared.db import KEEP_EXPIRED, delete_older_than
from shared.forms import PageFormDep, text
from shared.hashing import new_token
from shared.qr import qr_svg
from shared.web import csrf_refused, render_error

router = APIRouter()

SESSION_KEY = "kiosk_session"
KIOSK_SCOPE = "photos.read"  # the kiosk reads photos to print them; never more
MAX_ANSWERS = 60  # poll answers kept for the page (the newest)
PENDING, APPROVED = "pending", "approved"
UNAVAILABLE = "no answer from Mockgram"
# §3.5's answers that end the flow, and the status the kiosk keeps for each.
FINAL = {"access_denied": "denied", "expired_token": "expired"}


def kiosk_client(settings: SettingsDep) -> Client:
    """The kiosk's own client at Mockgram: public, its client_id alone (RFC 6749 §2.1)."""
    return Client(settings.kiosk_client_id, "", "none")


def load(db: Session, kiosk_id: str | None) -> KioskSession | None:
    return db.get(KioskSession, kiosk_id) if kiosk_id else None


def view(row: KioskSession) -> dict[str, object]:
    """What the page and the script are told about a run: never the device_code or a token."""
    left = max(0, int((as_utc(row.expires_at) - utcnow()).total_seconds()))
    status = "expired" if row.status == PENDING and left == 0 else row.status
    return {
        "status": status,
        "user_code": row.user_code,
        "interval": row.interval,
        "polls": row.polls,
        "answers": [line for line in row.answers.split("\n") if line],
        "expires_in": left,
    }


@router.get("/kiosk")
async def kiosk_page(
    request: Request,
    database: DatabaseDep,
    http: HttpDep,
    templates: TemplatesDep,
) -> Response:
    """The kiosk's screen: start, the code to type and the polls, or the photos."""
    row = await database.run(load, request.session.get(SESSION_KEY))
    context: dict[str, object] = {"page_title": "Print kiosk", "row": None, "photos": None}
    if row is not None:
        context |= {"row": row, "state": view(row)}
        if row.verification_uri_complete:
            # Drawing the code is CPU work: a worker thread, not the event loop.
            draw = partial(qr_svg, row.verification_uri_complete, title="Scan to approve")
            context["qr"] = await anyio.to_thread.run_sync(draw)
        if row.status == APPROVED and row.access_token:
            try:
                context["photos"] = await list_photos(http, row.access_token)
            except (TokenRejected, ApiRefused, MockgramUnavailable):
                context["photos_failed"] = True
    return templates.TemplateResponse(
        request, "kiosk.html", context, headers={"Cache-Control": "no-store"}
    )


@router.post("/kiosk/start")
async def kiosk_start(
    request: Request,
    form: PageFormDep,
    database: DatabaseDep,
    http: HttpDep,
    settings: SettingsDep,
    discovery: DiscoveryDep,
    events: EventsDep,
) -> Response:
    """(A)–(B): ask Mockgram for codes over the back channel; keep them server side."""
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    try:
        metadata = await discovery.metadata(http, settings.mockgram_url)
        url = endpoint(metadata.document, "device_authorization_endpoint", required=False)
        if url is None:
            return render_error(
                request,
                status_code=502,
                title="Mockgram offers no device flow",
                message="Its discovery document names no device_authorization_endpoint.",
                rfc="RFC 8628 §4",
            )
        codes = await device.request_codes(
            http,
            events,
            back_channel(url, settings),
            kiosk_client(settings),
            scope=KIOSK_SCOPE,
        )
    except TokenError as refused:
        return render_error(
            request,
            status_code=502,
            title="Mockgram refused the kiosk",
            message=f"Mockgram answered {refused.error}: {refused.description}",
            error_code=refused.error,
            rfc="RFC 8628 §3.2",
        )
    except MockgramUnavailable as exc:
        return await mockgram_unavailable(request, exc, step=5)
    row = KioskSession(
        id=new_token(16),
        device_code=codes.device_code,
        user_code=codes.user_code,
        verification_uri=codes.verification_uri,
        verification_uri_complete=codes.verification_uri_complete,
        interval=codes.interval,
        expires_at=utcnow() + timedelta(seconds=codes.expires_in),
    )
    await database.run(save, row)
    request.session[SESSION_KEY] = row.id
    return RedirectResponse("/kiosk", status_code=303)


def save(db: Session, row: KioskSession) -> None:
    """Keep the new run; runs whose code expired a day ago go (nobody will come back to them)."""
    delete_older_than(db, KioskSession, col(KioskSession.expires_at), KEEP_EXPIRED)
    db.add(row)


def claim_poll(db: Session, kiosk_id: str, *, force: bool) -> KioskSession | None:
    """The run, if it may poll now: pending, and its interval passed (unless forced). The next
    poll's time is set at once, so two tabs of one kiosk do not both poll (compare-and-set)."""
    row = db.get(KioskSession, kiosk_id)
    now = utcnow()
    if row is None or row.status != PENDING:
        return None
    if not force and row.next_poll_at is not None and as_utc(row.next_poll_at) > now:
        return None
    claimed = db.exec(
        update(KioskSession)  # type: ignore[call-overload]
        .where(col(KioskSession.id) == kiosk_id, col(KioskSession.polls) == row.polls)
        .values(polls=row.polls + 1, next_poll_at=now + timedelta(seconds=row.interval))
        .execution_options(synchronize_session=False)
    ).rowcount
    return row if claimed == 1 else None


def record_answer(db: Session, kiosk_id: str, answer: device.PollAnswer) -> KioskSession | None:
    """Keep what Mockgram answered: the line for the page, the new interval, the token."""
    row = db.get(KioskSession, kiosk_id)
    if row is None:
        return None
    row.interval = device.next_interval(row.interval, answer)
    row.next_poll_at = utcnow() + timedelta(seconds=row.interval)
    line = f"{row.polls}. {answer.answer}"
    if answer.answer == "slow_down":
        line += f" (the interval is now {row.interval} s)"
    row.answers = "\n".join([*row.answers.split("\n"), line][-MAX_ANSWERS:]).strip("\n")
    if answer.answer == UNAVAILABLE:
        return row
    if answer.tokens is not None:
        row.status, row.access_token, row.scope = (
            APPROVED,
            answer.tokens.access_token,
            answer.tokens.scope,
        )
    elif not answer.keep_polling:
        row.status = FINAL.get(answer.answer, "failed")
    db.add(row)
    return row


@router.post("/kiosk/poll")
async def kiosk_poll(
    request: Request,
    form: PageFormDep,
    database: DatabaseDep,
    http: HttpDep,
    settings: SettingsDep,
    discovery: DiscoveryDep,
    events: EventsDep,
) -> Response:
    """(E)–(F): poll Mockgram if it is time (or now, to see slow_down); say what it answered."""
    wants_json = "application/json" in request.headers.get("accept", "")
    if not csrf_ok(request, text(form, "csrf_token")):
        if wants_json:
            return JSONResponse({"error": "csrf"}, status_code=400)
        return csrf_refused(request)
    kiosk_id = request.session.get(SESSION_KEY)
    if not isinstance(kiosk_id, str):
        return JSONResponse({"status": "none"}) if wants_json else RedirectResponse("/kiosk", 303)
    force = text(form, "now") == "1"
    row = await database.run(claim_poll, kiosk_id, force=force)  # the session closes here
    if row is not None:
        try:
            metadata = await discovery.metadata(http, settings.mockgram_url)
            answer = await device.poll(
                http,
                events,
                back_channel(metadata.token_endpoint, settings),
                kiosk_client(settings),
                device_code=row.device_code,
            )
        except MockgramUnavailable as exc:
            # No answer is not an answer: the run stays pending and the next poll tries again.
            answer = device.PollAnswer(UNAVAILABLE, description=exc.detail)
        await database.run(record_answer, kiosk_id, answer)
    current = await database.run(load, kiosk_id)
    if not wants_json:
        return RedirectResponse("/kiosk", status_code=303)
    return JSONResponse(
        view(current) if current is not None else {"status": "none"},
        headers={"Cache-Control": "no-store"},
    )


@router.post("/kiosk/reset")
async def kiosk_reset(request: Request, form: PageFormDep) -> Response:
    """Start over: forget this browser's run (the row expires with its code)."""
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    request.session.pop(SESSION_KEY, None)
    return RedirectResponse("/kiosk", status_code=303)


@router.get("/kiosk/photos/{photo_id}/image")
async def kiosk_image(
    request: Request, photo_id: int, database: DatabaseDep, http: HttpDep
) -> Response:
    """A photo's image through our server: the kiosk's token never reaches the browser."""
    row = await database.run(load, request.session.get(SESSION_KEY))
    if row is None or row.access_token is None:
        return Response(status_code=404)
    try:
        content, content_type = await fetch_image(http, row.access_token, photo_id)
    except (TokenRejected, ApiRefused, MockgramUnavailable):
        return Response(status_code=404)
    return Response(content, media_type=content_type, headers={"Cache-Control": "no-store"})
