"""The OAuth debugger: compose an authorization request, send it, and see what came back.

Like the OAuth and OIDC debuggers the article recommends, built in. Any provider found by its
discovery document (OpenID Connect Discovery §4, RFC 8414 §3) works, once the document names
the issuer its URL promised (§4.3, §3.3); Mockgram is the default, with the client it seeds for
the debugger (every response type). The form can be pre-filled from the query string, e.g.
`/debugger?response_type=code+id_token&response_mode=form_post`, a secret excepted. The optional
client secret stays on this server, used only for the code exchange (step 5), in the way the
provider's metadata accepts (client_secret_basic, else client_secret_post; RFC 6749 §2.3.1).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import quote, quote_plus, urlencode, urlsplit

import httpx
from fastapi import APIRouter, Request
from fastapi.datastructures import QueryParams
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import delete
from sqlmodel import Session, col, select

from awesomeservice.db import DatabaseDep
from awesomeservice.deps import HttpDep, SettingsDep, TemplatesDep
from awesomeservice.destinations import DestinationGuard, ForbiddenDestination
from awesomeservice.discovery import back_channel, secret_auth_method
from awesomeservice.inspector import jwts, recorder
from awesomeservice.inspector.context import COOKIE as INSPECTOR_COOKIE
from awesomeservice.inspector.context import current
from awesomeservice.inspector.params import explain_error, meaning
from awesomeservice.inspector.redact import redact_json, redact_value
from awesomeservice.models import DebuggerRequest
from awesomeservice.settings import AwesomeServiceSettings
from shared import pkce
from shared.clock import utcnow
from shared.csrf import csrf_ok
from shared.db import Database
from shared.forms import text
from shared.hashing import constant_equals, hash_secret
from shared.response_types import RESPONSE_TYPES  # the list the specifications define
from shared.web import csrf_refused

router = APIRouter()

RESPONSE_MODES = ["", "query", "fragment", "form_post"]
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
)
OIDC_WELL_KNOWN = "/.well-known/openid-configuration"  # OIDC Discovery §4.1: appended
OAUTH_WELL_KNOWN = "/.well-known/oauth-authorization-server"  # RFC 8414 §3.1: inserted
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
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        "pkce": True,
    }


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
        },
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


def canonical_response_type(value: str) -> str:
    """The response type with its words in canonical order ("id_token code" → "code id_token");
    empty when it is not one the specifications define (Multiple Response Types §5)."""
    words = frozenset(value.split())
    return next((rt for rt in RESPONSE_TYPES if frozenset(rt.split()) == words), "")


def _prefilled(settings: AwesomeServiceSettings, query: QueryParams) -> dict[str, Any]:
    """The defaults, with what the link's query string says (a one-click URL for each flow)."""
    values = _defaults(settings)
    for name in PREFILLABLE:
        if name in query:
            values[name] = query[name].strip()[:_MAX_FIELD]
    values["response_type"] = canonical_response_type(values["response_type"]) or "code"
    if values["response_mode"] not in RESPONSE_MODES:
        values["response_mode"] = ""
    if "pkce" in query:
        values["pkce"] = query["pkce"].lower() not in ("", "0", "off", "false", "no")
    return values


@router.get("/debugger")
async def debugger_form(request: Request, settings: SettingsDep) -> Response:
    """The composer: Mockgram by default, any provider by its discovery URL; pre-filled by
    the query string (/debugger?response_type=code+id_token&response_mode=form_post)."""
    return _form_page(request, _prefilled(settings, request.query_params))


def discovery_candidates(address: str) -> list[tuple[str, str]]:
    """(document URL, the issuer it must name) for an issuer or a discovery document's URL.

    OIDC Discovery §4.1 appends /.well-known/openid-configuration to the issuer; RFC 8414 §3.1
    inserts /.well-known/oauth-authorization-server between its host and its path. An issuer
    is tried at the first address, then at the second.
    """
    parts = urlsplit(address)
    if parts.query or parts.fragment:
        raise DebuggerProblem("An issuer or discovery URL has no query and no fragment.")
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    if path.endswith(OIDC_WELL_KNOWN):
        return [(origin + path, origin + path[: -len(OIDC_WELL_KNOWN)])]
    if path == OAUTH_WELL_KNOWN or path.startswith(OAUTH_WELL_KNOWN + "/"):
        return [(origin + path, origin + path[len(OAUTH_WELL_KNOWN) :])]
    if "/.well-known/" in path:
        raise DebuggerProblem(
            f"Give the issuer, or a URL ending in {OIDC_WELL_KNOWN} (OIDC Discovery §4) or "
            f"holding {OAUTH_WELL_KNOWN} (RFC 8414 §3)."
        )
    issuer = origin + path
    return [(issuer + OIDC_WELL_KNOWN, issuer), (origin + OAUTH_WELL_KNOWN + path, issuer)]


