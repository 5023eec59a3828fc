"""Signing out from the app — OpenID Connect RP-Initiated Logout 1.0.

When John signs out of AwesomeService, the app may send his browser here (the discovery
document's `end_session_endpoint`) so that his Mockgram session ends too, and ask to have him
sent back afterwards. The request is checked in this order:
repeated parameters → id_token_hint → client_id → post_logout_redirect_uri → state.

Decisions, written down:
- GET and POST (§2). A POST is answered with a 303 to the same request as a GET: a form posted
  from another site arrives without Mockgram's SameSite=Lax cookie, so only the GET can tell
  whether (and who) John is signed in.
- id_token_hint (§2) must carry Mockgram's signature and `iss`; an expired one is accepted
  (§4: "the OP … SHOULD accept ID Tokens … when the RP identified by the ID Token's aud claim
  … has a current session or had a recent session"). Its `aud` names the app.
- client_id (§2), when sent with a hint, must be among the hint's audiences.
- post_logout_redirect_uri (§2, §3) must be one the app registered (post_logout_redirect_uris),
  compared as an exact string; it needs the app to be known (client_id or id_token_hint).
  Otherwise a Mockgram error page, never a redirect: an open redirector is what §3 forbids.
- Mockgram signs John out at once only when the hint names the person signed in here (§2: the
  OP should ask, as the request could come from anyone's page); otherwise a confirmation page,
  "Sign out of Mockgram?". Nobody signed in: nothing to end, on to the app.
- Signing out ends the server-side session (shared/sessions.py: the row goes, so every copy of
  the cookie ends), as the sign-out button does.
- `state` (§2) goes back unchanged with the redirect; at most 512 characters, as at the
  authorization endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from joserfc import jwt
from joserfc.errors import JoseError
from sqlmodel import Session
from starlette.responses import Response

from mockgram.clients import shown_name
from mockgram.db import SessionDep
from mockgram.deps import Provider, ProviderDep, get_current_user
from mockgram.events import SignedOutByApp
from mockgram.keys import ALGORITHMS, SigningKeys
from mockgram.models import Client, User
from shared.csrf import csrf_ok
from shared.forms import FormBodyDep, PageFormDep, text
from shared.web import csrf_refused, render_error

router = APIRouter()

END_SESSION_PATH = "/session/end"
CONFIRM_PATH = "/session/end/confirm"
LOGOUT_PARAMS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state")
MAX_STATE = 512
SPEC = "OpenID Connect RP-Initiated Logout 1.0"


class LogoutRequestError(Exception):
    """A logout request Mockgram will not act on; shown as a page, never redirected."""

    def __init__(self, title: str, message: str, *, section: str = "§2") -> None:
        super().__init__(message)
        self.title, self.message, self.section = title, message, section


@dataclass(frozen=True)
class LogoutRequest:
    """A checked logout request: which app, whose hint, and where to go afterwards."""

    client: Client | None
    subject: str | None  # the hint's `sub`: whom the app signed out
    redirect_uri: str | None
    state: str | None
    params: dict[str, str]  # as sent, for the confirmation form and the POST → GET hop


@router.get(END_SESSION_PATH)
@router.post(END_SESSION_PATH)
def end_session(
    request: Request, body: FormBodyDep, session: SessionDep, provider: ProviderDep
) -> Response:
    """§2: sign John out of Mockgram (asking first unless the app proved who he is), then back."""
    try:
        asked = check_logout_request(
            session, provider.keys, provider.settings.issuer, request, body
        )
    except LogoutRequestError as exc:
        return refused_page(request, exc)
    if request.method == "POST":
        # Only a top-level GET brings Mockgram's SameSite=Lax cookie from another site.
        return RedirectResponse(f"{END_SESSION_PATH}?{urlencode(asked.params)}", status_code=303)
    user = get_current_user(request, session)
    if user is None:
        return finish(request, asked, signed_out=False)
    if asked.subject is not None and asked.subject == user.subject:
        sign_out(request, session, provider, user, asked.client)
        return finish(request, asked, signed_out=True)
    return confirmation_page(request, asked, user)


@router.post(CONFIRM_PATH)
def confirm_end_session(
    request: Request, form: PageFormDep, session: SessionDep, provider: ProviderDep
) -> Response:
    """John's answer on the confirmation page (CSRF-checked); the request is checked again."""
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    try:
        asked = check_logout_request(
            session, provider.keys, provider.settings.issuer, request, form
        )
    except LogoutRequestError as exc:
        return refused_page(request, exc)
    if text(form, "decision") != "sign_out":
        return stayed_page(request, asked)
    user = get_current_user(request, session)
    if user is not None:
        sign_out(request, session, provider, user, asked.client)
    return finish(request, asked, signed_out=True)


def check_logout_request(
    session: Session, keys: SigningKeys, issuer: str, request: Request, body: Any
) -> LogoutRequest:
    """The checks of §2–§3 in order; a LogoutRequestError for the first that fails."""
    params = read_params(request, body)
    hint = params.get("id_token_hint")
    claims = check_id_token_hint(hint, keys, issuer) if hint else None
    client = check_client(session, params.get("client_id"), claims)
    redirect_uri = check_post_logout_redirect_uri(client, params.get("post_logout_redirect_uri"))
    state = params.get("state")
    if state is not None and len(state) > MAX_STATE:
        raise LogoutRequestError(
            "The state parameter is too long", f"state may be at most {MAX_STATE} characters."
        )
    subject = claims.get("sub") if claims else None
    return LogoutRequest(
        client=client,
        subject=subject if isinstance(subject, str) else None,
        redirect_uri=redirect_uri,
        state=state if redirect_uri else None,
        params={name: value for name, value in params.items() if name in LOGOUT_PARAMS},
    )


