"""Step 1 in, step 4 out — the authorization endpoint (RFC 6749 §4.1, §4.2; OIDC Core §3; RFC 9207).

The request is checked by small functions composed in order, like node-oidc-provider's
actions: check_client → check_redirect_uri → check_response_mode → check_form_post_target,
then in checked_request check_repeated_params → check_response_type → check_scope →
check_resource (RFC 8707) → check_openid_scope → check_nonce → check_pkce → check_prompt →
check_max_age (→ check_silent for prompt=none). Until the client, its redirect URI and the
response mode are known to be good, a failure is a 400 page (never a redirect); after that,
errors go back to the client in the request's response mode (query, fragment or form_post)
with error, error_description, error_uri, state and iss — once John has signed in, for an
unverified client.

Decisions, written down:
- redirect_uri is compared with the registered ones as an exact string (RFC 6749 §3.1.2.3,
  RFC 9700 §4.1.3): another path, an explicit port, an upper-case host, a trailing slash or an
  extra query is refused with a page, and we never fall back to the registered URI instead.
  A missing redirect_uri is allowed only when exactly one is registered (OIDC Core §3.1.2.1).
- Missing, unknown or repeated client_id, and a repeated redirect_uri → 400 page. Any other
  repeated parameter → invalid_request in the redirect. Empty values count as absent and
  unknown parameters are ignored (RFC 6749 §3.1).
- The 400 page names a code and links to its error_uri page, which shows this request
  (redacted): invalid_client for an unknown client_id, invalid_redirect_uri for an unregistered
  redirect_uri (node-oidc-provider's choice), invalid_request for the rest.
- response_type: code, token, id_token and their OIDC combinations, words in any order
  (OIDC Core §3, Multiple Response Types §5). Missing → invalid_request; anything else →
  unsupported_response_type; a type the client did not register (Client.response_types) →
  unauthorized_client. Such errors of a fragment-default type travel in the fragment.
- response_mode: query (default for code), fragment (default for the rest) or form_post.
  A repeated or unknown response_mode, and response_mode=query for a type that returns a
  token or an id_token, get a 400 page (SECURITY.md item 8) — never a redirect, since the client
  asked for an envelope Mockgram will not use and guessing another could leak the error or the
  tokens.
- scope is required (Mockgram must know what is asked); unknown scopes or scopes outside the
  client's allowed_scopes → invalid_scope; order is irrelevant, duplicates collapse. A type
  with id_token without the openid scope → invalid_scope (the scope is what must change; Authlib
  answers the same).
- nonce is required in OpenID Connect's implicit and hybrid flows: every response type but
  plain `code` and plain `token` when the scope holds openid — `code token` included, though it
  returns no id_token from this endpoint (OIDC Core §3.2.2.1, §3.3.2.11) → invalid_request. The
  code flow may omit it; `token` alone is OAuth 2.0 implicit, as is `code token` without openid.
- PKCE (only when a code is issued): S256 only. `plain`, an unknown method, a challenge without
  a method, or a challenge that is not 43–128 unreserved characters → invalid_request; a public
  client must send one.
- prompt: none, login, consent; `none` with another value, or an unknown value →
  invalid_request. prompt=none answers at once or says login_required (not signed in,
  max_age exceeded, login_hint names someone else) or consent_required (nothing remembered
  covers the scope). prompt=login, an exceeded max_age, or a login_hint naming another account
  mark the request `force_login`: the sign-in page comes back until John types his password
  for this request. prompt=consent shows the consent page even when consent is remembered.
- RFC 9700 §4.11.2 (the AS as an open redirector): for a verified client (seeded or
  configured) error redirects happen at once, before John signs in: they only go to an
  exactly-registered URI that Mockgram's operator checked. For an unverified client (anyone
  may register one, RFC 7591) an error before John has signed in is a page, never a redirect:
  otherwise anyone could register their own site and use Mockgram's address to bounce browsers
  there. John is always authenticated (and asked) before a success redirect.
- redirect_uri on a loopback IP address (http://127.0.0.1:{port}, http://[::1]:{port})
  matches a registered one whatever its port (RFC 8252 §7.3: native apps), and the answer goes
  to the port in the request. A mismatch only in the port of any other URI says so on the page.
- Each stored pending request counts against its client address's hourly limit
  (mockgram/rate_limits.py); past it, a 429 page with Retry-After and nothing stored.
- A pushed request (RFC 9126 §4) comes as client_id + request_uri: the pushed parameters
  replace the request's, then every check runs again. An unusable request_uri (unknown, used,
  expired, another client's, or without client_id) is a 400 page naming invalid_request_uri:
  its redirect URI is among what could not be found. A client that must push (its
  require_pushed_authorization_requests, the global setting, FAPI 2.0: mockgram/oauth/fapi.py)
  gets invalid_request for a request that was not pushed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from mockgram import rate_limits
from mockgram.clients import (
    RESPONSE_TYPES,
    allows_response_type,
    destination,
    parse_response_type,
    shown_name,
)
from mockgram.db import SessionDep
from mockgram.deps import SESSION_AUTH_TIME_KEY, Provider, ProviderDep, get_current_user
from mockgram.failures import error_uri
from mockgram.models import AuthorizationRequest, Client, User
from mockgram.oauth import consents
from mockgram.oauth.answer import answer_if_consented
from mockgram.oauth.errors import (
    ConsentRequiredError,
    InvalidRequestError,
    InvalidScopeError,
    LoginRequiredError,
    OAuthError,
    RateLimitedError,
    UnauthorizedClientError,
    UnsupportedResponseTypeError,
)
from mockgram.oauth.fapi import allows_only_code, requires_par, requires_pkce
from mockgram.oauth.pending import bind_to_session, narrates_skipped_consent
from mockgram.oauth.redirect_uris import differs_only_by_port, matching
from mockgram.oauth.request_uris import RequestUriError, pushed_params
from mockgram.oauth.resources import requested_resources
from mockgram.oauth.responses import (
    FORM_POST,
    QUERY,
    RESPONSE_MODES,
    default_mode,
    error_response,
    returns_token,
)
from mockgram.scopes import SCOPES, has_openid, normalize_scope
from mockgram.settings import MockgramSettings
from shared.clock import epoch_seconds, utcnow
from shared.db import KEEP_EXPIRED, delete_older_than
from shared.forms import FormBodyDep
from shared.hashing import new_token
from shared.oauth_spec import canonical_response_type
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
    "prompt",
    "max_age",
    "login_hint",
    "resource",
)
PROMPT_VALUES = ("none", "login", "consent")
# The two types that need no nonce even with openid: the code flow, and OAuth 2.0 implicit.
PLAIN_OAUTH_TYPES = (frozenset({"code"}), frozenset({"token"}))
MAX_LOGIN_HINT = 64  # a username is at most 64 characters
# state is opaque to Mockgram (RFC 6749 §4.1.1) but is stored and sent back; clients use
# 32–64 characters. A longer one is refused, not stored and not reflected in a redirect.
MAX_STATE = 512
MAX_MAX_AGE = 2**31 - 1


class AuthorizePageError(Exception):
    """A failure before the redirect URI is trusted: shown to John as a page, never redirected.

    `error` names the explanation page the error page links to; no client ever receives it.
    """

    def __init__(
        self,
        title: str,
        message: str,
        *,
        hint: str = "",
        rfc: str = "",
        error: str = "invalid_request",
        status_code: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.title = title
        self.message = message
        self.hint = hint
        self.rfc = rfc
        self.error = error
        self.status_code = status_code
        self.headers = headers or {}


@router.get("/oauth/authorize")
@router.post("/oauth/authorize")
def authorize(
    request: Request,
    body: FormBodyDep,
    session: SessionDep,
    provider: ProviderDep,
) -> Response:
    """Validate the authorization request, then send John to sign in, to consent, or back."""
    try:
        params = read_params(request, body)
        # RFC 9126 §4: a pushed request arrives as client_id + request_uri; the parameters
        # pushed earlier replace anything else the browser brought.
        pushed = "request_uri" in params
        if pushed:
            params = resolve_request_uri(session, params)
        client = check_client(session, params)
        redirect_uri, redirect_uri_in_request = check_redirect_uri(client, params)
        mode = check_response_mode(params)
        check_state_length(params)
        check_form_post_target(redirect_uri, mode)
    except AuthorizePageError as exc:
        return page_for(request, exc)

    # From here on the redirect URI is trusted; state goes back exactly as sent (§4.1.2.1).
    try:
        # RFC 9126 §5–6, FAPI 2.0 §5.3.2.2: this client's requests must be pushed first.
        if not pushed and requires_par(client, provider.settings):
            raise InvalidRequestError(
                "This client must push its authorization request first (PAR, RFC 9126) "
                "and send only client_id and request_uri here."
            )
        pending = checked_request(
            request,
            session,
            client,
            params,
            redirect_uri=redirect_uri,
            redirect_uri_in_request=redirect_uri_in_request,
            mode=mode,
            ttl_seconds=provider.settings.pending_request_ttl_seconds,
            settings=provider.settings,
        )
    except OAuthError as exc:
        # RFC 9700 §4.11.2: an unverified client's redirect URI is anyone's; no bounce there.
        if not client.verified and get_current_user(request, session) is None:
            return page_for(request, unverified_client_error(client, exc, redirect_uri))
        state, issuer = single(params, "state"), provider.settings.issuer
        return error_response(request, redirect_uri, exc, state=state, issuer=issuer, mode=mode)
    try:
        check_rate_limit(request, session, provider.settings.authorization_requests_per_hour)
    except AuthorizePageError as exc:
        return page_for(request, exc)
    # Requests nobody finished are kept a day past expiry (to say "expired"), then dropped.
    delete_older_than(session, AuthorizationRequest, AuthorizationRequest.expires_at, KEEP_EXPIRED)
    session.add(pending)
    session.commit()
    bind_to_session(request, pending.id)
    return next_step(request, session, provider, pending)


def checked_request(
    request: Request,
    session: Session,
    client: Client,
    params: Params,
    *,
    redirect_uri: str,
    redirect_uri_in_request: bool,
    mode: str,
    ttl_seconds: int,
    settings: MockgramSettings,
) -> AuthorizationRequest:
    """The checks whose errors go back to the client, in order; the request to keep."""
    checked = check_params(client, params, settings)
    prompt, login_hint, scope = checked.prompt, checked.login_hint, checked.scope
    user = get_current_user(request, session)
    force_login = needs_fresh_login(
        request, user, prompt=prompt, max_age=checked.max_age, login_hint=login_hint
    )
    if "none" in prompt:
        check_silent(session, client, user, scope=scope, force_login=force_login)
    return AuthorizationRequest(
        id=new_token(32),
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        redirect_uri_in_request=redirect_uri_in_request,
        response_type=canonical_response_type(checked.words),
        response_mode=mode,
        scope=scope,
        state=single(params, "state"),
        nonce=checked.nonce,
        code_challenge=checked.code_challenge,
        code_challenge_method=checked.code_challenge_method,
        prompt=" ".join(sorted(prompt)) or None,
        max_age=checked.max_age,
        login_hint=login_hint[:MAX_LOGIN_HINT] if login_hint else None,
        force_login=force_login,
        resource=checked.resource,
        expires_at=utcnow() + timedelta(seconds=ttl_seconds),
    )


@dataclass(frozen=True)
class CheckedParams:
    """What the parameters asked for, once every check that needs no browser has passed."""

    words: frozenset[str]
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    prompt: frozenset[str]
    max_age: int | None
    login_hint: str | None
    resource: str | None


def check_params(client: Client, params: Params, settings: MockgramSettings) -> CheckedParams:
    """The checks on the parameters alone, in order (a pushed request too, RFC 9126 §2.1)."""
    check_repeated_params(params)
    words = check_response_type(client, params)
    scope = check_scope(client, params)
    resource = check_resource(params, settings)
    check_openid_scope(words, scope)
    nonce = check_nonce(words, scope, params)
    code_challenge, code_challenge_method = check_pkce(client, words, params)
    prompt = check_prompt(params)
    max_age = check_max_age(params)
    return CheckedParams(
        words=words,
        scope=scope,
        nonce=nonce,
        code_challenge=code_challenge,
        code_challenge_method=code_challenge_method,
        prompt=prompt,
        max_age=max_age,
        login_hint=single(params, "login_hint"),
        resource=resource,
    )


def resolve_request_uri(session: Session, params: Params) -> Params:
    """The pushed parameters a request_uri stands for, or a page (RFC 9126 §4; no redirect:
    the redirect URI is among the parameters that could not be found)."""
    try:
        return pushed_params(session, params)
    except RequestUriError as exc:
        raise AuthorizePageError(
            "This sign-in link cannot be used",
            f"{exc} Mockgram will not send you anywhere.",
            hint="Go back to the app and start again: it pushes a new request each time.",
            rfc="RFC 9126 §4, §7.3",
            error="invalid_request_uri",
        ) from exc


def page_for(request: Request, exc: AuthorizePageError) -> Response:
    """The 400 page for a request Mockgram will not redirect (RFC 6749 §4.1.2.1).

    Like every protocol error it links to its explanation, which records (redacted) this request;
    the link is made relative, as the page is Mockgram's own (SECURITY.md item 31: no absolute
    URL on it).
    """
    explained = urlsplit(error_uri(exc.error))
    response = render_error(
        request,
        status_code=exc.status_code,
        title=exc.title,
        message=exc.message,
        hint=exc.hint,
        rfc=exc.rfc,
        error_code=exc.error,
        error_uri=urlunsplit(("", "", explained.path, explained.query, "")),
        step=1,
    )
    response.headers.update(exc.headers)
    return response


def unverified_client_error(
    client: Client, exc: OAuthError, redirect_uri: str
) -> AuthorizePageError:
    """The page shown instead of redirecting an error to an unverified client (RFC 9700 §4.11.2)."""
    return AuthorizePageError(
        "This app's request was refused",
        f"The app {shown_name(client)} sent Mockgram a request it cannot accept: "
        f"{(exc.description or exc.error).rstrip('.')}. The app was registered by anyone and "
        "has not been checked by Mockgram, so Mockgram does not send you back to its address "
        f"({destination(redirect_uri)}) before you have signed in.",
        hint="If you trust the app, go back to it and try again; if you are its developer, "
        "fix the request (“What this error means” explains the error code above).",
        rfc="RFC 6749 §4.1.2.1; RFC 9700 §4.11.2",
        error=exc.error,
    )


def check_rate_limit(request: Request, session: Session, per_hour: int) -> None:
    """Each stored pending request counts against its address's hourly limit (M8)."""
    limit = rate_limits.Limit(rate_limits.AUTHORIZATION_REQUESTS, per_hour)
    address = rate_limits.client_address(request)
    if wait := rate_limits.take(session, limit, address=address):
        error = RateLimitedError("Too many authorization requests from this address.")
        raise AuthorizePageError(
            "Too many requests from your address",
            f"Mockgram received more than {per_hour} authorization requests from your address "
            "this hour, so it is not taking more for now. Nothing was stored.",
            hint=f"Try again in {wait} second{'' if wait == 1 else 's'}.",
            rfc="RFC 6585 §4; RFC 9110 §10.2.3",
            error=error.error,
            status_code=error.status_code,
            headers={"Retry-After": str(wait)},
        )


