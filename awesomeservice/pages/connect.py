"""'Connect Mockgram': step 1 (show and send the request), steps 4–5 (the callback), disconnect.

The protocol itself is in awesomeservice/oauth_client.py; these routes put it in front of John.
"""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from awesomeservice.backchannel import MockgramUnavailable
from awesomeservice.connections import forget_connection, save_connection
from awesomeservice.db import SessionDep
from awesomeservice.deps import (
    SESSION_BINDING_KEY,
    SESSION_USER_KEY,
    HttpDep,
    SettingsDep,
    TemplatesDep,
    UserDep,
)
from awesomeservice.errors import mockgram_unavailable
from awesomeservice.oauth_client import (
    AUTHORIZATION_ERRORS,
    TOKEN_ERRORS,
    CallbackRefused,
    TokenError,
    check_issuer,
    consume_state,
    exchange_code,
    start_authorization,
)
from shared.csrf import csrf_ok
from shared.flash import push_flash
from shared.forms import text
from shared.hashing import new_token
from shared.web import csrf_refused

router = APIRouter()


@router.post("/connect")
async def connect(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    templates: TemplatesDep,
    user: UserDep,
) -> Response:
    """Step 1: create a fresh state and PKCE pair, and show the request before it is sent."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    binding = request.session.get(SESSION_BINDING_KEY)
    if not binding:
        binding = request.session[SESSION_BINDING_KEY] = new_token(16)
    assert user.id is not None
    auth_request = start_authorization(session, settings, user_id=user.id, browser_binding=binding)
    return templates.TemplateResponse(
        request,
        "connect.html",
        {"page_title": "Connect Mockgram", "auth_request": auth_request, "step": 1},
    )


def _callback_page(
    request: Request,
    *,
    status_code: int,
    title: str,
    message: str,
    step: int,
    rfc: str = "",
    error_code: str = "",
    detail: str = "",
    kind: str = "bad",
) -> Response:
    """The callback's outcome page: what happened, why, and a way to start again."""
    return request.app.state.templates.TemplateResponse(
        request,
        "connect_callback.html",
        {
            "page_title": title,
            "title": title,
            "message": message,
            "rfc": rfc,
            "error_code": error_code,
            "detail": detail,
            "kind": kind,
            "step": step,
        },
        status_code=status_code,
    )


@router.get("/connect/callback")
async def callback(
    request: Request, session: SessionDep, settings: SettingsDep, http: HttpDep
) -> Response:
    """Steps 4 and 5: check state and iss, then redeem the code over the back channel."""
    query = request.query_params
    binding = request.session.get(SESSION_BINDING_KEY)
    user_id = request.session.get(SESSION_USER_KEY)

    # RFC 6749 §4.1.2.1: Mockgram answered with an error instead of a code.
    error = query.get("error")
    if error:
        # Use up the matching state anyway, so this request cannot be answered a second time.
        with contextlib.suppress(CallbackRefused):
            consume_state(
                session, state=query.get("state"), browser_binding=binding, user_id=user_id
            )
        if error == "access_denied":
            return _callback_page(
                request,
                status_code=200,
                title="You chose not to share your photos",
                message="Nothing was shared with AwesomeService. You can connect any time.",
                rfc="RFC 6749 §4.1.2.1",
                error_code="access_denied",
                kind="neutral",
                step=4,
            )
        explanation = AUTHORIZATION_ERRORS.get(error, "Mockgram refused the request.")
        return _callback_page(
            request,
            status_code=400,
            title="Mockgram did not connect",
            message=explanation,
            rfc="RFC 6749 §4.1.2.1",
            error_code=error[:64],
            detail=(query.get("error_description") or "")[:200],
            step=4,
        )

    try:
        # C1: state present, known, bound to this browser, unexpired, unused — and now used.
        pending = consume_state(
            session, state=query.get("state"), browser_binding=binding, user_id=user_id
        )
        # C3: the answer comes from Mockgram itself (RFC 9207 §2.4), before any redemption.
        check_issuer(query.get("iss"), settings.mockgram_url)
    except CallbackRefused as refused:
        return _callback_page(
            request,
            status_code=400,
            title=refused.title,
            message=refused.message,
            rfc=refused.rfc,
            error_code=refused.reason,
            step=4,
        )
    code = query.get("code")
    # RFC 6749 §4.1.2: a successful answer carries a code.
    if not code:
        return _callback_page(
            request,
            status_code=400,
            title="This answer has no code",
            message="Mockgram's answer carried neither a code nor an error. Nothing was stored.",
            rfc="RFC 6749 §4.1.2",
            error_code="code_missing",
            step=4,
        )

    try:
        tokens = await exchange_code(http, settings, code=code, pending=pending)
    except MockgramUnavailable as exc:
        return mockgram_unavailable(request, exc, step=5)
    except TokenError as exc:
        return _callback_page(
            request,
            status_code=502 if exc.error == "invalid_client" else 400,
            title="Mockgram would not trade the code for a token",
            message=TOKEN_ERRORS.get(exc.error, "Mockgram refused the token request."),
            rfc="RFC 6749 §5.2",
            error_code=exc.error[:64],
            detail=exc.description[:200],
            step=5,
        )

    save_connection(session, pending.user_id, tokens)
    push_flash(
        request,
        f"Connected to Mockgram with scope “{tokens.scope}”. The token stays on our server.",
        "ok",
    )
    # C7: a redirect takes the code out of the address bar and the history.
    return RedirectResponse("/photos", status_code=303)


@router.post("/connect/disconnect")
async def disconnect(request: Request, session: SessionDep, user: UserDep) -> Response:
    """Forget the stored tokens (revocation at Mockgram is a separate step)."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    assert user.id is not None
    forget_connection(session, user.id)
    push_flash(
        request,
        "Disconnected: the Mockgram tokens were deleted here. Mockgram still lists "
        "AwesomeService under “Apps with access” until you remove it there.",
        "info",
    )
    return RedirectResponse("/", status_code=303)
