"""'Log in with Mockgram' for people: the button, the callback, and the claims received.

The protocol is in awesomeservice/oauth/ (the request, the callback's checks, the id_token and
userinfo, OIDC Core §3.1), the account it signs in to in awesomeservice/linked_accounts.py;
its step 4 pages are shared with Connect (awesomeservice/pages/authorization_response.py).
These routes say what happened at every turn.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import partial

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from awesomeservice.backchannel import MockgramUnavailable
from awesomeservice.db import DatabaseDep, SessionDep
from awesomeservice.deps import (
    CurrentUserDep,
    DiscoveryDep,
    HttpDep,
    SettingsDep,
    TemplatesDep,
    UserDep,
    browser_binding,
)
from awesomeservice.errors import client_secret_missing, mockgram_unavailable
from awesomeservice.events import BeforeRedirect, Events, EventsDep
from awesomeservice.linked_accounts import account_for_login, last_login
from awesomeservice.models import PendingLogin, User
from awesomeservice.oauth import authorization_request
from awesomeservice.oauth.discovery import Discovery
from awesomeservice.oauth.id_token import IdTokenRejected
from awesomeservice.oauth.oidc_login import LoginRefused, finish_login
from awesomeservice.oauth.token_endpoint import TokenError
from awesomeservice.pages.accounts import sign_in
from awesomeservice.pages.authorization_response import (
    CallbackWords,
    CodeReceived,
    OutcomePage,
    receive_code,
    token_refused_page,
)
from awesomeservice.pages.provider_logout import provider_signed_out, remember_login
from awesomeservice.pages.wording import LOGIN_REFUSALS, LOGIN_STATE
from awesomeservice.settings import AwesomeServiceSettings
from shared.csrf import csrf_ok
from shared.db import Database
from shared.flash import push_flash
from shared.forms import text
from shared.web import csrf_refused

router = APIRouter()

# {provider}: the login provider's name (settings.login_provider), Mockgram by default.
OUTCOMES = {
    "signed_in": "Signed in with {provider}.",
    "linked": "Your {provider} account is now linked: next time “Log in with {provider}” is "
    "enough.",
    "created": "Welcome! We made you an AwesomeService account from your {provider} profile.",
}


async def _start(
    request: Request,
    database: Database,
    settings: AwesomeServiceSettings,
    http: httpx.AsyncClient,
    discovery: Discovery,
    events: Events,
    user_id: int | None,
) -> Response:
    """Discovery, then a fresh state/nonce/PKCE and the redirect to the provider (303)."""
    if not settings.login_client_secret:
        return client_secret_missing(request, variable="AWESOMESERVICE_LOGIN_CLIENT_SECRET")
    try:
        metadata = await discovery.metadata(http, settings.login_issuer)
    except MockgramUnavailable as exc:
        return await mockgram_unavailable(request, exc, step=1)
    sent = await authorization_request.send(
        database,
        events,
        partial(
            authorization_request.login_request,
            settings=settings,
            metadata=metadata,
            browser_binding=browser_binding(request),
            user_id=user_id,
        ),
    )
    if paused := await events.pause(request, BeforeRedirect(sent.url)):
        return paused
    return RedirectResponse(sent.url, status_code=303)


@router.get("/login/mockgram")
async def login_with_mockgram(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    http: HttpDep,
    discovery: DiscoveryDep,
    events: EventsDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
) -> Response:
    """Signed out: straight to the provider. Signed in: a form to link (POST, CSRF-protected)."""
    if user is not None:
        return templates.TemplateResponse(
            request,
            "login_link.html",
            {"page_title": f"Link your {settings.login_provider} account"},
        )
    return await _start(request, database, settings, http, discovery, events, None)


@router.post("/login/mockgram")
async def login_with_mockgram_post(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    http: HttpDep,
    discovery: DiscoveryDep,
    events: EventsDep,
    user: CurrentUserDep,
) -> Response:
    """The button: log in (signed out) or link this account (signed in)."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    user_id = user.id if user else None
    return await _start(request, database, settings, http, discovery, events, user_id)


_LOGIN_WORDS = CallbackWords(
    # No step banner: the banners narrate the Connect story.
    page=OutcomePage(
        "login_callback.html", step_banners=False, headers={"Cache-Control": "no-store"}
    ),
    state=LOGIN_STATE,
    error_rfc="OIDC Core §3.1.2.6",
    denied_title="You chose not to log in with Mockgram",
    denied_message="Nothing was shared and nobody was signed in.",
    error_title="Mockgram did not log you in",
    error_fallback="The provider refused the request.",
    no_code_message="The provider's answer carried neither a code nor an error.",
    no_code_rfc="OIDC Core §3.1.2.5",
    token_title="The provider would not trade the code for tokens",
    token_fallback="The token request was refused.",
)