def next_step(
    request: Request, session: Session, provider: Provider, pending: AuthorizationRequest
) -> Response:
    """Step 2 if John must sign in, else the answer if he already agreed, else step 3."""
    query = urlencode({"request_id": pending.id})
    user = get_current_user(request, session)
    if user is None or user.id is None or pending.force_login:
        return RedirectResponse(f"/login?{query}", status_code=303)
    # The tour pauses on a skipped step 3 to say why (the consent page decides what to show).
    if narrates_skipped_consent(request, pending, session.get(Client, pending.client_id)):
        return RedirectResponse(f"/consent?{query}", status_code=303)
    answered = answer_if_consented(request, session, provider, pending=pending, user_id=user.id)
    return answered or RedirectResponse(f"/consent?{query}", status_code=303)


def read_params(request: Request, body: FormData | None) -> Params:
    """The query (GET) or form body (POST), empty values dropped (RFC 6749 §3.1).

    `body` is the parsed form (shared.forms.FormBodyDep), None when it would not parse.
    """
    if request.method == "POST":
        if body is None:  # a malformed body is a bad request, not a server error
            raise AuthorizePageError(
                "That authorization request was malformed",
                "The form sent to Mockgram could not be read.",
            )
        items = [(name, value) for name, value in body.multi_items() if isinstance(value, str)]
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
            error="invalid_client",
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
            f"{shown_name(client)} has several redirect URIs registered and did not say which "
            "one to use.",
            hint="The app must send redirect_uri with the request.",
            rfc="RFC 6749 §3.1.2.3",
        )
    given = values[0]
    # Plain string equality on purpose: no normalising of case, ports, slashes or queries —
    # but a loopback IP address may come with any port (RFC 8252 §7.3).
    if matching(given, registered) is None:
        near = differs_only_by_port(given, registered)
        raise AuthorizePageError(
            "This return address is not registered",
            f"{shown_name(client)} asked Mockgram to send you to an address it never "
            "registered. Mockgram will not send you there, nor anywhere else."
            + (
                f" It differs from the registered {near} only by its port: ports are compared "
                "too, except on the loopback addresses 127.0.0.1 and [::1]."
                if near
                else ""
            ),
            hint="If you are the developer, register this exact redirect URI for the app.",
            rfc="RFC 6749 §3.1.2, §4.1.2.1; RFC 9700 §4.1.3",
            # node-oidc-provider's name for it; the registration endpoint's code (RFC 7591).
            error="invalid_redirect_uri",
        )
    return given, True


