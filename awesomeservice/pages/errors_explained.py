"""Why AwesomeService refused: `/errors/{reason}` gives the cause, the fix and the RFC section of
each reason a refusal page can show — and, given `?ref=`, the request that failed,
redacted (awesomeservice/refusals.py). Every refusal page links here.

The texts live in awesomeservice/explanations.py. Error codes the provider returns
(invalid_grant, …) are explained here from the client's side, with a link to the provider's
own page: the error_uri it sent, if any, and Mockgram's page for the code. A code nobody here
knows gets a generic page, never a 404: a provider may send any code.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from awesomeservice import refusals
from awesomeservice.db import SessionDep
from awesomeservice.deps import SettingsDep, TemplatesDep
from awesomeservice.explanations import GENERIC, PROVIDER_ERRORS, REASONS
from shared.recorded import pairs

router = APIRouter()

# Codes the provider returns; its own pages explain its side of them.
MOCKGRAM_CODES = frozenset(PROVIDER_ERRORS)


@router.get("/errors/{reason}")
def explain(
    request: Request,
    reason: str,
    session: SessionDep,
    templates: TemplatesDep,
    settings: SettingsDep,
) -> Response:
    """Cause, fix and RFC section of one reason, and the refused request the `ref` names."""
    reason = reason[:64]
    found = REASONS.get(reason)
    ref = request.query_params.get("ref", "")
    failed = refusals.load(session, ref) if ref else None
    # A reference shows only under the reason it was recorded for.
    if failed is not None and refusals.slug(failed.reason) != reason:
        failed = None
    from_provider = reason in MOCKGRAM_CODES
    return templates.TemplateResponse(
        request,
        "errors_explained.html",
        {
            "page_title": found.title if found else GENERIC.title,
            "reason": failed.reason if failed is not None else reason,
            "explanation": found or GENERIC,
            "known": found is not None,
            "from_provider": from_provider,
            "mockgram_page": f"{settings.mockgram_url}/errors/{reason}" if from_provider else "",
            "ref": ref,
            "failed": failed,
            "failed_query": pairs(failed.query) if failed else [],
            "failed_answer": pairs(failed.answer) if failed else [],
        },
        headers={"Cache-Control": "no-store"},
    )