def check_issuer(document: dict[str, Any], url: str, expected: str) -> None:
    """OIDC Discovery §4.3, RFC 8414 §3.3: the issuer MUST be the one the URL names, exactly."""
    issuer = document.get("issuer")
    if issuer == expected:
        return
    shown = issuer[:200] if isinstance(issuer, str) else repr(issuer)[:50]
    raise DebuggerProblem(
        f"Issuer mismatch: {url} names the issuer “{shown}”, but a document at that address "
        f"must name “{expected}”, character for character (OpenID Connect Discovery §4.3, "
        "RFC 8414 §3.3). Its endpoints and keys cannot be trusted for this provider — one "
        "provider posing as another (a mix-up) would look just like this — so nothing was sent."
    )


async def _discover(
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    discovery_url: str,
    guard: DestinationGuard,
) -> dict[str, Any]:
    """Fetch and check a discovery document; Mockgram's when no URL is given. The document
    and the endpoints it names that this server will call must be Mockgram's or public."""
    base = discovery_url or settings.mockgram_url
    problem = ""
    for url, expected_issuer in discovery_candidates(base):
        try:
            await guard.check(url, what="discovery URL")
        except ForbiddenDestination as exc:
            raise DebuggerProblem(str(exc)) from exc
        try:
            response = await http.get(back_channel(url, settings))
        except httpx.HTTPError as exc:
            raise DebuggerProblem(f"Could not fetch {url}: {type(exc).__name__}.") from exc
        try:
            document = response.json()
        except ValueError:
            document = None
        if response.status_code == 200 and isinstance(document, dict):
            endpoint = document.get("authorization_endpoint")
            if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
                raise DebuggerProblem(f"{url} names no authorization_endpoint.")
            check_issuer(document, url, expected_issuer)
            for name in ("token_endpoint", "jwks_uri"):  # called from this server later
                if isinstance(document.get(name), str) and document[name]:
                    try:
                        await guard.check(document[name], what=name)
                    except ForbiddenDestination as exc:
                        raise DebuggerProblem(f"{url}: {exc}") from exc
            return document
        problem = f"{url} answered {response.status_code}, not a discovery document."
    raise DebuggerProblem(problem)


