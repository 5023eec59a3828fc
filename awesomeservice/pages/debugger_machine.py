"""The OAuth debugger, for a machine: the client credentials grant (RFC 6749 §4.4).

No browser and no person: the form's client authenticates at the provider's token endpoint (as
its metadata accepts, RFC 8414 §2) and asks for a token for itself, with an optional `scope`
and `resource` (RFC 8707). The answer is shown as it came, the access token decoded and its
signature checked against the provider's keys. The provider is found and guarded exactly as
for the debugger's authorization requests (pages/debugger.py `_discover`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from awesomeservice.backchannel import MockgramUnavailable, back_channel
from awesomeservice.deps import HttpDep, SettingsDep, TemplatesDep
from awesomeservice.inspector import jwts
from awesomeservice.inspector.params import explain_error
from awesomeservice.inspector.redact import redact_json
from awesomeservice.oauth import token_endpoint
from awesomeservice.oauth.client_credentials import CLIENT_CREDENTIALS
from awesomeservice.pages.debugger import (
    _MAX_FIELD,
    DebuggerProblem,
    _answer_of,
    _auth_note,
    _defaults,
    _discover,
    _form_page,
)
from awesomeservice.settings import AwesomeServiceSettings
from shared.csrf import csrf_ok
from shared.forms import text
from shared.web import csrf_refused

router = APIRouter()
FIELDS = ("discovery_url", "client_id", "client_secret", "scope", "resource")


async def decoded_access_token(
    answer: dict[str, Any], document: dict[str, Any], settings: AwesomeServiceSettings, http: Any
) -> list[dict[str, Any]]:
    """The answer's access token decoded, its signature checked against the provider's keys
    (none when the token is not a JWT)."""
    token = answer.get("access_token")
    if not isinstance(token, str) or not jwts.looks_like_jwt(token):
        return []
    jwks = document.get("jwks_uri")
    jwks_url = back_channel(jwks, settings) if isinstance(jwks, str) else None
    one = (await jwts.decode("access_token", token, http=http, jwks_url=jwks_url)).as_dict()
    one["expiry"], one["checks"] = jwts.expiry_in_words(one["claims"].get("exp")), []
    return [one]


@router.post("/debugger/client-credentials")
async def client_credentials(
    request: Request, settings: SettingsDep, http: HttpDep, templates: TemplatesDep
) -> Response:
    """RFC 6749 §4.4.2: POST grant_type=client_credentials, then show the answer, decoded."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    values = {name: text(form, name).strip()[:_MAX_FIELD] for name in FIELDS}
    shown = {**_defaults(settings), "discovery_url": values["discovery_url"]}
    client_id = values["client_id"] or settings.debugger_client_id
    try:
        document = await _discover(
            http, settings, values["discovery_url"], request.app.state.destination_guard
        )
    except DebuggerProblem as problem:
        return _form_page(request, shown, problem=str(problem), status_code=400)
    secret = values["client_secret"]
    seeded = client_id == settings.debugger_client_id
    if not secret and seeded and document.get("issuer") == settings.mockgram_url:
        secret = settings.debugger_client_secret  # the seeded debugger client's, never shown
    token_url = document.get("token_endpoint")
    if not secret or not isinstance(token_url, str):
        problem = "Client credentials need a client secret and a token endpoint (RFC 6749 §4.4)."
        return _form_page(request, shown, problem=problem, status_code=400)
    offered = document.get("token_endpoint_auth_methods_supported")
    method = token_endpoint.auth_method(offered, has_secret=True)
    client = token_endpoint.Client(client_id, secret, method)
    fields = {"grant_type": CLIENT_CREDENTIALS}
    fields |= {name: values[name] for name in ("scope", "resource") if values[name]}
    try:
        response = await token_endpoint.post(
            http, back_channel(token_url, settings), client, fields
        )
        answer, status = _answer_of(response), response.status_code
    except MockgramUnavailable as exc:
        answer, status = {"error": "unreachable", "error_description": exc.kind}, 0
    error = str(answer.get("error", ""))[:64]
    decoded = await decoded_access_token(answer, document, settings, http)
    return templates.TemplateResponse(
        request,
        "debugger_result.html",
        {
            "page_title": "OAuth debugger: client credentials",
            "mode": "client credentials (RFC 6749 §4.4)",
            "received": [],
            "pending": None,
            "state_ok": True,
            "iss_ok": None,
            "error": error,
            "error_description": str(answer.get("error_description", ""))[:300],
            "error_explained": explain_error(error) if error else "",
            "error_link": (f"/errors/{error}", f"More on “{error}”") if error else None,
            "code": "",
            "state": "",
            "jwts": decoded,
            "client_auth": _auth_note(method, offered),
            "exchange": {"status": status, "body": redact_json(answer)},
        },
        status_code=400 if error else 200,
        headers={"Cache-Control": "no-store"},
    )