def check_state_length(params: Params) -> None:
    """A state too long to store and send back is refused with a page (RFC 6749 §4.1.1)."""
    if any(len(value) > MAX_STATE for value in params.get("state", [])):
        raise AuthorizePageError(
            "The state parameter is too long",
            f"The state parameter may be at most {MAX_STATE} characters; this one is longer, "
            "so Mockgram will neither keep it nor send it back.",
            hint="The application that sent you here made a malformed request.",
            rfc="RFC 6749 §4.1.1",
        )


def check_repeated_params(params: Params) -> None:
    """Parameters must not be included more than once (RFC 6749 §3.1)."""
    for name in KNOWN_PARAMS:
        if len(params.get(name, [])) > 1:
            raise InvalidRequestError(f"The parameter {name} was sent more than once.")


def check_response_mode(params: Params) -> str:
    """query, fragment or form_post; the default follows response_type (Multiple Response Types §5).

    Refused with a page (we cannot know how the client expects the error): a repeated or
    unsupported response_mode, and response_mode=query for a type that returns a token or an
    id_token — those never travel in a query string (Multiple Response Types §5, §7).
    """
    values = params.get("response_mode", [])
    if len(values) > 1:
        raise AuthorizePageError(
            "This request asks for its answer in more than one way",
            "The parameter response_mode was sent more than once.",
            rfc="RFC 6749 §3.1",
        )
    requested = values[0] if values else None
    if requested is not None and requested not in RESPONSE_MODES:
        raise AuthorizePageError(
            "This app asked for an answer Mockgram cannot give",
            "Mockgram answers in the query string, in the fragment or as a form post "
            "(response_mode query, fragment or form_post); this app asked for something else.",
            hint="The app must drop response_mode or use one of those three.",
            rfc="OAuth 2.0 Multiple Response Type Encoding Practices §2.1",
        )
    words = parse_response_type(single(params, "response_type") or "")
    if requested is None:
        return default_mode(words) if words else QUERY
    if requested == QUERY and words and returns_token(words):
        raise AuthorizePageError(
            "This app asked for its tokens in the address",
            "Tokens and id_tokens are never put in a query string, where logs, history and "
            "Referer headers would keep them; Mockgram will not send this answer.",
            hint="The app must use response_mode=fragment or form_post for this response_type.",
            rfc="OAuth 2.0 Multiple Response Type Encoding Practices §5, §7",
        )
    return requested


