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
