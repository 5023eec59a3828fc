"""'Connect Mockgram': step 1 (show and send the request), steps 4–5 (the callback), disconnect.

The protocol itself is in awesomeservice/oauth_client.py (the endpoints found by discovery,
awesomeservice/discovery.py) and awesomeservice/token_lifecycle.py (refresh, revocation); the
step 4 checks, shared with the login, in awesomeservice/pages/authorization_response.py.
These routes put it in front of John.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from awesomeservice.backchannel import MockgramUnavailable
from awesomeservice.connections import forget_connection, get_connection, save_connection
from awesomeservice.db import DatabaseDep
from awesomeservice.deps import (
    DiscoveryDep,
    HttpDep,
    SettingsDep,
    TemplatesDep,
    UserDep,
    browser_binding,
)
from awesomeservice.discovery import back_channel
from awesomeservice.errors import mockgram_unavailable
from awesomeservice.id_token import IdTokenRejected
from awesomeservice.inspector import recorder as inspector  # issue 4
from awesomeservice.inspector import stepping  # issue 4: step-through mode
from awesomeservice.lab.switches import defence_off  # lab mode only, one shot
from awesomeservice.models import MockgramConnection
from awesomeservice.oauth_client import (
    TokenError,
    consume_state,
    exchange_code,
    start_authorization,
    validate_connect_id_token,
)
from awesomeservice.pages.authorization_response import (
    CallbackWords,
    OutcomePage,
    receive_code,
    token_refused_page,
)
from awesomeservice.token_lifecycle import Revocation, revoke
from shared.csrf import csrf_ok
from shared.db import Database
from shared.flash import push_flash
from shared.forms import text
from shared.web import csrf_refused

router = APIRouter()


@router.post("/connect")
async def connect(
    request: Request,
    database: DatabaseDep,
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
        return await mockgram_unavailable(request, exc, step=1)
    assert user.id is not None
    auth_request = await database.run(
        start_authorization,
        settings,
        user_id=user.id,
        browser_binding=browser_binding(request),
        authorization_endpoint=metadata.authorization_endpoint,
    )
    await inspector.record_authorization_request(auth_request.url)  # the flow inspector, step 1
    if paused := await stepping.pause_before_redirect(request, database, auth_request.url):
        return paused
    return templates.TemplateResponse(
        request,
        "connect.html",
        {"page_title": "Connect Mockgram", "auth_request": auth_request, "step": 1},
    )


_CONNECT_WORDS = CallbackWords(
    page=OutcomePage("connect_callback.html", step_banners=True),
    error_rfc="RFC 6749 §4.1.2.1",
    denied_title="You chose not to share your photos",
    denied_message="Nothing was shared with AwesomeService. You can connect any time.",
    error_title="Mockgram did not connect",
    error_fallback="Mockgram refused the request.",
    no_code_message="Mockgram's answer carried neither a code nor an error. Nothing was stored.",
    no_code_rfc="RFC 6749 §4.1.2",
    token_title="Mockgram would not trade the code for a token",
    token_fallback="Mockgram refused the token request.",
)


@router.get("/connect/callback")
async def callback(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    http: HttpDep,
    discovery: DiscoveryDep,
) -> Response:
    """Steps 4 and 5: check state and iss, then redeem the code over the back channel."""

    async def iss_check_off(binding: str | None) -> bool:
        """Lab mode only: a one-shot switch that skips C3 for the iss attack."""
        return await database.run(defence_off, settings, defence="iss", browser_binding=binding)

    received = await receive_code(
        request,
        database,
        http,
        discovery,
        issuer_url=settings.mockgram_url,
        consume=consume_state,
        words=_CONNECT_WORDS,
        iss_check_off=iss_check_off,
    )
    if isinstance(received, Response):
        return received
    pending, metadata = received.pending, received.metadata

    try:
        tokens = await exchange_code(
            http,
            settings,
            code=received.code,
            pending=pending,
            token_endpoint=metadata.token_endpoint,
        )
    except MockgramUnavailable as exc:
        return await mockgram_unavailable(request, exc, step=5)
    except TokenError as exc:
        return await token_refused_page(request, _CONNECT_WORDS, exc)

    subject = None
    if tokens.id_token is not None:
        # Only when the scope asked for openid: remember whose tokens these are (C9 on refresh).
        try:
            checked = await validate_connect_id_token(http, settings, discovery, metadata, tokens)
        except MockgramUnavailable as exc:
            return await mockgram_unavailable(request, exc, step=5)
        except IdTokenRejected as exc:
            return await _CONNECT_WORDS.page.render(
                request,
                status_code=400,
                title="Mockgram's id_token was refused",
                message=exc.message,
                rfc=exc.rfc,
                error_code=exc.reason,
                step=5,
            )
        subject = checked.sub
    await database.run(save_connection, pending.user_id, tokens, subject=subject)
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


async def _pause_before_revoking(
    request: Request, database: Database, form: FormData, connection: MockgramConnection
) -> Response | None:
    """Step-through: the RFC 7009 revocations "Disconnect Mockgram" is about to send."""
    if not await database.run(stepping.active):
        return None
    settings = request.app.state.settings
    try:
        metadata = await request.app.state.discovery.metadata(
            request.app.state.http, settings.mockgram_url
        )
        endpoint = back_channel(metadata.revocation_endpoint or "", settings) or "(none advertised)"
    except MockgramUnavailable:
        endpoint = "(Mockgram's revocation endpoint: its metadata did not answer)"
    call = [("Request", f"POST {endpoint}, once per token")]
    for hint, token in (
        ("refresh_token", connection.refresh_token),
        ("access_token", connection.access_token),
    ):
        if token:
            call.append((hint, f"token={stepping.shortened(token)}, token_type_hint={hint}"))
    call += [
        ("client authentication", "AwesomeService's client_id and secret (never shown)"),
        ("Defined in", "RFC 7009 §2.1; revoking the refresh token ends the whole grant"),
    ]
    return await stepping.pause_before_post(
        request,
        database,
        {stepping.CONFIRMED_FIELD: text(form, stepping.CONFIRMED_FIELD)},
        kind="revoke",
        call=call,
    )


@router.get("/connect")
async def connect_reloaded(request: Request) -> Response:
    """Step 1's page is the answer to a button (a POST, with a fresh state each time): reloaded
    or bookmarked, it sends John back to the button rather than to a bare 405."""
    push_flash(
        request,
        "That page is made fresh each time you press “Connect Mockgram” (with a new state), "
        "so it cannot be reloaded or bookmarked. Press the button again.",
        "info",
    )
    return RedirectResponse("/", status_code=303)


@router.post("/connect/disconnect")
async def disconnect(
    request: Request,
    database: DatabaseDep,
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
    connection = await database.run(get_connection, user.id)
    if connection is None:
        push_flash(request, "There was no Mockgram connection to disconnect.", "info")
        return RedirectResponse("/", status_code=303)
    if paused := await _pause_before_revoking(request, database, form, connection):
        return paused
    results = await revoke(http, settings, discovery, connection)
    await database.run(forget_connection, user.id)
    message, kind = disconnect_message(results)
    push_flash(request, message, kind)
    return RedirectResponse("/", status_code=303)
