"""AwesomeService's own accounts: sign up, sign in, sign out (not Mockgram's — a separate one)."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from awesomeservice import login_throttle
from awesomeservice.db import SessionDep
from awesomeservice.deps import (
    SESSION_BINDING_KEY,
    SESSION_USER_KEY,
    SESSION_USERNAME_KEY,
    CurrentUserDep,
    DiscoveryDep,
    HttpDep,
    SettingsDep,
    TemplatesDep,
)
from awesomeservice.models import User
from awesomeservice.pages.forms import safe_next
from awesomeservice.pages.provider_logout import sign_out_at_provider
from shared.csrf import csrf_ok
from shared.flash import push_flash
from shared.forms import PageFormDep, text
from shared.hashing import hash_password, new_token, verify_password
from shared.login_throttle import too_many_attempts
from shared.sessions import renew_session
from shared.sign_out import sign_out_everywhere
from shared.web import csrf_refused

router = APIRouter()

_USERNAME = re.compile(r"^[a-z0-9_.-]{3,32}$")
WRONG_CREDENTIALS = "That username and password do not match an AwesomeService account."


def sign_in(request: Request, user: User) -> None:
    """Start a fresh session for `user`: old contents dropped, new binding and CSRF token."""
    # Session fixation: a new session id, and nothing from before the login survives it.
    renew_session(request)
    request.session.clear()
    request.session[SESSION_USER_KEY] = user.id
    request.session[SESSION_USERNAME_KEY] = user.username
    request.session[SESSION_BINDING_KEY] = new_token(16)


@router.get("/login")
def login_page(
    request: Request, templates: TemplatesDep, user: CurrentUserDep, next: str = "/"
) -> Response:
    """The sign-in form (in demo mode it names the demo account)."""
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return templates.TemplateResponse(
        request,
        "accounts_login.html",
        {"page_title": "Sign in", "next": safe_next(next), "username": "", "error": None},
    )


@router.post("/login")
def login(
    request: Request,
    form: PageFormDep,
    session: SessionDep,
    templates: TemplatesDep,
    settings: SettingsDep,
) -> Response:
    """Check the password (argon2) and rotate the session; one message for every failure.

    Synchronous on purpose: the argon2 verification, like the query, runs in a worker thread.
    Wrong passwords meet growing delays (SECURITY.md A6, shared/login_throttle.py), counted
    alike for known and unknown usernames and checked before the password is looked at.
    """
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    username = text(form, "username").strip().lower()[:64]
    password = text(form, "password")[:1024]
    next_path = safe_next(text(form, "next"))
    address = request.client.host if request.client else ""  # shared/proxies.py decides it
    throttle = login_throttle.throttle if settings.login_throttle else None
    if throttle and (wait := throttle.wait_seconds(session, username=username, address=address)):
        response = _login_form(request, templates, next_path, username, too_many_attempts(wait))
        response.status_code = 429
        response.headers["Retry-After"] = str(wait)  # RFC 9110 §10.2.3
        return response
    user = session.exec(select(User).where(User.username == username)).first() if username else None
    # Same message and same work for an unknown user and a wrong password.
    if not verify_password(user.password_hash if user else None, password) or user is None:
        if throttle:
            throttle.record_failure(session, username=username, address=address)
        response = _login_form(request, templates, next_path, username, WRONG_CREDENTIALS)
        response.status_code = 400
        return response
    if throttle:
        throttle.signed_in(session, username=username, address=address)
    sign_in(request, user)
    push_flash(request, f"Welcome back, {user.name}.", "ok")
    return RedirectResponse(next_path, status_code=303)


def _login_form(
    request: Request, templates: TemplatesDep, next_path: str, username: str, error: str
) -> Response:
    return templates.TemplateResponse(
        request,
        "accounts_login.html",
        {"page_title": "Sign in", "next": next_path, "username": username, "error": error},
        headers={"Cache-Control": "no-store"},
    )


@router.get("/signup")
def signup_page(request: Request, templates: TemplatesDep, user: CurrentUserDep) -> Response:
    """The sign-up form."""
    if user is not None:
        return RedirectResponse("/", status_code=303)
    return templates.TemplateResponse(
        request,
        "accounts_signup.html",
        {"page_title": "Create an account", "values": {}, "errors": {}},
    )


@router.post("/signup")
def signup(
    request: Request, form: PageFormDep, session: SessionDep, templates: TemplatesDep
) -> Response:
    """Create an AwesomeService account and sign it in (argon2 hashing off the event loop)."""
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    values = {
        "username": text(form, "username").strip().lower()[:64],
        "name": text(form, "name").strip()[:200],
    }
    password = text(form, "password")
    errors: dict[str, str] = {}
    if not _USERNAME.match(values["username"]):
        errors["username"] = "3 to 32 characters: lower-case letters, digits, '.', '_' or '-'."
    if not values["name"] or len(values["name"]) > 120:
        errors["name"] = "Your name, up to 120 characters (it goes on your parcels)."
    if not 8 <= len(password) <= 256:
        errors["password"] = "At least 8 characters (and at most 256)."
    user: User | None = None
    if not errors:
        user = User(
            username=values["username"],
            name=values["name"],
            password_hash=hash_password(password),
        )
        session.add(user)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            errors["username"] = "That username is taken; pick another."
            user = None
    if errors or user is None:
        return templates.TemplateResponse(
            request,
            "accounts_signup.html",
            {"page_title": "Create an account", "values": values, "errors": errors},
            status_code=400,
        )
    session.refresh(user)
    sign_in(request, user)
    push_flash(request, f"Welcome to AwesomeService, {user.name}.", "ok")
    return RedirectResponse("/", status_code=303)


@router.post("/logout")
async def logout(
    request: Request, settings: SettingsDep, http: HttpDep, discovery: DiscoveryDep
) -> Response:
    """Forget this browser's session (the Mockgram connection stays until disconnected)."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    # A "Log in with Mockgram" session ends at Mockgram too (OIDC RP-Initiated Logout).
    if (at_provider := await sign_out_at_provider(request, settings, http, discovery)) is not None:
        return at_provider
    # The old session's row goes (every copy of its cookie ends); the message rides a new one.
    renew_session(request)
    request.session.clear()
    push_flash(request, "You are signed out of AwesomeService.", "info")
    return RedirectResponse("/", status_code=303)


@router.post("/logout/everywhere")
def logout_everywhere(
    request: Request, form: PageFormDep, session: SessionDep, user: CurrentUserDep
) -> Response:
    """Sign out of every browser at once (CSRF-checked): all of this account's sessions end."""
    user_id = user.id if user is not None else None
    return sign_out_everywhere(request, form, session, user_id, app_name="AwesomeService")