@router.post("/debugger")
async def send_request(
    request: Request, database: DatabaseDep, settings: SettingsDep, http: HttpDep
) -> Response:
    """Store the request here (with the PKCE verifier and any secret), then send the browser."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    values = {
        name: text(form, name).strip()[:_MAX_FIELD] for name in (*PREFILLABLE, "client_secret")
    }
    values["pkce"] = text(form, "pkce") == "on"
    values["response_type"] = canonical_response_type(values["response_type"])
    shown = {**values, "client_secret": ""}  # never echoed back into the page
    if not values["response_type"]:
        return _form_page(request, shown, problem="Pick a response type.", status_code=400)
    if values["response_mode"] not in RESPONSE_MODES:
        return _form_page(request, shown, problem="Pick a response mode.", status_code=400)
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

    state = values["state"] or secrets.token_urlsafe(16)
    words = values["response_type"].split()
    # RFC 7636 protects a code: without one there is nothing for a verifier to bind.
    verifier = pkce.make_verifier() if values["pkce"] and "code" in words else ""
    secret = values["client_secret"]
    if (
        not secret
        and "code" in words
        and values["client_id"] == settings.debugger_client_id
        and document.get("issuer") == settings.mockgram_url
    ):
        secret = settings.debugger_client_secret  # the seeded debugger client's, never shown
    parameters = [
        ("client_id", values["client_id"]),
        ("redirect_uri", values["redirect_uri"]),
        ("response_type", values["response_type"]),
        ("scope", values["scope"]),
        ("state", state),
        ("response_mode", values["response_mode"]),
        ("nonce", values["nonce"]),
    ]
    if verifier:
        # RFC 7636 §4.2–4.3: S256 challenge of a fresh verifier kept on this server.
        parameters += [
            ("code_challenge", pkce.s256_challenge(verifier)),
            ("code_challenge_method", "S256"),
        ]
    # RFC 6749 §3.1: empty parameters are treated as absent, so they are left out.
    query = urlencode([(name, value) for name, value in parameters if value])
    endpoint = document["authorization_endpoint"]
    url = f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
    ctx = current()
    sent = DebuggerRequest(
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
        url=url,
    )
    await database.run(_remember, sent)
    await recorder.record_authorization_request(url, title="Debugger: authorization request sent")
    return RedirectResponse(url, status_code=303)


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


def left_half_hash(value: str, alg: str) -> str | None:
    """at_hash / c_hash: Base64url of the left half of the hash the JWS alg uses (OIDC Core
    §3.3.2.11); None for an alg without one (none, or one we do not know)."""
    if alg == "EdDSA":
        digest = hashlib.sha512(value.encode()).digest()  # Ed25519 hashes with SHA-512
    elif alg[-3:] in ("256", "384", "512") and alg[:2] in ("RS", "PS", "ES", "HS"):
        digest = hashlib.new(f"sha{alg[-3:]}", value.encode()).digest()
    else:
        return None
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


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
        present = claims.get(claim)
        if present is None:
            if value and front_channel:
                checks.append((f"{claim} is there, as required beside {what}", False, reference))
            continue
        if not value:
            continue  # nothing it could be compared with
        expected = left_half_hash(value, alg)
        ok = expected is not None and constant_equals(expected, str(present))
        checks.append((f"{claim} matches {what}", ok, reference))
    return checks


def _claim_checks(claims: dict[str, Any], pending: DebuggerRequest) -> list[tuple[str, bool, str]]:
    """OIDC Core §3.1.3.7: iss, aud and nonce of an id_token, as (check, ok, reference)."""
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    checks = [
        ("iss equals the issuer", claims.get("iss") == pending.issuer, "OIDC Core §3.1.3.7 (2)"),
        ("aud contains the client_id", pending.client_id in audiences, "OIDC Core §3.1.3.7 (3)"),
    ]
    if pending.nonce:
        checks.append(
            (
                "nonce equals the one sent",
                claims.get("nonce") == pending.nonce,
                "OIDC Core §3.1.3.7 (11)",
            )
        )
    return checks


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
            "state_ok": pending is not None,
            "iss_ok": (values.get("iss") == pending.issuer)
            if pending and "iss" in values
            else None,
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
        },
        status_code=400 if error else 200,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/debugger/callback")
async def callback(
    request: Request, database: DatabaseDep, settings: SettingsDep, http: HttpDep
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
    await recorder.record_callback(str(request.url), title="Debugger: the answer, in the query")
    return await _result_page(request, database, settings, http, received, "query")


@router.post("/debugger/callback")
async def callback_posted(
    request: Request, database: DatabaseDep, settings: SettingsDep, http: HttpDep
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
    await recorder.record_callback(url, title=f"Debugger: the answer, by {mode}", mode=mode)
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


def token_endpoint_auth_method(document: dict[str, Any], has_secret: bool) -> str:
    """client_secret_basic where the provider takes it (the default, RFC 8414 §2), else
    client_secret_post (RFC 6749 §2.3.1); `none` — client_id in the body — without a secret."""
    if not has_secret:
        return "none"
    return secret_auth_method(document.get("token_endpoint_auth_methods_supported"))


def _client_auth(pending: DebuggerRequest, method: str) -> tuple[dict[str, str], dict[str, str]]:
    """The headers and body fields that authenticate the client by `method` (RFC 6749 §2.3.1)."""
    if method == "client_secret_basic":
        pair = f"{quote_plus(pending.client_id)}:{quote_plus(pending.client_secret)}"
        basic = base64.b64encode(pair.encode()).decode()
        return {"Authorization": f"Basic {basic}"}, {}
    if method == "client_secret_post":
        return {}, {"client_id": pending.client_id, "client_secret": pending.client_secret}
    return {}, {"client_id": pending.client_id}


def _note_exchanged(session: Session, pending: DebuggerRequest) -> None:
    """The code was traded: note when, and forget the secret."""
    pending.exchanged_at = utcnow()
    pending.client_secret = ""  # used once; nothing secret is kept longer than needed
    session.add(pending)


def _auth_note(method: str, document: dict[str, Any]) -> str:
    """Why the client authenticated the way it did, in words."""
    if method == "client_secret_post":
        listed = ", ".join(str(m) for m in document["token_endpoint_auth_methods_supported"][:8])
        return (
            "client_secret_post: the client_id and secret in the form body, as the provider's "
            f"token_endpoint_auth_methods_supported ({listed or 'empty'}) does not list "
            "client_secret_basic (RFC 6749 §2.3.1, RFC 8414 §2)."
        )
    if method == "client_secret_basic":
        return "client_secret_basic: the client_id and secret in a Basic header (RFC 6749 §2.3.1)."
    return "none: no secret, the client_id alone in the form body (a public client, RFC 6749 §2.1)."


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
    method = token_endpoint_auth_method(document, bool(pending.client_secret))
    headers, body = _client_auth(pending, method)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": pending.redirect_uri}
    if pending.code_verifier:
        data["code_verifier"] = pending.code_verifier  # RFC 7636 §4.5
    try:
        response = await http.post(
            back_channel(pending.token_endpoint, settings),
            data={**data, **body},
            headers={**headers, "Accept": "application/json"},
        )
        answer = response.json()
    except httpx.HTTPError as exc:
        answer, response = {"error": "unreachable", "error_description": type(exc).__name__}, None
    except ValueError:
        answer = {"error": "not_json", "error_description": "The answer was not JSON."}
    if not isinstance(answer, dict):
        answer = {"error": "not_json", "error_description": "The answer was not a JSON object."}
    await database.run(_note_exchanged, pending)
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
            ),
            "client_auth": _auth_note(method, document),
            "exchange": {
                "status": response.status_code if response is not None else 0,
                "body": redact_json(answer),
            },
        },
        status_code=200 if not error else 400,
        headers={"Cache-Control": "no-store"},
    )
