"""Friendly error pages for people: what happened, what to do, and which RFC says so."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from awesomeservice import refusals
from awesomeservice.backchannel import MockgramUnavailable
from shared.web import render_error

# The reason each kind of back-channel failure is explained under (/errors/{reason}).
UNAVAILABLE_REASONS = {
    "timeout": "provider_timeout",
    "unreachable": "provider_unreachable",
    "bad_answer": "provider_bad_answer",
}


async def mockgram_unavailable(
    request: Request, exc: MockgramUnavailable, *, step: int
) -> Response:
    """Mockgram timed out, could not be reached or answered nonsense; nothing was stored."""
    if exc.kind == "timeout":
        title = "Mockgram did not answer in time"
        message = "AwesomeService waited for Mockgram and gave up. Nothing was changed here."
        status = 504
    elif exc.kind == "unreachable":
        title = "Mockgram is unreachable"
        message = "AwesomeService could not reach Mockgram at all. Nothing was changed here."
        status = 502
    else:
        title = "Mockgram sent an answer we could not read"
        message = "Its reply was not what the protocol promises. Nothing was changed here."
        status = 502
    reason = UNAVAILABLE_REASONS.get(exc.kind, "provider_bad_answer")
    ref = await refusals.record(request, reason=reason, step=step, title=title, message=exc.detail)
    return render_error(
        request,
        status_code=status,
        title=title,
        message=message,
        detail=exc.detail,
        hint="Try again in a moment.",
        error_code=reason,
        error_uri=refusals.explanation_url(reason, ref),
        step=step,
    )


def client_secret_missing(request: Request, *, variable: str) -> Response:
    """Outside demo mode the client secret must be set; say so before sending anyone away."""
    return render_error(
        request,
        status_code=503,
        title="AwesomeService has no client secret yet",
        message=(
            "AwesomeService must prove who it is to Mockgram at step 5 (RFC 6749 §2.3), and no "
            "secret is configured, so nothing was sent."
        ),
        hint=(
            f"Set {variable} to the secret Mockgram printed when it first started (or the one "
            "the developer portal showed you) and restart AwesomeService. The doctor at /doctor "
            "checks it. To use the published demo secrets, start both apps in demo mode "
            "(python3 scripts/demo.py)."
        ),
        error_code="client_secret_missing",
        step=1,
    )
