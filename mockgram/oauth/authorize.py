"""Step 1 in, step 4 out — the authorization endpoint (RFC 6749 §4.1.1–4.1.2, RFC 7636, RFC 9207).

The request is checked by small functions composed in order, like node-oidc-provider's
actions: check_client → check_redirect_uri → check_repeated_params → check_response_type →
check_response_mode → check_scope → check_pkce. Until the client and its redirect URI are
known to be good, a failure is a 400 page (never a redirect); after that, errors go back to
the client in the redirect with error, error_description, state and iss.

Decisions, written down:
- redirect_uri is compared with the registered ones as an exact string (RFC 6749 §3.1.2.3,
  RFC 9700 §4.1.3): another path, an explicit port, an upper-case host, a trailing slash or an
  extra query is refused with a page, and we never fall back to the registered URI instead.
  A missing redirect_uri is allowed only when exactly one is registered (OIDC Core §3.1.2.1).
- Missing, unknown or repeated client_id, and a repeated redirect_uri → 400 page. Any other
  repeated parameter → invalid_request in the redirect. Empty values count as absent and
  unknown parameters are ignored (RFC 6749 §3.1).
- Only response_type=code for now; a missing one is invalid_request, anything else is
  unsupported_response_type. response_mode may only be `query`; anything else is a page, since
  we cannot know how the client expects the error.
- scope is required (Mockgram must know what is asked); unknown scopes or scopes outside the
  client's allowed_scopes → invalid_scope; order is irrelevant, duplicates collapse.
- PKCE: S256 only. `plain`, an unknown method, a challenge without a method, or a challenge
  that is not 43–128 unreserved characters → invalid_request; a public client must send one.
- RFC 9700 §4.11.2 (the AS as an open redirector): error redirects happen at once, before John
  signs in, because they only ever go to an exactly-registered URI and registration can be
  closed (MOCKGRAM_REGISTRATION_OPEN=false). John is always authenticated (and asked) before
  a success redirect.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.responses import Response

from mockgram.db import SessionDep
from mockgram.deps import get_current_user
from mockgram.models import AuthorizationRequest, Client
from mockgram.oauth.codes import answer_if_consented
from mockgram.oauth.errors import (
    InvalidRequestError,
    InvalidScopeError,
    OAuthError,
    UnsupportedResponseTypeError,
    error_redirect,
)
from mockgram.oauth.pending import bind_to_session
from mockgram.scopes import SCOPES, normalize_scope
from mockgram.settings import MockgramSettings
from shared.clock import utcnow
from shared.hashing import new_token
from shared.pkce import is_well_formed
from shared.web import render_error

router = APIRouter()

Params = dict[str, list[str]]

# The parameters Mockgram reads; others are ignored (RFC 6749 §3.1).
KNOWN_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "response_mode",
    "nonce",
)


class AuthorizePageError(Exception):
    """A failure before the redirect URI is trusted: shown to John as a page, never redirected."""

    def __init__(self, title: str, message: str, *, hint: str = "", rfc: str = "") -> None:
        super().__init__(message)
        self.title = title
        self.message = message
        self.hint = hint
        self.rfc = rfc


@router.get("/oauth/authorize")
@router.post("/oauth/authorize")
async def authorize(request: Request, session: SessionDep) -> Response:
    """Validate the authorization request, then send John to sign in, to consent, or back."""
    settings: MockgramSettings = request.app.state.settings
    try:
        params = await read_params(request)
        client = check_client(session, params)
        redirect_uri, redirect_uri_in_request = check_redirect_uri(client, params)
    except AuthorizePageError as exc:
        return page_for(request, exc)

    # From here on the redirect URI is trusted; state goes back exactly as sent (§4.1.2.1).
    state = single(params, "state")
    try:
        check_repeated_params(params)
        check_response_type(params)
        check_response_mode(params)
        scope = check_scope(client, params)
        code_challenge, code_challenge_method = check_pkce(client, params)
    except AuthorizePageError as exc:
        return page_for(request, exc)
    except OAuthError as exc:
        return error_redirect(redirect_uri, exc, state=state, issuer=settings.issuer)

    pending = AuthorizationRequest(
        id=new_token(32),
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        redirect_uri_in_request=redirect_uri_in_request,
        response_type="code",
        response_mode="query",
        scope=scope,
        state=state,
        nonce=single(params, "nonce"),
        code_challenge=code_challenge,
        code_challenge_method=code_challenge_method,
        expires_at=utcnow() + timedelta(seconds=settings.pending_request_ttl_seconds),
    )
    session.add(pending)
    session.commit()
    bind_to_session(request, pending.id)
    return next_step(request, session, pending=pending, settings=settings)


def page_for(request: Request, exc: AuthorizePageError) -> Response:
    """The 400 page for a request Mockgram will not redirect (RFC 6749 §4.1.2.1)."""
    return render_error(
        request,
        status_code=400,
        title=exc.title,
        message=exc.message,
        hint=exc.hint,
        rfc=exc.rfc,
        error_code="invalid_request",
        step=1,
    )


def next_step(
    request: Request, session: Session, *, pending: AuthorizationRequest, settings: MockgramSettings
) -> Response:
    """Step 2 if John is not signed in, else the code if he already agreed, else step 3."""
    query = urlencode({"request_id": pending.id})
    user = get_current_user(request, session)
    if user is None or user.id is None:
        return RedirectResponse(f"/login?{query}", status_code=303)
    answered = answer_if_consented(
        request, session, pending=pending, user_id=user.id, settings=settings
    )
    return answered or RedirectResponse(f"/consent?{query}", status_code=303)


async def read_params(request: Request) -> Params:
    """The query (GET) or form body (POST), empty values dropped (RFC 6749 §3.1)."""
    if request.method == "POST":
        try:
            form = await request.form()
        except Exception as exc:  # a malformed body is a bad request, not a server error
            raise AuthorizePageError(
                "That authorization request was malformed",
                "The form sent to Mockgram could not be read.",
            ) from exc
        items = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    else:
        items = request.query_params.multi_items()
    params: Params = {}
    for name, value in items:
        if value != "":
            params.setdefault(name, []).append(value)
    return params


def single(params: Params, name: str) -> str | None:
    """The parameter's value when it was sent exactly once, else None."""
    values = params.get(name, [])
    return values[0] if len(values) == 1 else None


