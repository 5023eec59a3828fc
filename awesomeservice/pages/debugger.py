"""The OAuth debugger: compose an authorization request, send it, and see what came back.

Like the OAuth and OIDC debuggers the article recommends, built in — a page over
awesomeservice/oauth/: any provider found by its discovery document (oauth/discovery.py, the
issuer checked as OIDC Discovery §4.3 and RFC 8414 §3.3 say), the request built by
oauth/authorization_request.py, the code traded by oauth/token_endpoint.py with the client
authentication the provider's metadata accepts, each id_token claim and hash checked by
oauth/id_token.py's rules — shown one by one instead of refusing at the first. Mockgram is the
default, with the client it seeds for the debugger (every response type). The form can be
pre-filled from the query string, a secret excepted, e.g.
`/debugger?response_type=code+id_token&response_mode=form_post`. The optional client secret
stays on this server, used only for step 5.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import httpx
from fastapi import APIRouter, Request
from fastapi.datastructures import QueryParams
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import delete
from sqlmodel import Session, col, select

from awesomeservice.backchannel import MockgramUnavailable, back_channel, on_mockgram
from awesomeservice.db import DatabaseDep
from awesomeservice.deps import HttpDep, SettingsDep, TemplatesDep, browser_binding
from awesomeservice.destinations import DestinationGuard, ForbiddenDestination
from awesomeservice.events import AuthorizationRequestSent, CallbackReceived, Events, EventsDep
from awesomeservice.inspector import jwts
from awesomeservice.inspector.context import COOKIE as INSPECTOR_COOKIE
from awesomeservice.inspector.context import current
from awesomeservice.inspector.params import explain_error, meaning
from awesomeservice.inspector.redact import redact_json, redact_value
from awesomeservice.models import DebuggerRequest
from awesomeservice.oauth import authorization_request, par, token_endpoint
from awesomeservice.oauth.callback import CallbackRefused, check_issuer
from awesomeservice.oauth.discovery import (
    IssuerMismatch,
    NoDocument,
    NotADiscoveryAddress,
    find_document,
)
from awesomeservice.oauth.dpop import DpopKey, DpopSender
from awesomeservice.oauth.id_token import audiences_of, hash_check, nonce_matches
from awesomeservice.pages.console import keep_debugger_tokens
from awesomeservice.pages.response_types import note_back_channel, note_front_channel
from awesomeservice.settings import AwesomeServiceSettings
from shared import pkce
from shared.clock import utcnow
from shared.csrf import csrf_ok
from shared.db import Database
from shared.forms import text
from shared.hashing import hash_secret
from shared.oauth_spec import (
    OAUTH_METADATA_PATH,
    OIDC_DISCOVERY_PATH,
    canonical_response_type,
    new_state,
)
from shared.response_types import RESPONSE_TYPES  # the list the specifications define
from shared.web import csrf_refused

router = APIRouter()

RESPONSE_MODES = ["", "query", "fragment", "form_post"]
PROMPTS = ["", "none", "login", "consent", "select_account"]  # OIDC Core §3.1.2.1
# What a link may pre-fill; never the client secret (a URL ends up in logs and history).
PREFILLABLE = (
    "discovery_url",
    "client_id",
    "redirect_uri",
    "response_type",
    "response_mode",
    "scope",
    "state",
    "nonce",
    "prompt",
)
# What "a link to this form" carries: the request's shape. Not the secret (never in a URL), and
# not state or nonce: a reopened form makes fresh ones, as every request must.
REOPENED = ("discovery_url", "client_id", "redirect_uri", "response_type", "response_mode")
REOPENED_TOO = ("scope", "prompt")
RFC_6749 = "https://www.rfc-editor.org/rfc/rfc6749"
OIDC_CORE = "https://openid.net/specs/openid-connect-core-1_0.html"
OIDC_ERRORS = frozenset(  # OIDC Core §3.1.2.6
    {
        "interaction_required",
        "login_required",
        "account_selection_required",
        "consent_required",
        "invalid_request_uri",
        "invalid_request_object",
        "request_not_supported",
        "request_uri_not_supported",
        "registration_not_supported",
    }
)
_MAX_FIELD = 2000
KEEP_SECONDS = 3600


class DebuggerProblem(Exception):
    """Something the reader can fix in the form; shown above it."""


def _defaults(settings: AwesomeServiceSettings) -> dict[str, Any]:
    return {
        "discovery_url": "",
        "client_id": settings.debugger_client_id,
        "redirect_uri": f"{settings.url}/debugger/callback",
        "response_type": "code",
        "response_mode": "",
        "scope": "openid profile photos.read",
        "state": new_state(),
        "nonce": new_state(),
        "prompt": "",
        "pkce": True,
        "par": False,
    }


def reopen_link(values: dict[str, Any]) -> str:
    """/debugger with this form's fields (no secret, no state or nonce), to open it again."""
    query = [(name, str(values.get(name) or "")) for name in (*REOPENED, *REOPENED_TOO)]
    query = [(name, value) for name, value in query if value]
    query.append(("pkce", "on" if values.get("pkce") else "off"))
    return "/debugger?" + urlencode(query)


