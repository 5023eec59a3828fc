"""'Connect Mockgram': step 1 (show and send the request), steps 4–5 (the callback), disconnect.

The protocol itself is in awesomeservice/oauth_client.py (the endpoints found by discovery,
awesomeservice/discovery.py) and awesomeservice/token_lifecycle.py (refresh, revocation);
these routes put it in front of John.
"""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from awesomeservice.backchannel import MockgramUnavailable
from awesomeservice.connections import forget_connection, get_connection, save_connection
from awesomeservice.db import SessionDep
from awesomeservice.deps import (
    SESSION_BINDING_KEY,
    SESSION_USER_KEY,
    DiscoveryDep,
    HttpDep,
    SettingsDep,
    TemplatesDep,
    UserDep,
)
from awesomeservice.errors import mockgram_unavailable
from awesomeservice.id_token import IdTokenRejected, validate_id_token
from awesomeservice.inspector import recorder as inspector  # issue 4
from awesomeservice.inspector import stepping  # issue 4: step-through mode
from awesomeservice.lab.switches import defence_off  # lab mode only, one shot
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
from awesomeservice.token_lifecycle import Revocation, revoke
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
    http: HttpDep,
    discovery: DiscoveryDep,
) -> Response:
    """Step 1: create a fresh state and PKCE pair, and show the request before it is sent."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    try:
        # The authorization endpoint comes from Mockgram's discovery document (C6 checked there).
        metadata = await discovery.metadata(http, settings.mockgram_url)
    except MockgramUnavailable as exc:
        return mockgram_unavailable(request, exc, step=1)
    binding = request.session.get(SESSION_BINDING_KEY)
    if not binding:
        binding = request.session[SESSION_BINDING_KEY] = new_token(16)
    assert user.id is not None
    auth_request = start_authorization(
        session,
        settings,
        user_id=user.id,
        browser_binding=binding,
        authorization_endpoint=metadata.authorization_endpoint,
    )
    inspector.record_authorization_request(auth_request.url)  # the flow inspector, step 1
    if paused := stepping.pause_before_redirect(request, session, auth_request.url):
        return paused
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
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    http: HttpDep,
    discovery: DiscoveryDep,
) -> Response:
    """Steps 4 and 5: check state and iss, then redeem the code over the back channel."""
    inspector.record_callback(str(request.url))  # the flow inspector, step 4
    if paused := stepping.pause_before_exchange(request, session):
        return paused
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
        metadata = await discovery.metadata(http, settings.mockgram_url)
    except MockgramUnavailable as exc:
        return mockgram_unavailable(request, exc, step=4)
    try:
        # C1: state present, known, bound to this browser, unexpired, unused — and now used.
        pending = consume_state(
            session, state=query.get("state"), browser_binding=binding, user_id=user_id
        )
        # C3: the answer comes from Mockgram itself (RFC 9207 §2.4), before any redemption.
        if not defence_off(session, settings, defence="iss", browser_binding=binding):  # lab
            check_issuer(
                query.get("iss"),
                metadata.issuer,
                required=metadata.authorization_response_iss_parameter_supported,
            )
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
        tokens = await exchange_code(
            http, settings, code=code, pending=pending, token_endpoint=metadata.token_endpoint
        )
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

    subject = None
    if tokens.id_token is not None:
        # Only when the scope asked for openid: remember whose tokens these are (C9 on refresh).
        try:
            checked = await validate_id_token(
                tokens.id_token,
                http=http,
                discovery=discovery,
                metadata=metadata,
                client_id=settings.client_id,
                nonce=None,
                access_token=tokens.access_token,
            )
        except MockgramUnavailable as exc:
            return mockgram_unavailable(request, exc, step=5)
        except IdTokenRejected as exc:
            return _callback_page(
                request,
                status_code=400,
                title="Mockgram's id_token was refused",
                message=exc.message,
                rfc=exc.rfc,
                error_code=exc.reason,
                step=5,
            )
        subject = checked.sub
    save_connection(session, pending.user_id, tokens, subject=subject)
    push_flash(
        request,
        f"Connected to Mockgram with scope “{tokens.scope}”. The token stays on our server.",
        "ok",
    )
    # C7: a redirect takes the code out of the address bar and the history.
    return RedirectResponse("/photos", status_code=303)


_REVOCATION_WORDS = {"refresh_token": "refresh token", "access_token": "access token"}


def disconnect_message(results: list[Revocation]) -> tuple[str, str]:
    """One sentence per outcome, for the flash after "Disconnect Mockgram"."""
    revoked = [_REVOCATION_WORDS[r.token_type_hint] for r in results if r.outcome == "revoked"]
    if results and len(revoked) == len(results):
        return (
            f"Disconnected: Mockgram revoked the {' and the '.join(revoked)} (RFC 7009), "
            "and the tokens were deleted here.",
            "ok",
        )
    if any(r.outcome == "unreachable" for r in results):
        return (
            "Mockgram could not be reached, so nothing was revoked there; the tokens were "
            "deleted here anyway. To be sure, remove AwesomeService under “Apps with access” "
            "on Mockgram.",
            "error",
        )
    if any(r.outcome == "unsupported" for r in results):
        return (
            "Mockgram offers no revocation endpoint, so the tokens were only deleted here. "
            "Remove AwesomeService under “Apps with access” on Mockgram to end its access.",
            "info",
        )
    details = ", ".join(f"{_REVOCATION_WORDS[r.token_type_hint]}: {r.detail}" for r in results)
    return (
        f"Mockgram did not confirm the revocation ({details}); the tokens were deleted here. "
        "Remove AwesomeService under “Apps with access” on Mockgram to be sure.",
        "error",
    )


@router.post("/connect/disconnect")
async def disconnect(
    request: Request,
    session: SessionDep,
    user: UserDep,
    settings: SettingsDep,
    http: HttpDep,
    discovery: DiscoveryDep,
) -> Response:
    """Revoke the tokens at Mockgram (RFC 7009), then forget them here whatever it answered."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    assert user.id is not None
    connection = get_connection(session, user.id)
    if connection is None:
        push_flash(request, "There was no Mockgram connection to disconnect.", "info")
        return RedirectResponse("/", status_code=303)
    results = await revoke(http, settings, discovery, connection)
    forget_connection(session, user.id)
    message, kind = disconnect_message(results)
    push_flash(request, message, kind)
    return RedirectResponse("/", status_code=303)