def _login_words(settings: AwesomeServiceSettings) -> CallbackWords:
    """The callback's words with the login provider's own name (not always Mockgram)."""
    name = settings.login_provider
    if name == "Mockgram":
        return _LOGIN_WORDS
    return replace(
        _LOGIN_WORDS,
        denied_title=f"You chose not to log in with {name}",
        error_title=f"{name} did not log you in",
    )


@router.get("/login/callback")
async def login_callback(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    http: HttpDep,
    discovery: DiscoveryDep,
    events: EventsDep,
) -> Response:
    """The provider's answer: state, iss, code → tokens → id_token → userinfo → account."""
    received = await receive_code(
        request,
        database,
        http,
        events,
        discovery,
        issuer_url=settings.login_issuer,
        model=PendingLogin,
        words=_login_words(settings),
    )
    if isinstance(received, Response):
        return received
    try:
        user, outcome, raw_id_token = await _log_in(
            database, http, events, settings, discovery, received
        )
    except MockgramUnavailable as exc:
        return await mockgram_unavailable(request, exc, step=5)
    except TokenError as exc:
        return await token_refused_page(request, _login_words(settings), exc)
    except (IdTokenRejected, LoginRefused) as exc:
        return await _refused_page(request, exc)
    # A fresh session for the account (no session fixation); the code leaves the address bar.
    sign_in(request, user)
    remember_login(request, raw_id_token)  # for signing out at Mockgram too
    push_flash(request, OUTCOMES[outcome].format(provider=settings.login_provider), "ok")
    return RedirectResponse("/login/mockgram/claims", status_code=303)


async def _log_in(
    database: Database,
    http: httpx.AsyncClient,
    events: Events,
    settings: AwesomeServiceSettings,
    discovery: Discovery,
    received: CodeReceived[PendingLogin],
) -> tuple[User, str, str]:
    """Steps 5–6, then the account the provider's (iss, sub) leads to, its outcome, and the
    raw id_token (kept for the sign-out's id_token_hint)."""
    answer = await finish_login(
        http,
        events,
        settings,
        discovery,
        received.metadata,
        pending=received.pending,
        code=received.code,
    )
    user, outcome = await database.run(
        account_for_login,
        issuer=received.metadata.issuer,
        id_token=answer.id_token,
        userinfo=answer.userinfo,
        user_id=received.pending.user_id,
    )
    return user, outcome, answer.raw_id_token


async def _refused_page(request: Request, exc: IdTokenRejected | LoginRefused) -> Response:
    """Step 5 or the account refused: what was wrong, in words."""
    if isinstance(exc, IdTokenRejected):
        title, message = "The id_token was refused", exc.message
    else:
        title, message = LOGIN_REFUSALS[exc.reason]
        message = message.format(detail=exc.detail)
    return await _LOGIN_WORDS.page.render(
        request,
        status_code=400,
        title=title,
        message=message,
        rfc=exc.rfc,
        error_code=exc.reason,
        step=5,
    )


@router.get("/login/signed-out")
def signed_out(request: Request, state: str = "") -> Response:
    """Back from Mockgram's end_session_endpoint (RP-Initiated Logout §3): say what happened."""
    if provider_signed_out(request, state):
        push_flash(request, "You are signed out of AwesomeService and of Mockgram.", "info")
    else:
        push_flash(
            request,
            "You are signed out of AwesomeService. Mockgram did not confirm that it signed you "
            "out there too (you may have chosen to stay signed in to Mockgram).",
            "info",
        )
    return RedirectResponse("/", status_code=303)


@router.get("/login/mockgram/claims")
def claims_received(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    templates: TemplatesDep,
    user: UserDep,
) -> Response:
    """What the last login received: the id_token's header and claims, and userinfo."""
    assert user.id is not None
    record = last_login(session, user.id)
    context: dict[str, object] = {
        "page_title": f"What {settings.login_provider} told us",
        "record": record,
    }
    if record is not None:
        claims = json.loads(record.id_token_claims)
        context |= {
            "header": json.dumps(json.loads(record.id_token_header), indent=2),
            "claims": json.dumps(claims, indent=2),
            "userinfo": json.dumps(json.loads(record.userinfo), indent=2),
            "claim_rows": sorted(claims.items()),
        }
    return templates.TemplateResponse(
        request, "login_claims.html", context, headers={"Cache-Control": "no-store"}
    )