def reopen_from(settings: AwesomeServiceSettings, pending: DebuggerRequest | None) -> str:
    """The link that reopens the form this request was composed in (no secret in it)."""
    if pending is None:
        return "/debugger"
    sent = dict(parse_qsl(urlsplit(pending.url).query))
    return reopen_link(
        {
            "discovery_url": "" if pending.issuer == settings.mockgram_url else pending.issuer,
            "client_id": pending.client_id,
            "redirect_uri": pending.redirect_uri,
            "response_type": pending.response_type,
            "response_mode": pending.response_mode,
            "scope": pending.scope,
            "prompt": sent.get("prompt", ""),
            "pkce": "code_challenge" in sent,
        }
    )


def preview_url(settings: AwesomeServiceSettings, values: dict[str, Any]) -> str:
    """The request the form would send now (the live preview's first state, before any edit).

    Mockgram's endpoint is known; another provider's comes from its discovery document on
    sending, as does the PKCE challenge (made from a verifier that never leaves the server)."""
    endpoint = (
        f"{settings.mockgram_url}/oauth/authorize"
        if not values.get("discovery_url")
        else "(the provider's authorization_endpoint)"
    )
    parameters = authorization_request.request_parameters(
        client_id=str(values.get("client_id") or ""),
        redirect_uri=str(values.get("redirect_uri") or ""),
        scope=str(values.get("scope") or ""),
        response_type=str(values.get("response_type") or ""),
        response_mode=str(values.get("response_mode") or ""),
        state=str(values.get("state") or ""),
        nonce=str(values.get("nonce") or ""),
        prompt=str(values.get("prompt") or ""),
    )
    if values.get("pkce") and "code" in str(values.get("response_type") or "").split():
        parameters += [("code_challenge", "(made when sent)"), ("code_challenge_method", "S256")]
    return authorization_request.build(endpoint, parameters).url