def check_client(session: Session, params: Params) -> Client:
    """The client must be named once and be registered (RFC 6749 §4.1.2.1: no redirect)."""
    values = params.get("client_id", [])
    if not values:
        raise AuthorizePageError(
            "This app did not say who it is",
            "The request to Mockgram has no client_id, so Mockgram cannot tell which app sent you.",
            hint="Go back to the app and try again; if it keeps happening, tell its developer.",
            rfc="RFC 6749 §4.1.1, §4.1.2.1",
        )
    if len(values) > 1:
        raise AuthorizePageError(
            "This request names more than one app",
            "The parameter client_id was sent more than once.",
            rfc="RFC 6749 §3.1",
        )
    client = session.get(Client, values[0])
    if client is None:
        raise AuthorizePageError(
            "Mockgram does not know this app",
            "No app is registered with this client_id, so Mockgram will not send you anywhere.",
            hint="Go back to the app; its developer must register it on the developer portal.",
            rfc="RFC 6749 §4.1.2.1",
        )
    return client


def check_redirect_uri(client: Client, params: Params) -> tuple[str, bool]:
    """Exact match with a registered URI (§3.1.2.3); returns it and whether it was sent."""
    values = params.get("redirect_uri", [])
    registered = client.redirect_uri_list
    if len(values) > 1:
        raise AuthorizePageError(
            "This request names more than one return address",
            "The parameter redirect_uri was sent more than once.",
            rfc="RFC 6749 §3.1",
        )
    if not values:
        # OIDC Core §3.1.2.1 / RFC 6749 §3.1.2.3: may be omitted only when unambiguous.
        if len(registered) == 1:
            return registered[0], False
        raise AuthorizePageError(
            "This request has no return address",
            f"{client.name} has several redirect URIs registered and did not say which one to use.",
            hint="The app must send redirect_uri with the request.",
            rfc="RFC 6749 §3.1.2.3",
        )
    given = values[0]
    # Plain string equality on purpose: no normalising of case, ports, slashes or queries.
    if given not in registered:
        raise AuthorizePageError(
            "This return address is not registered",
            f"{client.name} asked Mockgram to send you to an address it never registered. "
            "Mockgram will not send you there, nor anywhere else.",
            hint="If you are the developer, register this exact redirect URI for the app.",
            rfc="RFC 6749 §3.1.2, §4.1.2.1; RFC 9700 §4.1.3",
        )
    return given, True


def check_repeated_params(params: Params) -> None:
    """Parameters must not be included more than once (RFC 6749 §3.1)."""
    for name in KNOWN_PARAMS:
        if len(params.get(name, [])) > 1:
            raise InvalidRequestError(f"The parameter {name} was sent more than once.")


def check_response_type(params: Params) -> None:
    """Only the authorization code flow for now (RFC 6749 §4.1.1, §4.1.2.1)."""
    response_type = single(params, "response_type")
    if response_type is None:
        raise InvalidRequestError("response_type is required.")
    if response_type != "code":
        raise UnsupportedResponseTypeError("Only response_type=code is supported.")


def check_response_mode(params: Params) -> None:
    """Only the query response mode (OAuth 2.0 Multiple Response Types §2.1)."""
    response_mode = single(params, "response_mode")
    if response_mode not in (None, "query"):
        raise AuthorizePageError(
            "This app asked for an answer Mockgram cannot give",
            "Mockgram only answers in the query string (response_mode=query).",
            hint="The app must drop response_mode or set it to query.",
            rfc="OAuth 2.0 Multiple Response Type Encoding Practices §2.1",
        )


def check_scope(client: Client, params: Params) -> str:
    """Known scopes the client may ask for; order irrelevant, duplicates collapsed (§3.3)."""
    scope = single(params, "scope")
    if scope is None:
        raise InvalidScopeError("scope is required: say what access you need.")
    requested = set(scope.split())
    unknown = requested - set(SCOPES)
    if unknown:
        raise InvalidScopeError(f"Unknown scope: {' '.join(sorted(unknown))}.")
    not_allowed = requested - client.scope_set
    if not_allowed:
        raise InvalidScopeError(f"This client may not ask for: {' '.join(sorted(not_allowed))}.")
    return normalize_scope(requested)


def check_pkce(client: Client, params: Params) -> tuple[str | None, str | None]:
    """S256 only (RFC 7636 §4.3, RFC 9700 §2.1.1); public clients must use PKCE."""
    challenge = single(params, "code_challenge")
    method = single(params, "code_challenge_method")
    if challenge is None:
        if method is not None:
            raise InvalidRequestError("code_challenge_method was sent without a code_challenge.")
        if client.is_public:
            raise InvalidRequestError("Public clients must use PKCE (code_challenge with S256).")
        return None, None
    if method is None:
        raise InvalidRequestError("code_challenge_method is required and must be S256.")
    if method != "S256":
        raise InvalidRequestError("code_challenge_method must be S256 (plain is not allowed).")
    if not is_well_formed(challenge):
        raise InvalidRequestError("code_challenge must be 43 to 128 unreserved characters.")
    return challenge, method
