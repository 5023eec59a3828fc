"""The OAuth debugger: compose an authorization request, send it, and see what came back.

Like the OAuth and OIDC debuggers the article recommends, built in. Any provider found by its
discovery document (OpenID Connect Discovery §4, RFC 8414 §3) works; Mockgram is the default.
The optional client secret stays on this server, used only for the code exchange (step 5).
"""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import quote_plus, urlencode, urlsplit

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import delete
from sqlmodel import Session, col, select

from awesomeservice.db import SessionDep
from awesomeservice.deps import HttpDep, SettingsDep, TemplatesDep
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
from shared.forms import text
from shared.hashing import hash_secret
from shared.response_types import RESPONSE_TYPES  # the list the specifications define
from shared.web import csrf_refused

router = APIRouter()

RESPONSE_MODES = ["", "query", "fragment", "form_post"]
_MAX_FIELD = 2000
KEEP_SECONDS = 3600


class DebuggerProblem(Exception):
    """Something the reader can fix in the form; shown above it."""


def _defaults(settings: AwesomeServiceSettings) -> dict[str, Any]:
    return {
        "discovery_url": "",
        "client_id": settings.client_id,
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


@router.get("/debugger")
async def debugger_form(request: Request, settings: SettingsDep) -> Response:
    """The composer: Mockgram by default, any provider by its discovery URL."""
    return _form_page(request, _defaults(settings))


def back_channel_url(settings: AwesomeServiceSettings, url: str) -> str:
    """Mockgram's public URLs are reached at its internal URL from here (docker compose)."""
    public = settings.mockgram_url
    if url == public or url.startswith(public + "/"):
        return settings.back_channel_url + url[len(public) :]
    return url


def _allowed_discovery_url(settings: AwesomeServiceSettings, url: str) -> bool:
    """https anywhere; plain http only for Mockgram itself (no requests to other local ports)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.netloc:
        return True
    return url == settings.mockgram_url or url.startswith(settings.mockgram_url + "/")


async def _discover(
    http: httpx.AsyncClient, settings: AwesomeServiceSettings, discovery_url: str
) -> dict[str, Any]:
    """Fetch and check a discovery document; Mockgram's when no URL is given.

    An issuer URL is tried at OIDC Discovery §4's address, then at RFC 8414 §3's.
    """
    base = discovery_url or settings.mockgram_url
    if not _allowed_discovery_url(settings, base):
        raise DebuggerProblem("The discovery URL must be an https:// address (or Mockgram's).")
    if "/.well-known/" in base:
        candidates = [base]
    else:
        base = base.rstrip("/")
        candidates = [
            f"{base}/.well-known/openid-configuration",
            f"{base}/.well-known/oauth-authorization-server",
        ]
    problem = ""
    for url in candidates:
        try:
            response = await http.get(back_channel_url(settings, url))
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
            return document
        problem = f"{url} answered {response.status_code}, not a discovery document."
    raise DebuggerProblem(problem)


@router.post("/debugger")
async def send_request(
    request: Request, session: SessionDep, settings: SettingsDep, http: HttpDep
) -> Response:
    """Store the request here (with the PKCE verifier and any secret), then send the browser."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    values = {
        name: text(form, name).strip()[:_MAX_FIELD]
        for name in (
            "discovery_url",
            "client_id",
            "client_secret",
            "redirect_uri",
            "response_type",
            "response_mode",
            "scope",
            "state",
            "nonce",
        )
    }
    values["pkce"] = text(form, "pkce") == "on"
    shown = {**values, "client_secret": ""}  # never echoed back into the page
    if values["response_type"] not in RESPONSE_TYPES:
        return _form_page(request, shown, problem="Pick a response type.", status_code=400)
    if values["response_mode"] not in RESPONSE_MODES:
        return _form_page(request, shown, problem="Pick a response mode.", status_code=400)
    if not values["client_id"] or not values["redirect_uri"]:
        return _form_page(
            request, shown, problem="client_id and redirect_uri are needed.", status_code=400
        )
    try:
        document = await _discover(http, settings, values["discovery_url"])
    except DebuggerProblem as problem:
        return _form_page(request, shown, problem=str(problem), status_code=400)

    state = values["state"] or secrets.token_urlsafe(16)
    verifier = pkce.make_verifier() if values["pkce"] else ""
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
    # Unanswered requests (and any secret in them) are forgotten after an hour.
    session.exec(
        delete(DebuggerRequest).where(
            col(DebuggerRequest.created_at) < utcnow() - timedelta(seconds=KEEP_SECONDS)
        )
    )
    session.add(
        DebuggerRequest(
            inspector_id=ctx.inspector_id if ctx else "",
            state_hash=hash_secret(state),
            state=state,
            issuer=str(document.get("issuer", "")),
            authorization_endpoint=endpoint,
            token_endpoint=str(document.get("token_endpoint", "")),
            jwks_uri=str(document.get("jwks_uri", "")),
            client_id=values["client_id"],
            client_secret=values["client_secret"],
            redirect_uri=values["redirect_uri"],
            scope=values["scope"],
            response_type=values["response_type"],
            response_mode=values["response_mode"],
            nonce=values["nonce"],
            code_verifier=verifier,
            url=url,
        )
    )
    session.commit()
    recorder.record_authorization_request(url, title="Debugger: authorization request sent")
    return RedirectResponse(url, status_code=303)


