"""'Log in with Mockgram' for people: the button, the callback, and the claims received.

The protocol is in awesomeservice/oidc_login.py (OIDC Core §3.1) and awesomeservice/id_token.py
(§3.1.3.7), its step 4 checks in awesomeservice/pages/authorization_response.py (shared with
Connect); these routes say what happened at every turn.
"""

from __future__ import annotations

import json

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
from awesomeservice.discovery import Discovery
from awesomeservice.errors import mockgram_unavailable
from awesomeservice.id_token import IdTokenRejected
from awesomeservice.inspector import recorder as inspector  # issue 4
from awesomeservice.inspector import stepping  # issue 4: step-through mode
from awesomeservice.oauth_client import (
    TokenError,
)
from awesomeservice.oidc_login import (
    LoginRefused,
    consume_login_state,
    finish_login,
    last_login,
    start_login,
)
from awesomeservice.pages.accounts import sign_in
from awesomeservice.pages.authorization_response import (
    CallbackWords,
    OutcomePage,
    receive_code,
    token_refused_page,
)
from awesomeservice.settings import AwesomeServiceSettings
from shared.csrf import csrf_ok
from shared.db import Database
from shared.flash import push_flash
from shared.forms import text
from shared.web import csrf_refused

router = APIRouter()

OUTCOMES = {
    "signed_in": "Signed in with Mockgram.",
    "linked": "Your Mockgram account is now linked: next time “Log in with Mockgram” is enough.",
    "created": "Welcome! We made you an AwesomeService account from your Mockgram profile.",
}


async def _start(
    request: Request,
    database: Database,
    settings: AwesomeServiceSettings,
    http: httpx.AsyncClient,
    discovery: Discovery,
    user_id: int | None,
) -> Response:
    """Discovery, then a fresh state/nonce/PKCE and the redirect to the provider (303)."""
    try:
        metadata = await discovery.metadata(http, settings.login_issuer)
    except MockgramUnavailable as exc:
        return await mockgram_unavailable(request, exc, step=1)
    binding = browser_binding(request)
    url = await database.run(
        start_login, settings, metadata, browser_binding=binding, user_id=user_id
    )
    await inspector.record_authorization_request(url)  # the flow inspector, step 1
    if paused := await stepping.pause_before_redirect(request, database, url):
        return paused
    return RedirectResponse(url, status_code=303)


@router.get("/login/mockgram")
async def login_with_mockgram(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    http: HttpDep,
    discovery: DiscoveryDep,
    templates: TemplatesDep,
    user: CurrentUserDep,
) -> Response:
    """Signed out: straight to the provider. Signed in: a form to link (POST, CSRF-protected)."""
    if user is not None:
        return templates.TemplateResponse(
            request,
            "login_link.html",
            {"page_title": "Link your Mockgram account"},
        )
    return await _start(request, database, settings, http, discovery, None)


@router.post("/login/mockgram")
async def login_with_mockgram_post(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    http: HttpDep,
    discovery: DiscoveryDep,
    user: CurrentUserDep,
) -> Response:
    """The button: log in (signed out) or link this account (signed in)."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    return await _start(request, database, settings, http, discovery, user.id if user else None)


_LOGIN_WORDS = CallbackWords(
    # No step banner: the banners narrate the Connect story.
    page=OutcomePage(
        "login_callback.html", step_banners=False, headers={"Cache-Control": "no-store"}
    ),
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


@router.get("/login/callback")
async def login_callback(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    http: HttpDep,
    discovery: DiscoveryDep,
) -> Response:
    """The provider's answer: state, iss, code → tokens → id_token → userinfo → account."""
    received = await receive_code(
        request,
        database,
        http,
        discovery,
        issuer_url=settings.login_issuer,
        consume=consume_login_state,
        words=_LOGIN_WORDS,
    )
    if isinstance(received, Response):
        return received
    try:
        result = await finish_login(
            database,
            http,
            settings,
            discovery,
            received.metadata,
            pending=received.pending,
            code=received.code,
        )
    except MockgramUnavailable as exc:
        return await mockgram_unavailable(request, exc, step=5)
    except TokenError as exc:
        return await token_refused_page(request, _LOGIN_WORDS, exc)
    except IdTokenRejected as exc:
        return await _LOGIN_WORDS.page.render(
            request,
            status_code=400,
            title="The id_token was refused",
            message=exc.message,
            rfc=exc.rfc,
            error_code=exc.reason,
            step=5,
        )
    except LoginRefused as exc:
        return await _LOGIN_WORDS.page.render(
            request,
            status_code=400,
            title=exc.title,
            message=exc.message,
            rfc=exc.rfc,
            error_code=exc.reason,
            step=5,
        )
    # A fresh session for the account (no session fixation); the code leaves the address bar.
    sign_in(request, result.user)
    push_flash(request, OUTCOMES[result.outcome], "ok")
    return RedirectResponse("/login/mockgram/claims", status_code=303)


@router.get("/login/mockgram/claims")
def claims_received(
    request: Request, session: SessionDep, templates: TemplatesDep, user: UserDep
) -> Response:
    """What the last login received: the id_token's header and claims, and userinfo."""
    assert user.id is not None
    record = last_login(session, user.id)
    context: dict[str, object] = {"page_title": "What Mockgram told us", "record": record}
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
