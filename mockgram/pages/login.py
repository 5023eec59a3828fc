"""Step 2 — John signs in to Mockgram (RFC 6749 §3.1: the AS authenticates the resource owner).

He types his password here, on Mockgram, and nowhere else: AwesomeService never sees it.
The form has a CSRF token; an unknown user and a wrong password get the same message, the
same status and (thanks to a dummy argon2 hash) the same time, so nobody can find out who has
an account. After a successful sign-in the session is rotated and John goes on to the consent
page for the pending request, or to a local page from a fixed allowlist — never to a URL
someone else chose (RFC 9700 §4.11; SECURITY.md item 30). OIDC Core §3.1.2.1: prompt=login, an
exceeded max_age or a login_hint naming someone else bring John here even when he is signed
in; login_hint prefills the username. Wrong passwords meet growing delays (SECURITY.md item
34, shared/login_throttle.py), counted alike for known and unknown usernames.

Non-interactive mode (MOCKGRAM_NON_INTERACTIVE, for other projects' tests, off by default):
opening this page signs in the next queued person (mockgram/control/logins.py) or the
configured one at once, without a password, and announces the sign-in like any other.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlmodel import Session, select
from starlette.responses import Response

from mockgram import login_throttle
from mockgram.clients import destination
from mockgram.control.logins import non_interactive_user
from mockgram.db import SessionDep
from mockgram.deps import (
    SESSION_AUTH_TIME_KEY,
    SESSION_USER_KEY,
    CurrentUserDep,
    EventsDep,
    SettingsDep,
    TemplatesDep,
)
from mockgram.events import Events, SignedIn, SignInFailed, SignInsThrottled
from mockgram.models import Client, User
from mockgram.oauth.pending import SESSION_KEY as PENDING_KEY
from mockgram.oauth.pending import (
    is_bound_to_session,
    load_open_request,
    mark_signed_in,
    tells_the_story,
)
from mockgram.settings import MockgramSettings
from shared.clock import epoch_seconds
from shared.csrf import csrf_ok
from shared.forms import PageFormDep, text
from shared.hashing import verify_password
from shared.login_throttle import too_many_attempts
from shared.sessions import renew_session
from shared.sign_out import sign_out_everywhere
from shared.web import render_error

router = APIRouter()

# Where a sign-in may send John back to; anything else goes to the home page.
NEXT_ALLOWLIST = frozenset({"/", "/apps", "/developers"})
NEXT_ALLOWLIST |= {"/device/confirm"}  # RFC 8628 §3.3: a device's question after sign-in
LOGIN_FAILED = "Wrong username or password."


def safe_next(value: object) -> str:
    """A local path from the allowlist, else "/" (no open redirect)."""
    return value if isinstance(value, str) and value in NEXT_ALLOWLIST else "/"


@router.get("/login")
def login_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    templates: TemplatesDep,
    events: EventsDep,
) -> Response:
    """The sign-in form; names the app that is asking when there is a pending request."""
    request_id = request.query_params.get("request_id") or ""
    next_path = request.query_params.get("next")
    if settings.non_interactive:
        # Test mode (off by default): the queued or configured person, without a password.
        user = non_interactive_user(session, settings)
        return signed_in(request, session, events, user, request_id=request_id, next_path=next_path)
    return render_login(
        request, session, templates, settings, request_id=request_id, next_path=next_path
    )


@router.post("/login")
def login_submit(
    request: Request,
    form: PageFormDep,
    session: SessionDep,
    settings: SettingsDep,
    templates: TemplatesDep,
    events: EventsDep,
) -> Response:
    """Check the CSRF token and the password; on success rotate the session and move on.

    Synchronous on purpose: the argon2 verification, like the queries, runs in a worker thread.
    """
    request_id = text(form, "request_id")
    next_path = text(form, "next")
    if not csrf_ok(request, text(form, "csrf_token")):
        return render_error(
            request,
            status_code=400,
            title="This sign-in form expired",
            message="The form's security token was missing or wrong, so nothing was done.",
            hint="Go back, reload the sign-in page and try again.",
            back_url="/login?" + urlencode({"request_id": request_id}) if request_id else "/login",
            back_label="Back to sign in",
            step=2,
        )

    username = text(form, "username").strip()
    password = text(form, "password")
    # SECURITY.md item 34: too many recent failures → wait, before the password is looked at.
    address = request.client.host if request.client else ""
    throttle = settings.login_throttle
    if throttle and (
        wait := login_throttle.wait_seconds(session, username=username, address=address)
    ):
        response = render_login(
            request,
            session,
            templates,
            settings,
            request_id=request_id,
            next_path=next_path,
            username=username,
            error=too_many_attempts(wait),
            status_code=429,
        )
        response.headers["Retry-After"] = str(wait)  # RFC 9110 §10.2.3
        return response
    user = session.exec(select(User).where(User.username == username)).first() if username else None
    # The dummy hash makes an unknown user cost as much as a wrong password.
    if not verify_password(user.password_hash if user else None, password) or user is None:
        events.announce(session, SignInFailed(user_id=user.id if user else None))
        session.commit()
        if throttle:
            login_throttle.record_failure(session, username=username, address=address)
            # From now on this account's tries from there wait: John's activity page says so.
            if user and (
                wait := login_throttle.wait_seconds(session, username=username, address=address)
            ):
                events.announce(session, SignInsThrottled(user_id=user.id, wait_seconds=wait))
                session.commit()
        return render_login(
            request,
            session,
            templates,
            settings,
            request_id=request_id,
            next_path=next_path,
            username=username,
            error=LOGIN_FAILED,
            status_code=401,
        )

    if throttle:
        login_throttle.signed_in(session, username=username, address=address)
    return signed_in(request, session, events, user, request_id=request_id, next_path=next_path)


def signed_in(
    request: Request,
    session: Session,
    events: Events,
    user: User,
    *,
    request_id: str,
    next_path: str | None,
) -> Response:
    """John is who he says: rotate the session, say so, and go on to consent (or back)."""
    # Session rotation: a new id (OWASP: renew at sign-in, against fixation), and nothing but
    # the pending requests this browser started carried over.
    pending = request.session.get(PENDING_KEY, [])
    renew_session(request)
    request.session.clear()
    request.session[PENDING_KEY] = pending
    request.session[SESSION_USER_KEY] = user.id
    request.session["username"] = user.username
    request.session[SESSION_AUTH_TIME_KEY] = epoch_seconds()
    events.announce(session, SignedIn(user_id=user.id))
    session.commit()

    if request_id and is_bound_to_session(request, request_id):
        # prompt=login / max_age / login_hint asked for this sign-in: it has now happened.
        mark_signed_in(session, request_id)
        return RedirectResponse(
            "/consent?" + urlencode({"request_id": request_id}), status_code=303
        )
    return RedirectResponse(safe_next(next_path), status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Sign out (CSRF-checked): the whole session goes."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return render_error(
            request,
            status_code=400,
            title="This sign-out form expired",
            message="The form's security token was missing or wrong, so you are still signed in.",
            hint="Reload the page and try again.",
        )
    request.session.clear()  # an empty session's row is deleted: every copy of the cookie ends
    return RedirectResponse("/", status_code=303)


@router.post("/logout/everywhere")
def logout_everywhere(
    request: Request, form: PageFormDep, session: SessionDep, user: CurrentUserDep
) -> Response:
    """Sign out of every browser at once (CSRF-checked): all of this person's sessions end."""
    user_id = user.id if user is not None else None
    return sign_out_everywhere(request, form, session, user_id, app_name="Mockgram")


