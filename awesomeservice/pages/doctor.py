"""The issuer doctor's page: does Mockgram's metadata agree with AwesomeService's settings?

Fetches Mockgram's metadata over the back channel (OIDC Discovery §4, RFC 8414 §3) on every
visit and explains each mismatch with the public URL in words (awesomeservice/doctor.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from awesomeservice.deps import HttpDep, SettingsDep, TemplatesDep
from awesomeservice.doctor import INTERNAL_VAR, ISSUER_VAR, PUBLIC_VAR, diagnose

router = APIRouter()


@router.get("/doctor")
async def doctor_page(
    request: Request, settings: SettingsDep, templates: TemplatesDep, http: HttpDep
) -> Response:
    """Run the doctor now and show what it compared and found."""
    diagnosis = await diagnose(http, settings)
    return templates.TemplateResponse(
        request,
        "doctor.html",
        {
            "page_title": "Issuer doctor",
            "diagnosis": diagnosis,
            "public_var": PUBLIC_VAR,
            "internal_var": INTERNAL_VAR,
            "issuer_var": ISSUER_VAR,
        },
        headers={"Cache-Control": "no-store"},
    )
