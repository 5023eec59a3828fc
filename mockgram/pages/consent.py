"""Step 3 — John decides what the app may do (RFC 6749 §3.3, §4.1.1; §4.1.2.1 for a denial).

The page names the app (its name, client_id and where it will send him back) and says in
plain words what each requested scope allows; an unverified app (registered by anyone, RFC 7591
§5: its metadata is self-asserted) has its name quoted and marked unverified, with a notice
that Mockgram has not checked it (mockgram/templates/_client.html); photos.write is marked
as the dangerous one. John may allow everything, untick scopes (a smaller grant, §3.3), or
deny; `openid` ("Know who you are") is the sign-in itself, so it is shown without a box to
untick. The answer is bound
to the pending request this browser started and to a CSRF token, and is accepted once:
Allow remembers the consent, marks the request completed atomically and issues the code (step
4); Deny, or Allow with nothing ticked, sends the app access_denied with state and iss.
In non-interactive mode (tests, off by default) the page allows everything asked at once.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlmodel import Session
from starlette.responses import Response

from mockgram.clients import destination, shown_name
from mockgram.db import SessionDep
from mockgram.deps import Provider, ProviderDep, TemplatesDep, get_current_user
from mockgram.events import ConsentDenied, ConsentGiven
from mockgram.models import AuthorizationRequest, Client, User
from mockgram.oauth import consents
from mockgram.oauth.answer import answer_request
from mockgram.oauth.errors import AccessDeniedError
from mockgram.oauth.pending import (
    claim,
    is_bound_to_session,
    load_open_request,
    narrates_skipped_consent,
    prompts,
    tells_the_story,
    unbind_from_session,
)
from mockgram.oauth.responses import error_response
from mockgram.scopes import catalog, describe, normalize_scope
from shared.clock import as_utc
from shared.csrf import csrf_ok
from shared.forms import PageFormDep, text, texts
from shared.web import render_error

router = APIRouter()


def no_longer_valid(request: Request) -> Response:
    """The page for a request that is unknown, answered, expired or from another browser."""
    return render_error(
        request,
        status_code=400,
        title="This request is no longer valid",
        message="The app's request was already answered, has expired, or was started in "
        "another browser. Nothing was shared.",
        hint="Go back to the app and start again.",
        rfc="RFC 6749 §4.1.1",
        step=3,
    )


def login_redirect(request_id: str) -> RedirectResponse:
    """Step 2 first: sign in, then come back to this request."""
    return RedirectResponse("/login?" + urlencode({"request_id": request_id}), status_code=303)


def signed_in_with_open_request(
    request: Request, session: Session, request_id: str
) -> tuple[User, AuthorizationRequest] | Response:
    """John, signed in, and the open request this browser started; else the page saying why."""
    user = get_current_user(request, session)
    if user is None or user.id is None:
        return login_redirect(request_id)
    pending = load_open_request(session, request_id)
    # SECURITY.md item 28: the answer is bound to the pending request this browser started.
    if pending is None or not is_bound_to_session(request, request_id):
        return no_longer_valid(request)
    # prompt=login, max_age or login_hint asked for a new sign-in that has not happened yet.
    if pending.force_login:
        return login_redirect(request_id)
    return user, pending


@router.get("/consent")
def consent_page(
    request: Request,
    session: SessionDep,
    provider: ProviderDep,
    templates: TemplatesDep,
) -> Response:
    """Ask John about the pending request (or skip, when he already agreed to all of it)."""
    found = signed_in_with_open_request(
        request, session, request.query_params.get("request_id") or ""
    )
    if isinstance(found, Response):
        return found
    user, pending = found
    client = session.get(Client, pending.client_id)
    if client is None:
        return no_longer_valid(request)
    # Remembered consent: nothing new is asked, so the page would be a pointless click —
    # unless the app asked for it with prompt=consent (OIDC Core §3.1.2.1), or John did, from
    # the tour's "ask me again" link (the same prompt, given on this page).
    remembered = consents.covers(
        session, user_id=user.id, client_id=client.client_id, scope=pending.scope
    )
    asked_again = request.query_params.get("prompt") == "consent"
    if remembered and "consent" not in prompts(pending) and not asked_again:
        if request.query_params.get("continue") != "1" and narrates_skipped_consent(
            request, pending, client
        ):
            return render_remembered(
                request, session, templates, pending=pending, client=client, user=user
            )
        answered = answer_request(
            request, session, provider, pending=pending, user_id=user.id, scope=pending.scope
        )
        return answered or no_longer_valid(request)
    if provider.settings.non_interactive:
        # Test mode (off by default): John allows everything asked, as if he had clicked Allow.
        return allow(
            request, session, provider, pending=pending, user_id=user.id, scope=pending.scope
        )
    return render_consent(request, templates, pending=pending, client=client, user=user)


@router.post("/consent")
def consent_submit(
    request: Request,
    form: PageFormDep,
    session: SessionDep,
    provider: ProviderDep,
) -> Response:
    """Record John's answer once: a code for Allow, access_denied for Deny."""
    request_id = text(form, "request_id")
    if not csrf_ok(request, text(form, "csrf_token")):
        return render_error(
            request,
            status_code=400,
            title="This consent form expired",
            message="The form's security token was missing or wrong, so nothing was shared.",
            hint="Go back to the app and start again.",
            rfc="RFC 6749 §10.12",
            step=3,
        )
    found = signed_in_with_open_request(request, session, request_id)
    if isinstance(found, Response):
        return found
    user, pending = found

    decision = text(form, "decision")
    if decision not in ("allow", "deny"):
        return render_error(
            request,
            status_code=400,
            title="Please choose Allow or Deny",
            message="The answer sent was neither Allow nor Deny, so nothing was shared.",
            back_url="/consent?" + urlencode({"request_id": request_id}),
            back_label="Back to the question",
            step=3,
        )
    requested = set(pending.scope.split())
    ticked = set(texts(form, "scope"))
    if not ticked <= requested:
        return render_error(
            request,
            status_code=400,
            title="That is more than the app asked for",
            message="Only the scopes the app requested can be granted.",
            back_url="/consent?" + urlencode({"request_id": request_id}),
            back_label="Back to the question",
            rfc="RFC 6749 §3.3",
            step=3,
        )

    # openid is the request itself (an id_token says who signed in): it cannot be unticked.
    known = catalog(provider.settings.configured_scopes)
    ticked |= {name for name in requested if name in known and known[name].required}
    # Nothing granted is a "no", whatever button was pressed.
    if decision == "deny" or not ticked:
        denied = ConsentDenied(user_id=user.id, client_id=pending.client_id)
        provider.events.announce(session, denied)
        return deny(request, session, pending=pending, issuer=provider.settings.issuer)

    scope = normalize_scope(ticked)
    return allow(request, session, provider, pending=pending, user_id=user.id, scope=scope)