def check_form_post_target(redirect_uri: str, mode: str) -> None:
    """form_post needs a web address: a browser cannot POST a form to an app's own scheme."""
    # Form Post Response Mode §2 posts to the redirect URI; RFC 8252 §7.1 schemes are not web.
    if mode == FORM_POST and urlsplit(redirect_uri).scheme not in ("http", "https"):
        raise AuthorizePageError(
            "This app asked for an answer Mockgram cannot give",
            "A form post can only go to a web address, and this app's redirect URI is an app "
            "on your device.",
            hint="The app must use response_mode=query or fragment with this redirect URI.",
            rfc="OAuth 2.0 Form Post Response Mode §2; RFC 8252 §7.1",
        )


def check_response_type(client: Client, params: Params) -> frozenset[str]:
    """A supported response_type the client registered (RFC 6749 §4.1.1, §4.1.2.1; OIDC §3)."""
    response_type = single(params, "response_type")
    if response_type is None:
        raise InvalidRequestError("response_type is required.")
    words = parse_response_type(response_type)
    if words is None:
        raise UnsupportedResponseTypeError(
            "response_type must be one of: " + ", ".join(RESPONSE_TYPES) + "."
        )
    # RFC 6749 §4.1.2.1: the client is not allowed to use this response type.
    if not allows_response_type(client, words):
        raise UnauthorizedClientError(f"This client may not use response_type={response_type}.")
    # FAPI 2.0 §5.3.2.2: response_type code only, no implicit or hybrid.
    if allows_only_code(client) and words != {"code"}:
        raise UnauthorizedClientError("A FAPI 2.0 client may only use response_type=code.")
    return words