def read_params(request: Request, body: Any) -> dict[str, str]:
    """The query (GET) or form (POST); each parameter at most once, empty values absent."""
    if request.method == "POST":
        if body is None:
            raise LogoutRequestError(
                "That sign-out request was malformed", "The form could not be read."
            )
        items = [(name, value) for name, value in body.multi_items() if isinstance(value, str)]
    else:
        items = list(request.query_params.multi_items())
    params: dict[str, str] = {}
    for name, value in items:
        if value == "" or name in ("csrf_token", "decision"):
            continue
        if name in params and name in LOGOUT_PARAMS:
            raise LogoutRequestError(
                "This sign-out request is ambiguous",
                f"The parameter {name} was sent more than once.",
            )
        params[name] = value
    return params


def check_id_token_hint(hint: str, keys: SigningKeys, issuer: str) -> dict[str, Any]:
    """An id_token Mockgram signed (§2); expiry is not checked (§4: expired hints are fine)."""
    try:
        decoded = jwt.decode(hint, keys.public_set, algorithms=list(ALGORITHMS))
    except (JoseError, ValueError, TypeError) as exc:
        raise LogoutRequestError(
            "This sign-out request could not be checked",
            "The id_token_hint is not an id_token signed by Mockgram.",
        ) from exc
    claims = dict(decoded.claims)
    # An access token is a JWT signed by the same keys: only an id_token names the app it is for.
    typ = str(decoded.header.get("typ", "")).lower()
    if typ in ("at+jwt", "application/at+jwt") or claims.get("iss") != issuer:
        raise LogoutRequestError(
            "This sign-out request could not be checked",
            "The id_token_hint is not an id_token issued by this Mockgram.",
        )
    return claims


def check_client(
    session: Session, client_id: str | None, claims: dict[str, Any] | None
) -> Client | None:
    """The app asking: client_id, which must be among the hint's audiences (§2), or the hint's."""
    audiences: list[str] = []
    if claims is not None:
        aud = claims.get("aud")
        audiences = [a for a in (aud if isinstance(aud, list) else [aud]) if isinstance(a, str)]
        if client_id is not None and client_id not in audiences:
            raise LogoutRequestError(
                "This sign-out request names two apps",
                "client_id is not the app the id_token_hint was issued to.",
            )
    wanted = client_id or (audiences[0] if audiences else None)
    if wanted is None:
        return None
    client = session.get(Client, wanted)
    if client is None:
        raise LogoutRequestError(
            "Mockgram does not know this app", "No app is registered with this client_id."
        )
    return client


def check_post_logout_redirect_uri(client: Client | None, uri: str | None) -> str | None:
    """Only a URI the app registered, as an exact string (§3); else a page, never a redirect."""
    if uri is None:
        return None
    if client is None:
        raise LogoutRequestError(
            "Mockgram cannot tell which app sent you",
            "A post_logout_redirect_uri needs client_id or id_token_hint, so that Mockgram can "
            "check the app registered it. Mockgram will not send you there.",
            section="§3",
        )
    if uri not in client.post_logout_redirect_uri_list:
        raise LogoutRequestError(
            "This return address is not registered",
            f"{shown_name(client)} asked to send you to an address it never registered for "
            "after signing out. Mockgram will not send you there, nor anywhere else.",
            section="§3",
        )
    return uri


def sign_out(
    request: Request, session: Session, provider: Provider, user: User, client: Client | None
) -> None:
    """End this browser's Mockgram session (its server-side row goes with it); say so."""
    signed_out = SignedOutByApp(user_id=user.id, client_id=client.client_id if client else None)
    provider.events.announce(session, signed_out)
    session.commit()
    request.session.clear()


def finish(request: Request, asked: LogoutRequest, *, signed_out: bool) -> Response:
    """Back to the app's registered URI with its state (§3), or a page saying what happened."""
    if asked.redirect_uri is not None:
        query = urlencode({"state": asked.state} if asked.state else {})
        separator = "&" if "?" in asked.redirect_uri else "?"
        target = asked.redirect_uri + (separator + query if query else "")
        return RedirectResponse(target, status_code=303)
    return page(
        request, "end_session.html", asked=asked, outcome="signed_out" if signed_out else "none"
    )


def confirmation_page(request: Request, asked: LogoutRequest, user: User) -> Response:
    """ "Sign out of Mockgram?": the request alone does not prove John asked for it (§2)."""
    return page(request, "end_session.html", asked=asked, outcome="confirm", user=user)


def stayed_page(request: Request, asked: LogoutRequest) -> Response:
    """John chose to stay signed in to Mockgram."""
    return page(request, "end_session.html", asked=asked, outcome="stayed")


def page(request: Request, template: str, **context: object) -> Response:
    templates = request.app.state.templates
    return templates.TemplateResponse(
        request, template, context, headers={"Cache-Control": "no-store"}
    )


def refused_page(request: Request, exc: LogoutRequestError) -> Response:
    """The 400 page for a logout request Mockgram will not act on (§3: no redirect)."""
    return render_error(
        request,
        status_code=400,
        title=exc.title,
        message=exc.message,
        hint="Go back to the app; if you are its developer, fix the sign-out request.",
        rfc=f"{SPEC} {exc.section}",
        error_code="invalid_request",
    )