def _form_page(
    request: Request, values: dict[str, Any], *, problem: str = "", status_code: int = 200
) -> Response:
    return request.app.state.templates.TemplateResponse(
        request,
        "debugger.html",
        {
            "page_title": "OAuth debugger",
            "values": values,
            "problem": problem,
            "response_types": RESPONSE_TYPES,
            "response_modes": RESPONSE_MODES,
            "prompts": PROMPTS,
            "preview": preview_url(request.app.state.settings, values),
            "reopen": reopen_link(values),
        },
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


def _prefilled(settings: AwesomeServiceSettings, query: QueryParams) -> dict[str, Any]:
    """The defaults, with what the link's query string says (a one-click URL for each flow)."""
    values = _defaults(settings)
    for name in PREFILLABLE:
        if name in query:
            values[name] = query[name].strip()[:_MAX_FIELD]
    values["response_type"] = canonical_response_type(values["response_type"]) or "code"
    if values["response_mode"] not in RESPONSE_MODES:
        values["response_mode"] = ""
    if values["prompt"] not in PROMPTS:
        values["prompt"] = ""
    if "pkce" in query:
        values["pkce"] = query["pkce"].lower() not in ("", "0", "off", "false", "no")
    return values


@router.get("/debugger")
async def debugger_form(request: Request, settings: SettingsDep) -> Response:
    """The composer: Mockgram by default, any provider by its discovery URL; pre-filled by
    the query string (/debugger?response_type=code+id_token&response_mode=form_post)."""
    return _form_page(request, _prefilled(settings, request.query_params))


def _problem(exc: Exception) -> DebuggerProblem:
    """What the reader is told when no usable provider was found at the address given."""
    if isinstance(exc, NotADiscoveryAddress) and exc.reason == "query_or_fragment":
        return DebuggerProblem("An issuer or discovery URL has no query and no fragment.")
    if isinstance(exc, NotADiscoveryAddress):
        return DebuggerProblem(
            f"Give the issuer, or a URL ending in {OIDC_DISCOVERY_PATH} (OIDC Discovery §4) or "
            f"holding {OAUTH_METADATA_PATH} (RFC 8414 §3)."
        )
    if isinstance(exc, IssuerMismatch):
        return DebuggerProblem(
            f"Issuer mismatch: {exc.url} names the issuer “{exc.named}”, but a document at that "
            f"address must name “{exc.expected}”, character for character (OpenID Connect "
            "Discovery §4.3, RFC 8414 §3.3). Its endpoints and keys cannot be trusted for this "
            "provider — one provider posing as another (a mix-up) would look just like this — "
            "so nothing was sent."
        )
    if isinstance(exc, NoDocument) and exc.reason == "unreachable":
        return DebuggerProblem(f"Could not fetch {exc.url}: {exc.detail}.")
    if isinstance(exc, NoDocument) and exc.reason == "no_authorization_endpoint":
        return DebuggerProblem(f"{exc.url} names no authorization_endpoint.")
    if isinstance(exc, NoDocument):
        return DebuggerProblem(f"{exc.url} answered {exc.detail}, not a discovery document.")
    return DebuggerProblem(str(exc))


async def _discover(
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    discovery_url: str,
    guard: DestinationGuard,
) -> dict[str, Any]:
    """The provider's checked discovery document; Mockgram's when no URL is given. The document
    and the endpoints it names that this server will call must be Mockgram's or public."""

    async def allowed(url: str, what: str) -> None:
        await guard.check(url, what=what)

    try:
        _url, document = await find_document(
            http, settings, discovery_url or settings.mockgram_url, allowed=allowed
        )
    except (NotADiscoveryAddress, ForbiddenDestination, IssuerMismatch, NoDocument) as exc:
        raise _problem(exc) from exc
    return document


@router.post("/debugger")
async def send_request(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    http: HttpDep,
    events: EventsDep,
) -> Response:
    """Store the request here (with the PKCE verifier and any secret), then send the browser."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    values = {
        name: text(form, name).strip()[:_MAX_FIELD] for name in (*PREFILLABLE, "client_secret")
    }
    values["pkce"] = text(form, "pkce") == "on"
    values["par"] = text(form, "par") == "on"
    values["response_type"] = canonical_response_type(values["response_type"])
    shown = {**values, "client_secret": ""}  # never echoed back into the page
    if not values["response_type"]:
        return _form_page(request, shown, problem="Pick a response type.", status_code=400)
    if values["response_mode"] not in RESPONSE_MODES:
        return _form_page(request, shown, problem="Pick a response mode.", status_code=400)
    if values["prompt"] not in PROMPTS:
        return _form_page(request, shown, problem="Pick a prompt.", status_code=400)
    if not values["client_id"] or not values["redirect_uri"]:
        return _form_page(
            request, shown, problem="client_id and redirect_uri are needed.", status_code=400
        )
    try:
        document = await _discover(
            http, settings, values["discovery_url"], request.app.state.destination_guard
        )
    except DebuggerProblem as problem:
        return _form_page(request, shown, problem=str(problem), status_code=400)
    sent = _request_to_send(settings, values, document)
    if values["par"]:
        try:
            sent.url = await _pushed_url(http, settings, events, sent, document)
        except DebuggerProblem as problem:
            return _form_page(request, shown, problem=str(problem), status_code=400)
    await database.run(_remember, sent)
    title = "Debugger: authorization request sent"
    await events.announce(AuthorizationRequestSent(sent.url, title=title))
    return RedirectResponse(sent.url, status_code=303)


def _request_to_send(
    settings: AwesomeServiceSettings, values: dict[str, Any], document: dict[str, Any]
) -> DebuggerRequest:
    """The composed request, built and remembered with what step 5 will need."""
    state = values["state"] or new_state()
    # RFC 7636 protects a code: without one there is nothing for a verifier to bind.
    has_code = "code" in values["response_type"].split()
    verifier = pkce.make_verifier() if values["pkce"] and has_code else ""
    secret = values["client_secret"]
    if (
        not secret
        and has_code
        and values["client_id"] == settings.debugger_client_id
        and document.get("issuer") == settings.mockgram_url
    ):
        secret = settings.debugger_client_secret  # the seeded debugger client's, never shown
    parameters = authorization_request.request_parameters(
        client_id=values["client_id"],
        redirect_uri=values["redirect_uri"],
        scope=values["scope"],
        response_type=values["response_type"],
        response_mode=values["response_mode"],
        state=state,
        nonce=values["nonce"],
        code_verifier=verifier,
        prompt=values["prompt"],
    )
    endpoint = document["authorization_endpoint"]
    ctx = current()
    return DebuggerRequest(
        inspector_id=ctx.inspector_id if ctx else "",
        state_hash=hash_secret(state),
        state=state,
        issuer=str(document.get("issuer", "")),
        authorization_endpoint=endpoint,
        token_endpoint=str(document.get("token_endpoint", "")),
        jwks_uri=str(document.get("jwks_uri", "")),
        client_id=values["client_id"],
        client_secret=secret,
        redirect_uri=values["redirect_uri"],
        scope=values["scope"],
        response_type=values["response_type"],
        response_mode=values["response_mode"],
        nonce=values["nonce"],
        code_verifier=verifier,
        url=authorization_request.build(endpoint, parameters).url,
    )


async def _pushed_url(
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    events: Events,
    sent: DebuggerRequest,
    document: dict[str, Any],
) -> str:
    """Push the composed request (RFC 9126 §2); the short URL the browser follows (§4)."""
    endpoint = document.get("pushed_authorization_request_endpoint")
    if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
        raise DebuggerProblem("This provider's discovery document names no PAR endpoint.")
    if not on_mockgram(endpoint, settings):
        raise DebuggerProblem("The debugger pushes requests to Mockgram only.")
    full = authorization_request.AuthorizationRequest(
        sent.url, parse_qsl(sent.url.split("?", 1)[1], keep_blank_values=True)
    )
    client = token_endpoint.Client(
        sent.client_id,
        sent.client_secret,
        token_endpoint.auth_method(
            document.get("token_endpoint_auth_methods_supported"),
            has_secret=bool(sent.client_secret),
        ),
    )
    try:
        pushed = await par.push(
            http,
            events,
            back_channel(endpoint, settings),
            client,
            full,
            authorization_endpoint=sent.authorization_endpoint,
        )
    except token_endpoint.TokenError as exc:
        raise DebuggerProblem(
            f"Mockgram refused the pushed request: {exc.error} {exc.description}".strip()
        ) from exc
    except MockgramUnavailable as exc:
        raise DebuggerProblem(f"The push failed: {exc.detail}") from exc
    return pushed.short.url


def _remember(session: Session, sent: DebuggerRequest) -> None:
    """Keep a request until its answer comes; unanswered ones (and any secret in them) are
    forgotten after an hour."""
    session.exec(
        delete(DebuggerRequest).where(
            col(DebuggerRequest.created_at) < utcnow() - timedelta(seconds=KEEP_SECONDS)
        )
    )
    session.add(sent)


def _find(session: Session, state: str) -> DebuggerRequest | None:
    """The request this browser sent with `state`: an answer to someone else's is not ours."""
    ctx = current()
    if not state or ctx is None:
        return None
    return session.exec(
        select(DebuggerRequest).where(
            DebuggerRequest.state_hash == hash_secret(state),
            DebuggerRequest.inspector_id == ctx.inspector_id,
        )
    ).first()


async def _decoded(
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    pending: DebuggerRequest | None,
    values: dict[str, str],
    *,
    front_channel: bool,
) -> list[dict[str, Any]]:
    """Each JWT decoded, its signature checked with the provider's JWKS, its claims checked."""
    out = []
    jwks_url = back_channel(pending.jwks_uri, settings) if pending and pending.jwks_uri else None
    for label in ("id_token", "access_token"):
        token = values.get(label, "")
        if not jwts.looks_like_jwt(token):
            continue
        decoded = (await jwts.decode(label, token, http=http, jwks_url=jwks_url)).as_dict()
        decoded["expiry"] = jwts.expiry_in_words(decoded["claims"].get("exp"))
        if label == "id_token" and pending is not None:
            decoded["checks"] = _claim_checks(decoded["claims"], pending) + _hash_checks(
                decoded["claims"],
                str(decoded["header"].get("alg", "")),
                code=values.get("code", ""),
                access_token=values.get("access_token", ""),
                front_channel=front_channel,
            )
        else:
            decoded["checks"] = []
        out.append(decoded)
    return out


def _hash_checks(
    claims: dict[str, Any], alg: str, *, code: str, access_token: str, front_channel: bool
) -> list[tuple[str, bool, str]]:
    """c_hash and at_hash tie the code and the access token that came with it to the id_token.

    From the authorization endpoint they are required beside a code (OIDC Core §3.3.2.11) and
    beside an access token (§3.2.2.10, §3.3.2.11); from the token endpoint they are optional.
    """
    checks = []
    for claim, value, what, reference in (
        ("c_hash", code, "the code", "OIDC Core §3.3.2.11"),
        ("at_hash", access_token, "the access_token", "OIDC Core §3.2.2.10, §3.3.2.11"),
    ):
        outcome = hash_check(claims, claim, value, alg)
        if outcome == "absent" and value and front_channel:
            checks.append((f"{claim} is there, as required beside {what}", False, reference))
        elif outcome in ("ok", "mismatch"):
            checks.append((f"{claim} matches {what}", outcome == "ok", reference))
    return checks


def _claim_checks(claims: dict[str, Any], pending: DebuggerRequest) -> list[tuple[str, bool, str]]:
    """OIDC Core §3.1.3.7: iss, aud and nonce of an id_token, as (check, ok, reference)."""
    checks = [
        ("iss equals the issuer", claims.get("iss") == pending.issuer, "OIDC Core §3.1.3.7 (2)"),
        (
            "aud contains the client_id",
            pending.client_id in audiences_of(claims),
            "OIDC Core §3.1.3.7 (3)",
        ),
    ]
    if pending.nonce:
        checks.append(
            (
                "nonce equals the one sent",
                nonce_matches(claims, pending.nonce),
                "OIDC Core §3.1.3.7 (11)",
            )
        )
    return checks


def _iss_ok(values: dict[str, str], pending: DebuggerRequest | None) -> bool | None:
    """RFC 9207 §2.4: whether the answer's iss is the issuer asked (None: nothing to compare)."""
    if pending is None or "iss" not in values:
        return None
    try:
        check_issuer(values["iss"], pending.issuer)
    except CallbackRefused:
        return False
    return True


async def _result_page(
    request: Request,
    database: Database,
    settings: AwesomeServiceSettings,
    http: httpx.AsyncClient,
    received: list[tuple[str, str]],
    mode: str,
) -> Response:
    values = dict(received)
    pending = await database.run(_find, values.get("state", ""))
    if pending is not None:  # for the "Which response type?" comparison
        await database.run(note_front_channel, pending.response_type, mode, received)
    # An access token straight from the front channel (token, code token…) may be tried in the
    # request console too, by this browser session only.
    console_ready = (
        pending is not None
        and pending.issuer == settings.mockgram_url
        and bool(values.get("access_token"))
    )
    if console_ready and pending is not None:
        owner = f"browser:{browser_binding(request)}"
        await database.run(keep_debugger_tokens, owner, pending.client_id, values)
    error = values.get("error", "")[:64]
    return request.app.state.templates.TemplateResponse(
        request,
        "debugger_result.html",
        {
            "page_title": "OAuth debugger: the answer",
            "mode": mode,
            "received": [
                (name, redact_value(name, value), meaning(name)[0]) for name, value in received
            ],
            "pending": pending,
            "reopen": reopen_from(settings, pending),
            "state_ok": pending is not None,
            "iss_ok": _iss_ok(values, pending),
            "error": error,
            "error_description": values.get("error_description", "")[:300],
            "error_explained": explain_error(error) if error else "",
            "error_link": error_link(
                settings, pending, error, values.get("error_uri", ""), token_endpoint=False
            )
            if error
            else None,
            "code": values.get("code", ""),
            "state": values.get("state", ""),
            "jwts": await _decoded(http, settings, pending, values, front_channel=True),
            "exchange": None,
            "client_auth": "",
            "console_ready": console_ready,
        },
        status_code=400 if error else 200,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/debugger/callback")
async def callback(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    http: HttpDep,
    events: EventsDep,
) -> Response:
    """The answer in the query; an empty query means it may be in the fragment (JS posts it)."""
    received = list(request.query_params.multi_items())
    if not received:
        return request.app.state.templates.TemplateResponse(
            request,
            "debugger_fragment.html",
            {"page_title": "OAuth debugger: reading the fragment"},
            headers={"Cache-Control": "no-store"},
        )
    title = "Debugger: the answer, in the query"
    await events.announce(CallbackReceived(str(request.url), title=title))
    return await _result_page(request, database, settings, http, received, "query")


@router.post("/debugger/callback")
async def callback_posted(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    http: HttpDep,
    events: EventsDep,
) -> Response:
    """form_post mode (the provider's auto-submitted form) or the fragment, posted by our JS."""
    form = await request.form()
    received = [(k, v) for k, v in form.multi_items() if isinstance(v, str) and k != "_mode"]
    if not text(form, "_mode") and INSPECTOR_COOKIE not in request.cookies:
        # A cross-site POST carries no SameSite=Lax cookies: relay it once from this origin,
        # so the answer is shown in John's own session (and none is created over his).
        return request.app.state.templates.TemplateResponse(
            request,
            "debugger_fragment.html",
            {"page_title": "OAuth debugger: reading the answer", "relay": received},
            headers={"Cache-Control": "no-store"},
        )
    mode = "fragment" if text(form, "_mode") == "fragment" else "form_post"
    url = f"{settings.url}/debugger/callback?{urlencode(received)}"
    title = f"Debugger: the answer, by {mode}"
    await events.announce(CallbackReceived(url, title=title, mode=mode))
    return await _result_page(request, database, settings, http, received, mode)


def error_link(
    settings: AwesomeServiceSettings,
    pending: DebuggerRequest | None,
    error: str,
    error_uri: str,
    *,
    token_endpoint: bool,
) -> tuple[str, str]:
    """(URL, words) to read more on an error: the provider's own error_uri when it sent one,
    Mockgram's explanation for Mockgram, else the specification's section — never Mockgram's
    page for another provider's error."""
    if pending is not None and error_uri.startswith(("https://", "http://")):
        return error_uri[:_MAX_FIELD], f"The provider's page on “{error}” (error_uri)"
    if pending is not None and pending.issuer == settings.mockgram_url:
        return f"/errors/{quote(error, safe='')}", f"More on “{error}”"
    if error in OIDC_ERRORS:
        return f"{OIDC_CORE}#AuthError", f"“{error}” in OpenID Connect Core §3.1.2.6"
    if token_endpoint:
        return f"{RFC_6749}#section-5.2", f"“{error}” in RFC 6749 §5.2"
    return f"{RFC_6749}#section-4.1.2.1", f"“{error}” in RFC 6749 §4.1.2.1"


def _note_exchanged(session: Session, pending: DebuggerRequest) -> None:
    """The code was traded: note when, and forget the secret."""
    pending.exchanged_at = utcnow()
    pending.client_secret = ""  # used once; nothing secret is kept longer than needed
    session.add(pending)


def _auth_note(method: str, offered: object) -> str:
    """Why the client authenticated the way it did, in words."""
    if method == "client_secret_post":
        listed = ", ".join(str(m) for m in offered[:8]) if isinstance(offered, list) else ""
        return (
            "client_secret_post: the client_id and secret in the form body, as the provider's "
            f"token_endpoint_auth_methods_supported ({listed or 'empty'}) does not list "
            "client_secret_basic (RFC 6749 §2.3.1, RFC 8414 §2)."
        )
    if method == "client_secret_basic":
        return "client_secret_basic: the client_id and secret in a Basic header (RFC 6749 §2.3.1)."
    return "none: no secret, the client_id alone in the form body (a public client, RFC 6749 §2.1)."


def _answer_of(response: httpx.Response) -> dict[str, Any]:
    """The token endpoint's JSON answer as it came, or a stand-in error saying why there is none."""
    try:
        answer = response.json()
    except ValueError:
        return {"error": "not_json", "error_description": "The answer was not JSON."}
    if not isinstance(answer, dict):
        return {"error": "not_json", "error_description": "The answer was not a JSON object."}
    return answer


async def _trade(
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    pending: DebuggerRequest,
    client: token_endpoint.Client,
    code: str,
) -> tuple[dict[str, Any], int, str | None]:
    """Step 5 (RFC 6749 §4.1.3): the answer to the code and verifier sent, its status, and the
    DPoP proof sent with it (RFC 9449 §5) when the client has a key."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": pending.redirect_uri}
    if pending.code_verifier:
        form["code_verifier"] = pending.code_verifier  # RFC 7636 §4.5
    url = back_channel(pending.token_endpoint, settings)
    try:
        response = await token_endpoint.post_with_proof(http, url, client, form)
    except MockgramUnavailable as exc:
        return {"error": "unreachable", "error_description": exc.kind}, 0, None
    return _answer_of(response), response.status_code, response.request.headers.get("dpop")


def _proof_shown(proof: str | None) -> list[dict[str, Any]]:
    """The DPoP proof sent with the token request, decoded for the page (RFC 9449 §4.2)."""
    decoded = jwts.dpop_proof(proof) if proof else None
    if decoded is None:
        return []
    return [decoded.as_dict() | {"expiry": "A proof is used once, within minutes of its iat."}]


@router.get("/debugger/exchange")
def exchange_reloaded() -> Response:
    """A reload or bookmark of the token response: the code is spent, so back to the form."""
    return RedirectResponse("/debugger", status_code=303)


@router.post("/debugger/exchange")
async def exchange(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    http: HttpDep,
    templates: TemplatesDep,
) -> Response:
    """Step 5 for the debugger: trade the code over the back channel (RFC 6749 §4.1.3)."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    pending = await database.run(_find, text(form, "state"))
    code = text(form, "code")
    if pending is None or not code or not pending.token_endpoint:
        return _form_page(
            request,
            _defaults(settings),
            problem="That answer does not belong to a request made here, or its provider has "
            "no token endpoint. Compose a new request.",
            status_code=400,
        )
    try:
        # The issuer was checked when the request was sent; its metadata says how to authenticate.
        document = await _discover(
            http, settings, pending.issuer, request.app.state.destination_guard
        )
    except DebuggerProblem as problem:
        return _form_page(request, _defaults(settings), problem=str(problem), status_code=400)
    offered = document.get("token_endpoint_auth_methods_supported")
    method = token_endpoint.auth_method(offered, has_secret=bool(pending.client_secret))
    client = token_endpoint.Client(pending.client_id, pending.client_secret, method)
    if text(form, "dpop"):
        # RFC 9449 §5: a fresh key for this one exchange; htu names the public token endpoint.
        origin = str(httpx.URL(pending.token_endpoint).copy_with(path="/", query=None))
        client = replace(client, dpop=DpopSender(DpopKey.generate(), origin.rstrip("/")))
    answer, status, proof = await _trade(http, settings, pending, client, code)
    await database.run(_note_exchanged, pending)
    await database.run(note_back_channel, pending.response_type, answer)
    # Mockgram's tokens may be tried in the request console, by this browser session only.
    console_ready = pending.issuer == settings.mockgram_url and isinstance(
        answer.get("access_token"), str
    )
    if console_ready:
        owner = f"browser:{browser_binding(request)}"
        await database.run(keep_debugger_tokens, owner, pending.client_id, answer)
    error = str(answer.get("error", ""))[:64]
    values = {
        name: answer[name]
        for name in ("id_token", "access_token")
        if isinstance(answer.get(name), str)
    }
    return templates.TemplateResponse(
        request,
        "debugger_result.html",
        {
            "page_title": "OAuth debugger: the token response",
            "mode": "token endpoint",
            "received": [],
            "pending": pending,
            "reopen": reopen_from(settings, pending),
            "state_ok": True,
            "iss_ok": None,
            "error": error,
            "error_description": str(answer.get("error_description", ""))[:300],
            "error_explained": explain_error(error) if error else "",
            "error_link": error_link(
                settings, pending, error, str(answer.get("error_uri", "")), token_endpoint=True
            )
            if error
            else None,
            "code": "",
            "state": "",
            # A c_hash here is optional (OIDC Core §3.3.2.11), checked against the code sent.
            "jwts": await _decoded(
                http, settings, pending, {**values, "code": code}, front_channel=False
            )
            + _proof_shown(proof),
            "client_auth": _auth_note(method, offered),
            "exchange": {"status": status, "body": redact_json(answer)},
            "console_ready": console_ready,
        },
        status_code=200 if not error else 400,
        headers={"Cache-Control": "no-store"},
    )