def check_scope(client: Client, params: Params) -> str:
    """Known scopes the client may ask for; order irrelevant, duplicates collapsed (§3.3)."""
    scope = single(params, "scope")
    if scope is None:
        raise InvalidScopeError("scope is required: say what access you need.")
    requested = set(scope.split())
    # A configured client may hold configured scopes (mockgram/config.py checked them).
    unknown = requested - set(SCOPES) - client.scope_set
    if unknown:
        raise InvalidScopeError(f"Unknown scope: {' '.join(sorted(unknown))}.")
    not_allowed = requested - client.scope_set
    if not_allowed:
        raise InvalidScopeError(f"This client may not ask for: {' '.join(sorted(not_allowed))}.")
    return normalize_scope(requested)


def check_resource(params: Params, settings: MockgramSettings) -> str | None:
    """RFC 8707 §2: a resource Mockgram knows, else invalid_target back to the client."""
    resource = single(params, "resource")
    return None if resource is None else requested_resources([resource], settings)[0]


def check_openid_scope(words: frozenset[str], scope: str) -> None:
    """An id_token is issued only to OpenID Connect requests (OIDC Core §3.1.2.1, §3.2.2.1)."""
    if "id_token" in words and not has_openid(scope):
        raise InvalidScopeError("response_type with id_token needs the openid scope.")


