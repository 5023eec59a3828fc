"""(D) of the device flow — John types the user code on his phone, signs in and answers
(RFC 8628 §3.3; the protocol side is mockgram/oauth/device.py).

- GET /device is the verification URI: a form for the code, prefilled from
  verification_uri_complete's ?user_code= (§3.3.1) — never approved by the link alone.
- POST /device checks the code (CSRF-protected; every try counts against the address's hourly
  limit, MOCKGRAM_USER_CODE_ENTRIES_PER_HOUR, against guessing: §5.1), binds the request to this
  browser (as pending authorization requests are: the binding survives the sign-in) and goes on
  to /device/confirm.
- /device/confirm signs John in first (the usual sign-in page), then asks him with the usual
  consent page: the device, its code, the app and the scope — and the §5.4 warning, "Only
  approve if you started this on a device in front of you". Remembered consent is stored as
  for any app, but never skips this question (remote phishing, mockgram/oauth/device.py).
- Allow or Deny answers the request once; the page says he may return to his device.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlmodel import Session
from starlette.responses import Response

from mockgram import rate_limits
from mockgram.clients import shown_name
from mockgram.db import SessionDep
from mockgram.deps import (
    SESSION_AUTH_TIME_KEY,
    CurrentUserDep,
    Provider,
    ProviderDep,
    SettingsDep,
    TemplatesDep,
)
from mockgram.events import ConsentGiven, DeviceApproved, DeviceDenied
from mockgram.models import Client, DeviceAuthorization, User
from mockgram.oauth import consents, user_codes
from mockgram.oauth.device import decide, open_request, still_open
from mockgram.oauth.pending import SESSION_KEY as PENDING_KEY
from mockgram.oauth.pending import bind_to_session, unbind_from_session
from mockgram.scopes import catalog, describe, normalize_scope
from shared.csrf import csrf_ok
from shared.forms import PageFormDep, text, texts
from shared.web import render_error

router = APIRouter()

USER_CODE_ENTRIES = "user_code_entry"
CONFIRM_PATH = "/device/confirm"
# The browser's binding to a device request rides with its pending authorization requests,
# which a sign-in carries over (mockgram/pages/login.py); the prefix keeps them apart.
BOUND_PREFIX = "device:"


def entry_form(
    request: Request,
    templates: TemplatesDep,
    *,
    user_code: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    """The verification page: one field for the code."""
    return templates.TemplateResponse(
        request,
        "device.html",
        {"page_title": "Connect a device", "user_code": user_code, "error": error},
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/device")
def device_page(request: Request, templates: TemplatesDep) -> Response:
    """§3.3: where John types the code; §3.3.1: prefilled from verification_uri_complete."""
    typed = request.query_params.get("user_code") or ""
    code = user_codes.normalize(typed)
    return entry_form(request, templates, user_code=user_codes.shown(code) if code else "")


@router.post("/device")
def device_submit(
    request: Request,
    form: PageFormDep,
    session: SessionDep,
    settings: SettingsDep,
    templates: TemplatesDep,
) -> Response:
    """Check the typed code (rate-limited, §5.1) and go on to sign-in and the question."""
    typed = text(form, "user_code")
    if not csrf_ok(request, text(form, "csrf_token")):
        return entry_form(
            request,
            templates,
            user_code=typed,
            error="The form's security token was missing or wrong. Please try again.",
            status_code=400,
        )
    # §5.1: a user code is short, so guessing one is slowed down per address.
    limit = rate_limits.Limit(USER_CODE_ENTRIES, settings.user_code_entries_per_hour)
    if wait := rate_limits.take(session, limit, address=rate_limits.client_address(request)):
        response = entry_form(
            request,
            templates,
            user_code=typed,
            error=f"Too many codes typed from this address. Try again in {wait} seconds.",
            status_code=429,
        )
        response.headers["Retry-After"] = str(wait)  # RFC 9110 §10.2.3
        return response
    record = open_request(session, typed)
    if record is None:
        return entry_form(
            request,
            templates,
            user_code=typed,
            error="That code is not valid, was already used, or has expired. Check the code "
            "your device shows now, or start again on the device.",
            status_code=400,
        )
    # The code as John typed it rides along, so the question can show it beside the device's.
    code = user_codes.shown(user_codes.normalize(typed) or "")
    bind_to_session(request, f"{BOUND_PREFIX}{record.device_code_hash}:{code}")
    return RedirectResponse(CONFIRM_PATH, status_code=303)


def bound_request(
    request: Request, session: Session
) -> tuple[DeviceAuthorization, str, str] | None:
    """The newest open device request whose code this browser typed: the request, the
    session's entry for it and the code as typed; or None."""
    for entry in reversed(request.session.get(PENDING_KEY, [])):
        if isinstance(entry, str) and entry.startswith(BOUND_PREFIX):
            device_code_hash, _, code = entry.removeprefix(BOUND_PREFIX).partition(":")
            record = still_open(session, device_code_hash)
            return None if record is None else (record, entry, code)
    return None