def allow(
    request: Request,
    session: Session,
    provider: Provider,
    *,
    pending: AuthorizationRequest,
    user_id: int,
    scope: str,
) -> Response:
    """Remember the consent, say so, and answer the request with its code (step 4)."""
    consents.remember(session, user_id=user_id, client_id=pending.client_id, scope=scope)
    given = ConsentGiven(user_id=user_id, client_id=pending.client_id, scope=scope)
    provider.events.announce(session, given)
    answered = answer_request(
        request, session, provider, pending=pending, user_id=user_id, scope=scope
    )
    return answered if answered is not None else no_longer_valid(request)


def deny(
    request: Request, session: Session, *, pending: AuthorizationRequest, issuer: str
) -> Response:
    """RFC 6749 §4.1.2.1: access_denied, with state and iss, in the request's response mode."""
    if not claim(session, pending.id):
        session.rollback()
        return no_longer_valid(request)
    response = error_response(
        request,
        pending.redirect_uri,
        AccessDeniedError("The user denied the request."),
        state=pending.state,
        issuer=issuer,
        mode=pending.response_mode,
    )
    session.commit()
    unbind_from_session(request, pending.id)
    return response


def render_remembered(
    request: Request,
    session: Session,
    templates: Jinja2Templates,
    *,
    pending: AuthorizationRequest,
    client: Client,
    user: User,
) -> Response:
    """Step 3, skipped: John already allowed this, on this date; go on, or be asked again."""
    consent = consents.find(session, user_id=user.id or 0, client_id=client.client_id)
    query = {"request_id": pending.id}
    return templates.TemplateResponse(
        request,
        "consent_remembered.html",
        {
            "page_title": f"You already allowed {shown_name(client)}",
            "step": 3,
            "client": client,
            "consent": consent,
            "allowed_on": as_utc(consent.updated_at) if consent else None,
            "scopes": describe(pending.scope, request.app.state.settings.configured_scopes),
            "continue_url": "/consent?" + urlencode({**query, "continue": "1"}),
            "ask_again_url": "/consent?" + urlencode({**query, "prompt": "consent"}),
            "banner_happened": (
                f"Nothing to ask: John already allowed {shown_name(client)} this"
                + (f" on {as_utc(consent.updated_at):%d %b %Y at %H:%M} UTC" if consent else "")
                + ", and Mockgram remembered his answer."
            ),
            "banner_next": "Mockgram sends John back with a code (step 4), without asking "
            "again — unless he wants to be asked:",
            "banner_link": {
                "href": "/consent?" + urlencode({**query, "prompt": "consent"}),
                "label": "ask me again (prompt=consent)",
            },
        },
        headers={"Cache-Control": "no-store"},
    )


def render_consent(
    request: Request,
    templates: Jinja2Templates,
    *,
    pending: AuthorizationRequest,
    client: Client,
    user: User,
) -> Response:
    """The question: which app, what it would be allowed to do, and where John goes next."""
    return templates.TemplateResponse(
        request,
        "consent.html",
        {
            "page_title": f"Allow {shown_name(client)}?",
            # The tour's step 3 is the article's question (may it read his photos, for a code?);
            # an OpenID login's or an implicit token's request is not that story.
            "step": 3 if tells_the_story(pending, client) else None,
            "pending": pending,
            "client": client,
            "user": user,
            "scopes": describe(pending.scope, request.app.state.settings.configured_scopes),
            "redirect_host": destination(pending.redirect_uri),
        },
        headers={"Cache-Control": "no-store"},
    )