def check_nonce(words: frozenset[str], scope: str, params: Params) -> str | None:
    """Required in OIDC's implicit and hybrid flows (OIDC Core §3.2.2.1, §3.3.2.11)."""
    nonce = single(params, "nonce")
    # Plain `code` is the code flow and plain `token` is OAuth 2.0 implicit, not OIDC; every
    # other type is OIDC implicit or hybrid once openid is asked (id_token always needs it).
    oidc_front_channel = has_openid(scope) and words not in PLAIN_OAUTH_TYPES
    if oidc_front_channel and nonce is None:
        raise InvalidRequestError(
            "nonce is required for the OpenID Connect implicit and hybrid flows."
        )
    return nonce


def check_pkce(
    client: Client, words: frozenset[str], params: Params
) -> tuple[str | None, str | None]:
    """S256 only (RFC 7636 §4.3, RFC 9700 §2.1.1); public clients must use PKCE for a code."""
    if "code" not in words:
        return None, None  # RFC 7636 protects a code; without one there is nothing to bind
    challenge = single(params, "code_challenge")
    method = single(params, "code_challenge_method")
    if challenge is None:
        if method is not None:
            raise InvalidRequestError("code_challenge_method was sent without a code_challenge.")
        if requires_pkce(client):  # public clients (RFC 9700 §2.1.1) and FAPI 2.0 (§5.3.2.2)
            who = "Public clients" if client.is_public else "FAPI 2.0 clients"
            raise InvalidRequestError(f"{who} must use PKCE (code_challenge with S256).")
        return None, None
    if method is None:
        raise InvalidRequestError("code_challenge_method is required and must be S256.")
    if method != "S256":
        raise InvalidRequestError("code_challenge_method must be S256 (plain is not allowed).")
    if not is_well_formed(challenge):
        raise InvalidRequestError("code_challenge must be 43 to 128 unreserved characters.")
    return challenge, method