def render_login(
    request: Request,
    session: Session,
    templates: Jinja2Templates,
    settings: MockgramSettings,
    *,
    request_id: str,
    next_path: str | None,
    username: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    """The sign-in page, with the asking app's name when the request belongs to this browser."""
    asking: Client | None = None
    asking_destination = ""
    reauthenticate = False
    story = False  # the tour's step 2: only for the article's request (a code, for photos)
    if request_id and is_bound_to_session(request, request_id):
        pending = load_open_request(session, request_id)
        if pending is not None:
            asking = session.get(Client, pending.client_id)
            asking_destination = destination(pending.redirect_uri)
            story = tells_the_story(pending, asking)
            reauthenticate = pending.force_login and SESSION_USER_KEY in request.session
            # OIDC Core §3.1.2.1: login_hint prefills the username; on a re-login, his own.
            signed_in_as = request.session.get("username", "") if reauthenticate else ""
            username = username or pending.login_hint or signed_in_as
    return templates.TemplateResponse(
        request,
        "login.html",
        {
            "page_title": "Sign in",
            # Step 2 of the story only when its request is waiting; else just a sign-in.
            "step": 2 if asking and story else None,
            "request_id": request_id if asking else "",
            "next_path": safe_next(next_path) if next_path else "",
            "asking": asking,
            "asking_destination": asking_destination,
            "reauthenticate": reauthenticate,
            "username": username,
            "error": error,
            "demo_mode": settings.demo,
            "demo_password": settings.demo_password,
        },
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )
