"""'Connect Mockgram': step 1 (show and send the request), steps 4–5 (the callback), disconnect.

The protocol is in awesomeservice/oauth/ (the endpoints found by discovery); keeping the
connection — refresh, revocation — in awesomeservice/connections.py; the step 4 checks, shared
with the login, in awesomeservice/pages/authorization_response.py. These routes put it in front
of John, in the words of awesomeservice/pages/wording.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from awesomeservice.backchannel import MockgramUnavailable, back_channel
from awesomeservice.connections import (
    forget_connection,
    get_connection,
    print_shop_client,
    revoke_connection,
    save_connection,
    tokens_to_revoke,
)
from awesomeservice.db import DatabaseDep
from awesomeservice.deps import (
    DiscoveryDep,
    HttpDep,
    SettingsDep,
    TemplatesDep,
    UserDep,
    browser_binding,
)
from awesomeservice.errors import client_secret_missing, mockgram_unavailable
from awesomeservice.events import CONFIRMED_FIELD, BeforeRedirect, BeforeRevocation, EventsDep
from awesomeservice.models import PendingAuthorization
from awesomeservice.oauth import authorization_request, par
from awesomeservice.oauth.id_token import IdTokenRejected
from awesomeservice.oauth.token_endpoint import (
    Revocation,
    TokenError,
    checked_id_token,
    redeem_code,
)
from awesomeservice.pages.authorization_response import (
    CallbackWords,
    OutcomePage,
    receive_code,
    token_refused_page,
)
from awesomeservice.pages.wording import CONNECT_STATE, PARAMETER_MEANINGS
from shared.csrf import csrf_ok
from shared.flash import push_flash
from shared.forms import text
from shared.web import csrf_refused

router = APIRouter()


# The step 1 banner's words when the request was pushed first (RFC 9126).
PAR_BANNER = {
    "banner_happened": "John pressed “Connect Mockgram” with PAR on: AwesomeService's server "
    "pushed the whole request to Mockgram over the back channel, with its secret, and got a "
    "one-time request_uri back (RFC 9126 §2.1–2.2).",
    "banner_next": "His browser GETs the short URL, client_id and request_uri only; Mockgram "
    "looks the pushed request up and asks him to sign in (RFC 9126 §4; step 2).",
}


@dataclass(frozen=True)
class ShownParameter:
    """One parameter of the request, with what it means (the step 1 page's table)."""

    name: str
    value: str
    meaning: str


@router.post("/connect")
async def connect(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    templates: TemplatesDep,
    user: UserDep,
    http: HttpDep,
    discovery: DiscoveryDep,
    events: EventsDep,
) -> Response:
    """Step 1: create a fresh state and PKCE pair, and show the request before it is sent."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    if not settings.client_secret:
        return client_secret_missing(request, variable="AWESOMESERVICE_CLIENT_SECRET")
    try:
        # The authorization endpoint comes from Mockgram's discovery document (C6 checked there).
        metadata = await discovery.metadata(http, settings.mockgram_url)
    except MockgramUnavailable as exc:
        return await mockgram_unavailable(request, exc, step=1)
    assert user.id is not None
    # RFC 9126: the step 1 page's switch, else the setting.
    use_par = text(form, "par") == "on" if text(form, "par") else settings.use_par
    par_url = par.par_endpoint(metadata) if use_par else None
    if use_par and par_url is None:
        return await mockgram_unavailable(
            request,
            MockgramUnavailable("no_par", "Mockgram's metadata names no PAR endpoint."),
            step=1,
        )
    remember = partial(
        authorization_request.connect_request,
        settings=settings,
        user_id=user.id,
        browser_binding=browser_binding(request),
        authorization_endpoint=metadata.authorization_endpoint,
    )
    pushed = None
    if par_url is None:
        auth_request = await authorization_request.send(database, events, remember)
    else:
        try:
            pushed = await par.send_pushed(
                database,
                events,
                remember,
                http=http,
                url=back_channel(par_url, settings),
                client=print_shop_client(metadata, settings),
                authorization_endpoint=metadata.authorization_endpoint,
            )
        except MockgramUnavailable as exc:
            return await mockgram_unavailable(request, exc, step=1)
        except TokenError as exc:
            return await par_refused_page(request, exc)
        auth_request = pushed.full
    browser_url = pushed.short.url if pushed else auth_request.url
    if paused := await events.pause(request, BeforeRedirect(browser_url)):
        return paused
    shown = [
        ShownParameter(n, v, PARAMETER_MEANINGS.get(n, "")) for n, v in auth_request.parameters
    ]
    return templates.TemplateResponse(
        request,
        "connect.html",
        {
            "page_title": "Connect Mockgram",
            "auth_request": {"url": browser_url, "parameters": shown},
            "pushed": pushed,
            "use_par": use_par,
            "step": 1,
            **(PAR_BANNER if pushed else {}),
        },
    )


_CONNECT_WORDS = CallbackWords(
    page=OutcomePage("connect_callback.html", step_banners=True),
    state=CONNECT_STATE,
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


async def par_refused_page(request: Request, exc: TokenError) -> Response:
    """Step 1 pushed and refused (RFC 9126 §2.3): Mockgram's error, and nothing sent."""
    return await _CONNECT_WORDS.page.render(
        request,
        # invalid_client is our fault (a wrong secret), not John's: a bad gateway, not a 400.
        status_code=502 if exc.error == "invalid_client" else 400,
        title="Mockgram refused our pushed request",
        message="AwesomeService pushed its authorization request to Mockgram first (PAR), and "
        "Mockgram refused it, so your browser was not sent anywhere.",
        rfc="RFC 9126 §2.3",
        error_code=exc.error[:64],
        detail=exc.description[:200],
        step=1,
    )


@router.get("/connect/callback")
async def callback(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    http: HttpDep,
    discovery: DiscoveryDep,
    events: EventsDep,
) -> Response:
    """Steps 4 and 5: check state and iss, then redeem the code over the back channel."""
    received = await receive_code(
        request,
        database,
        http,
        events,
        discovery,
        issuer_url=settings.mockgram_url,
        model=PendingAuthorization,
        words=_CONNECT_WORDS,
    )
    if isinstance(received, Response):
        return received
    pending, metadata = received.pending, received.metadata
    try:
        tokens = await redeem_code(
            http,
            events,
            back_channel(metadata.token_endpoint, settings),
            # RFC 9449 §5: with AWESOMESERVICE_USE_DPOP the token is bound to our key.
            print_shop_client(metadata, settings, request.app.state.dpop_key),
            code=received.code,
            redirect_uri=pending.redirect_uri,
            code_verifier=pending.code_verifier,
            requested_scope=pending.scope,
        )
        # Only when the scope asked for openid: remember whose tokens these are (C9 on refresh).
        checked = await checked_id_token(
            http,
            events,
            discovery,
            metadata,
            client_id=settings.client_id,
            tokens=tokens,
            nonce=None,  # Connect sends none
        )
    except MockgramUnavailable as exc:
        return await mockgram_unavailable(request, exc, step=5)
    except TokenError as exc:
        return await token_refused_page(request, _CONNECT_WORDS, exc)
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
    subject = checked.sub if checked else None
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
    events: EventsDep,
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

    async def revocation_endpoint() -> str:
        """Where the revocations go, for the step-through page only."""
        try:
            metadata = await discovery.metadata(http, settings.mockgram_url)
        except MockgramUnavailable:
            return "(Mockgram's revocation endpoint: its metadata did not answer)"
        return back_channel(metadata.revocation_endpoint or "", settings) or "(none advertised)"

    pause = BeforeRevocation(
        tuple(tokens_to_revoke(connection)),
        revocation_endpoint,
        confirmed=text(form, CONFIRMED_FIELD),
    )
    if paused := await events.pause(request, pause):
        return paused
    results = await revoke_connection(http, events, settings, discovery, connection)
    await database.run(forget_connection, user.id)
    message, kind = disconnect_message(results)
    push_flash(request, message, kind)
    return RedirectResponse("/", status_code=303)