def _find(session: Session, state: str) -> DebuggerRequest | None:
    if not state:
        return None
    return session.exec(
        select(DebuggerRequest).where(DebuggerRequest.state_hash == hash_secret(state))
    ).first()


async def _decoded(
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    pending: DebuggerRequest | None,
    tokens: list[tuple[str, str]],
) -> list[dict[str, Any]]:
    """Each JWT decoded, its signature checked with the provider's JWKS, its claims checked."""
    out = []
    jwks_url = (
        back_channel_url(settings, pending.jwks_uri) if pending and pending.jwks_uri else None
    )
    for label, token in tokens:
        if not jwts.looks_like_jwt(token):
            continue
        decoded = (await jwts.decode(label, token, http=http, jwks_url=jwks_url)).as_dict()
        decoded["expiry"] = jwts.expiry_in_words(decoded["claims"].get("exp"))
        decoded["checks"] = _claim_checks(label, decoded["claims"], pending)
        out.append(decoded)
    return out


def _claim_checks(
    label: str, claims: dict[str, Any], pending: DebuggerRequest | None
) -> list[tuple[str, bool, str]]:
    """OIDC Core §3.1.3.7: iss, aud and nonce of an id_token, as (check, ok, reference)."""
    if label != "id_token" or pending is None:
        return []
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
    session: Session,
    settings: AwesomeServiceSettings,
    http: httpx.AsyncClient,
    received: list[tuple[str, str]],
    mode: str,
) -> Response:
    values = dict(received)
    pending = _find(session, values.get("state", ""))
    tokens = [(name, values[name]) for name in ("id_token", "access_token") if values.get(name)]
    error = values.get("error", "")
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
            "error": error[:64],
            "error_description": values.get("error_description", "")[:300],
            "error_explained": explain_error(error) if error else "",
            "code": values.get("code", ""),
            "state": values.get("state", ""),
            "jwts": await _decoded(http, settings, pending, tokens),
            "exchange": None,
        },
        status_code=400 if error else 200,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/debugger/callback")
async def callback(
    request: Request, session: SessionDep, settings: SettingsDep, http: HttpDep
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
    recorder.record_callback(str(request.url), title="Debugger: the answer, in the query")
    return await _result_page(request, session, settings, http, received, "query")


@router.post("/debugger/callback")
async def callback_posted(
    request: Request, session: SessionDep, settings: SettingsDep, http: HttpDep
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
    recorder.record_callback(url, title=f"Debugger: the answer, by {mode}")
    return await _result_page(request, session, settings, http, received, mode)


def _client_auth(pending: DebuggerRequest) -> tuple[dict[str, str], dict[str, str]]:
    """RFC 6749 §2.3.1 client_secret_basic when a secret was given, else client_id in the body."""
    if pending.client_secret:
        pair = f"{quote_plus(pending.client_id)}:{quote_plus(pending.client_secret)}"
        basic = base64.b64encode(pair.encode()).decode()
        return {"Authorization": f"Basic {basic}"}, {}
    return {}, {"client_id": pending.client_id}


@router.post("/debugger/exchange")
async def exchange(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    http: HttpDep,
    templates: TemplatesDep,
) -> Response:
    """Step 5 for the debugger: trade the code over the back channel (RFC 6749 §4.1.3)."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    pending = _find(session, text(form, "state"))
    code = text(form, "code")
    if pending is None or not code or not pending.token_endpoint:
        return _form_page(
            request,
            _defaults(settings),
            problem="That answer does not belong to a request made here, or its provider has "
            "no token endpoint. Compose a new request.",
            status_code=400,
        )
    headers, body = _client_auth(pending)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": pending.redirect_uri}
    if pending.code_verifier:
        data["code_verifier"] = pending.code_verifier  # RFC 7636 §4.5
    try:
        response = await http.post(
            back_channel_url(settings, pending.token_endpoint),
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
    pending.exchanged_at = utcnow()
    pending.client_secret = ""  # used once; nothing secret is kept longer than needed
    session.add(pending)
    session.commit()
    error = str(answer.get("error", ""))[:64]
    tokens = [
        (name, answer[name])
        for name in ("id_token", "access_token")
        if isinstance(answer.get(name), str)
    ]
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
            "code": "",
            "state": "",
            "jwts": await _decoded(http, settings, pending, tokens),
            "exchange": {
                "status": response.status_code if response is not None else 0,
                "body": redact_json(answer),
            },
        },
        status_code=200 if not error else 400,
        headers={"Cache-Control": "no-store"},
    )