def no_longer_valid(request: Request) -> Response:
    """The page for a device request that is gone, answered or expired."""
    return render_error(
        request,
        status_code=400,
        title="This device request is no longer valid",
        message="It was already answered, has expired, or its code was typed in another "
        "browser. Nothing was shared.",
        hint="Start again on the device and type the new code it shows.",
        back_url="/device",
        back_label="Type a code",
        rfc="RFC 8628 §3.3",
    )


@router.get(CONFIRM_PATH)
def confirm_page(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    provider: ProviderDep,
    templates: TemplatesDep,
) -> Response:
    """Sign in first, then the question: which app, on which device, for what."""
    if user is None:
        return RedirectResponse("/login?" + urlencode({"next": CONFIRM_PATH}), status_code=303)
    bound = bound_request(request, session)
    client = session.get(Client, bound[0].client_id) if bound is not None else None
    if bound is None or client is None:
        return no_longer_valid(request)
    record, entry, code = bound
    if provider.settings.non_interactive:
        # Test mode (off by default): John allows everything asked, as on the consent page.
        return answer(
            request, session, provider, templates, (record, entry), user, scope=record.scope
        )
    return templates.TemplateResponse(
        request,
        "consent.html",
        {
            "page_title": f"Allow {shown_name(client)} on your device?",
            "step": None,
            "pending": {"id": record.device_code_hash},
            "client": client,
            "user": user,
            "scopes": describe(record.scope, request.app.state.settings.configured_scopes),
            "redirect_host": "a device (nothing is sent back to a website)",
            "device": {"user_code": code},
            "form_action": CONFIRM_PATH,
        },
        headers={"Cache-Control": "no-store"},
    )


@router.post(CONFIRM_PATH)
def confirm_submit(
    request: Request,
    form: PageFormDep,
    session: SessionDep,
    user: CurrentUserDep,
    provider: ProviderDep,
    templates: TemplatesDep,
) -> Response:
    """Record John's answer once: approved (the device gets its tokens) or denied."""
    if not csrf_ok(request, text(form, "csrf_token")):
        return render_error(
            request,
            status_code=400,
            title="This form expired",
            message="The form's security token was missing or wrong, so nothing was shared.",
            hint="Type the code from your device again.",
            back_url="/device",
            back_label="Type a code",
            rfc="RFC 6749 §10.12",
        )
    if user is None or user.id is None:
        return RedirectResponse("/login?" + urlencode({"next": CONFIRM_PATH}), status_code=303)
    bound = bound_request(request, session)
    if bound is None or text(form, "request_id") != bound[0].device_code_hash:
        return no_longer_valid(request)
    record, entry, _ = bound
    decision = text(form, "decision")
    requested = set(record.scope.split())
    ticked = set(texts(form, "scope"))
    if decision not in ("allow", "deny") or not ticked <= requested:
        return render_error(
            request,
            status_code=400,
            title="Please choose Allow or Deny",
            message="The answer sent was not one this page offers, so nothing was shared.",
            back_url=CONFIRM_PATH,
            back_label="Back to the question",
            rfc="RFC 8628 §3.3",
        )
    known = catalog(provider.settings.configured_scopes)
    ticked |= {name for name in requested if name in known and known[name].required}
    approve = decision == "allow" and bool(ticked)
    scope = normalize_scope(ticked) if approve else None
    return answer(request, session, provider, templates, (record, entry), user, scope=scope)


def answer(
    request: Request,
    session: Session,
    provider: Provider,
    templates: Jinja2Templates,
    bound: tuple[DeviceAuthorization, str],
    user: User,
    *,
    scope: str | None,
) -> Response:
    """Record John's answer once (`scope` None: denied), say so, and send him back to it."""
    record, entry = bound
    assert user.id is not None
    approve = scope is not None
    client = session.get(Client, record.client_id)
    client_name = shown_name(client) if client is not None else record.client_id
    auth_time = request.session.get(SESSION_AUTH_TIME_KEY)
    if not decide(
        session,
        record.device_code_hash,
        approve=approve,
        user_id=user.id,
        scope=scope,
        auth_time_epoch=auth_time if isinstance(auth_time, int) else None,
    ):
        session.rollback()
        return no_longer_valid(request)
    if scope is not None:
        consents.remember(session, user_id=user.id, client_id=record.client_id, scope=scope)
        given = ConsentGiven(user_id=user.id, client_id=record.client_id, scope=scope)
        provider.events.announce(session, given)
        approved = DeviceApproved(user_id=user.id, client_id=record.client_id, scope=scope)
        provider.events.announce(session, approved)
    else:
        provider.events.announce(session, DeviceDenied(user_id=user.id, client_id=record.client_id))
    session.commit()
    unbind_from_session(request, entry)
    titles = [
        info.title.lower() for info in describe(scope or "", provider.settings.configured_scopes)
    ]
    return templates.TemplateResponse(
        request,
        "device_done.html",
        {
            "page_title": "You may return to your device" if approve else "Nothing was shared",
            "approved": approve,
            "client_name": client_name,
            "scope_words": ", ".join(titles) or "use your account",
        },
        headers={"Cache-Control": "no-store"},
    )