def check_prompt(params: Params) -> frozenset[str]:
    """none, login, consent; `none` alone (OIDC Core §3.1.2.1)."""
    values = frozenset((single(params, "prompt") or "").split())
    unknown = values - set(PROMPT_VALUES)
    if unknown:
        raise InvalidRequestError(f"Unsupported prompt value: {' '.join(sorted(unknown))}.")
    if "none" in values and len(values) > 1:
        raise InvalidRequestError("prompt=none cannot be combined with other values.")
    return values


def check_max_age(params: Params) -> int | None:
    """A non-negative number of seconds (OIDC Core §3.1.2.1)."""
    value = single(params, "max_age")
    if value is None:
        return None
    if not value.isascii() or not value.isdigit():
        raise InvalidRequestError("max_age must be a non-negative whole number of seconds.")
    # Beyond 68 years every sign-in is recent enough; capping keeps the number storable.
    return min(int(value), MAX_MAX_AGE)


def needs_fresh_login(
    request: Request,
    user: User | None,
    *,
    prompt: frozenset[str],
    max_age: int | None,
    login_hint: str | None,
) -> bool:
    """True when John is signed in but must type his password again for this request."""
    if user is None:
        return False  # he signs in anyway
    if "login" in prompt:
        return True  # OIDC Core §3.1.2.1: prompt=login re-authenticates
    if max_age == 0:
        return True  # OIDC Core §3.1.2.1: "max_age=0 is equivalent to prompt=login"
    if max_age is not None:
        # OIDC Core §3.1.2.1: the last sign-in is older than max_age seconds.
        auth_time = request.session.get(SESSION_AUTH_TIME_KEY)
        if not isinstance(auth_time, int) or epoch_seconds() - auth_time > max_age:
            return True
    # OIDC Core §3.1.2.1: login_hint names another account than the one signed in.
    return login_hint is not None and login_hint != user.username


def check_silent(
    session: Session, client: Client, user: User | None, *, scope: str, force_login: bool
) -> None:
    """prompt=none: answer without any page, or say which page was needed (OIDC §3.1.2.6)."""
    if user is None or user.id is None or force_login:
        raise LoginRequiredError("John would have to sign in, and prompt=none forbids asking.")
    if not consents.covers(session, user_id=user.id, client_id=client.client_id, scope=scope):
        raise ConsentRequiredError("John would have to consent, and prompt=none forbids asking.")
