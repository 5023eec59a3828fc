"""The OAuth debugger, as a device: the device authorization grant (RFC 8628).

The reader's browser plays the device. Start asks the provider's device authorization endpoint
(§3.1, from its metadata, RFC 8414 §2) for codes, as a public client with its client_id alone,
and shows the answer (§3.2): the user_code to type at verification_uri, or the link that
carries it. Each "Poll once" sends grant_type=urn:ietf:params:oauth:grant-type:device_code
with the device_code to the token endpoint (§3.4) and shows the answer as it came:
authorization_pending, slow_down, access_denied, expired_token (§3.5), or the tokens, decoded.
The device_code rides in the page's form: here the reader is the device that holds it. The
provider is found and guarded exactly as for the debugger's other requests.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from awesomeservice.backchannel import MockgramUnavailable, back_channel
from awesomeservice.deps import HttpDep, SettingsDep, TemplatesDep
from awesomeservice.inspector.params import explain_error
from awesomeservice.inspector.redact import redact_json
from awesomeservice.oauth import token_endpoint
from awesomeservice.oauth.device import DEVICE_CODE_GRANT
from awesomeservice.pages.debugger import (
    _MAX_FIELD,
    DebuggerProblem,
    _answer_of,
    _defaults,
    _discover,
    _form_page,
)
from awesomeservice.pages.debugger_machine import decoded_access_token
from awesomeservice.settings import AwesomeServiceSettings
from shared.csrf import csrf_ok
from shared.forms import text
from shared.web import csrf_refused

router = APIRouter()
FIELDS = ("discovery_url", "client_id", "scope", "device_code")
MAX_DEVICE_CODE = 512


@router.post("/debugger/device")
async def device(
    request: Request, settings: SettingsDep, http: HttpDep, templates: TemplatesDep
) -> Response:
    """§3.1 (no device_code yet): ask for codes; §3.4 (with one): poll the token endpoint once."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    values = {name: text(form, name).strip()[:_MAX_FIELD] for name in FIELDS}
    values["client_id"] = values["client_id"] or settings.kiosk_client_id
    shown = {**_defaults(settings), "discovery_url": values["discovery_url"]}
    try:
        document = await _discover(
            http, settings, values["discovery_url"], request.app.state.destination_guard
        )
    except DebuggerProblem as problem:
        return _form_page(request, shown, problem=str(problem), status_code=400)
    endpoint = "token_endpoint" if values["device_code"] else "device_authorization_endpoint"
    url = document.get(endpoint)
    if not isinstance(url, str):
        problem = f"This provider's metadata names no {endpoint} (RFC 8628 §4)."
        return _form_page(request, shown, problem=problem, status_code=400)
    client = token_endpoint.Client(values["client_id"], None, "none")  # §3.1: a public client
    if values["device_code"]:
        fields = {"grant_type": DEVICE_CODE_GRANT, "device_code": values["device_code"]}
    else:
        fields = {"scope": values["scope"]} if values["scope"] else {}
    try:
        response = await token_endpoint.post(http, back_channel(url, settings), client, fields)
        answer, status = _answer_of(response), response.status_code
    except MockgramUnavailable as exc:
        answer, status = {"error": "unreachable", "error_description": exc.kind}, 0
    context = await _page_context(answer, values, document, settings, http)
    return templates.TemplateResponse(
        request,
        "debugger_device.html",
        context | {"status": status, "body": redact_json(answer), "values": values},
        # §3.5: "pending" and "slow down" are the flow going as it should, not a failure.
        status_code=400 if context["error"] and not context["keep_polling"] else 200,
        headers={"Cache-Control": "no-store"},
    )


async def _page_context(
    answer: dict[str, Any],
    values: dict[str, str],
    document: dict[str, Any],
    settings: AwesomeServiceSettings,
    http: Any,
) -> dict[str, Any]:
    """What the page shows: the codes (§3.2), the poll's error (§3.5), or the tokens decoded."""
    error = str(answer.get("error", ""))[:64]
    device_code = answer.get("device_code") or values["device_code"]
    device_code = device_code[:MAX_DEVICE_CODE] if isinstance(device_code, str) else ""
    decoded = await decoded_access_token(answer, document, settings, http)
    return {
        "page_title": "OAuth debugger: the device flow",
        "polled": bool(values["device_code"]),
        "user_code": str(answer.get("user_code", ""))[:64],
        "verification_uri": _http_url(answer.get("verification_uri")),
        "verification_uri_complete": _http_url(answer.get("verification_uri_complete")),
        "interval": answer.get("interval") if isinstance(answer.get("interval"), int) else 5,
        # §3.5: keep polling after these; after tokens or any other error the flow is over.
        "keep_polling": error in ("authorization_pending", "slow_down")
        or (not values["device_code"] and not error),
        "device_code": device_code,
        "error": error,
        "error_description": str(answer.get("error_description", ""))[:300],
        "error_explained": explain_error(error) if error else "",
        "jwts": decoded,
    }


def _http_url(value: object) -> str:
    """A link the page may show: an http(s) URL from the provider, else nothing."""
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        return value[:MAX_DEVICE_CODE]
    return ""
