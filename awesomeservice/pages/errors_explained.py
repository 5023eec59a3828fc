"""Why AwesomeService refused an answer: `/errors/{reason}` explains each callback refusal —
the cause, the fix, the RFC section. The callback's error page links here (checklist C1, C3).

Error codes that Mockgram itself returns (invalid_grant, …) are explained on Mockgram's pages;
for those this page sends the reader there.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from awesomeservice.deps import SettingsDep, TemplatesDep
from shared.web import render_error

router = APIRouter()


@dataclass(frozen=True)
class Reason:
    title: str
    cause: str
    fix: str
    rfc: str


_STATE = "RFC 6749 §4.1.2, §10.12; RFC 9700 §4.7"
REASONS: dict[str, Reason] = {
    "state_missing": Reason(
        "The answer carried no state",
        "Every authorization request AwesomeService sends carries a random, single-use state "
        "tied to the browser that started it. An answer without one cannot be matched to a "
        "request, so it may be forged (login CSRF).",
        "Start again from “Connect Mockgram”. An attacker's link never works here.",
        _STATE,
    ),
    "state_unknown": Reason(
        "AwesomeService never sent this state",
        "The state in the answer matches no request AwesomeService made. This is what a forged "
        "callback looks like: someone trying to attach their Mockgram account (and their code) "
        "to yours — login CSRF.",
        "Nothing to fix if you did not start a Connect just now; otherwise start again.",
        _STATE,
    ),
    "state_other_session": Reason(
        "The request was started in another browser",
        "The state is bound to the browser session that started the flow; this answer arrived "
        "in a different one.",
        "Finish the flow in the browser where you started it, or start again here.",
        "RFC 9700 §4.7.1",
    ),
    "state_used": Reason(
        "This answer was already used",
        "A state works once. A second arrival of the same answer (a replay, a reload of an old "
        "link) is refused, so nothing is redeemed twice.",
        "Start again from “Connect Mockgram”.",
        _STATE,
    ),
    "state_expired": Reason(
        "The request expired",
        "A Connect request waits a few minutes for its answer; this one waited too long.",
        "Start again from “Connect Mockgram”.",
        _STATE,
    ),
    "iss_missing": Reason(
        "The answer did not name its sender",
        "Mockgram announces in its metadata that every authorization response carries iss. An "
        "answer without it may come from another authorization server (a mix-up attack).",
        "Nothing to fix on your side: AwesomeService refuses such answers on purpose.",
        "RFC 9207 §2.4",
    ),
    "iss_mismatch": Reason(
        "The answer came from the wrong server",
        "The iss in the answer is not Mockgram's issuer, compared as an exact string. In a "
        "mix-up attack a malicious server makes the client send a code to the wrong place; "
        "checking iss before redeeming anything stops it.",
        "Nothing to fix on your side: AwesomeService refuses such answers on purpose.",
        "RFC 9207 §2.4; RFC 9700 §4.4",
    ),
    "code_missing": Reason(
        "The answer had neither a code nor an error",
        "A successful authorization response must carry a code.",
        "Start again; if it keeps happening, Mockgram is misbehaving.",
        "RFC 6749 §4.1.2",
    ),
}

# Codes Mockgram returns; their explanations live on Mockgram's error_uri pages.
MOCKGRAM_CODES = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "access_denied",
        "unsupported_response_type",
        "server_error",
        "temporarily_unavailable",
        "invalid_token",
        "insufficient_scope",
        "login_required",
        "consent_required",
        "interaction_required",
    }
)


@router.get("/errors/{reason}")
def explain(
    request: Request, reason: str, templates: TemplatesDep, settings: SettingsDep
) -> Response:
    """Cause, fix and RFC section of one refusal; Mockgram's codes go to Mockgram's page."""
    found = REASONS.get(reason)
    if found is None:
        if reason in MOCKGRAM_CODES:
            return RedirectResponse(f"{settings.mockgram_url}/errors/{reason}", status_code=303)
        return render_error(
            request,
            status_code=404,
            title="No explanation for this",
            message="AwesomeService does not use this reason for refusing an answer.",
        )
    return templates.TemplateResponse(
        request,
        "errors_explained.html",
        {"page_title": found.title, "reason": reason, "explanation": found},
    )
