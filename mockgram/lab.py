"""Lab mode at Mockgram: AwesomeService's attack lab may switch one of Mockgram's defences off
for one run, to show the attack succeeding — only when MOCKGRAM_LAB_MODE is on (off by default,
announced by a red banner on every page).

A switch is a database row (any worker may serve the next request), names one defence and one
client, lives two minutes, and is used up by the first request it lets through. In lab mode
`install` registers `switched_off` as the app's defence waiver (mockgram/defences.py); outside
it the route answers 404 and no waiver exists, so no request ever looks at the table.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import Field, Session, col, select

from mockgram.db import SessionDep
from mockgram.defences import DEFENCES
from mockgram.deps import SettingsDep
from mockgram.models import MockgramTable
from mockgram.oauth.client_auth import BASIC_CHALLENGE, check_secret, parse_basic
from mockgram.oauth.errors import OAuthError
from shared.clock import as_utc, utcnow
from shared.db import stamp_unset
from shared.forms import FormBodyDep, readable_form

LIFETIME = timedelta(minutes=2)

router = APIRouter(include_in_schema=False)


class LabSwitch(MockgramTable, table=True):
    """One Mockgram defence switched off for the next request of one client."""

    id: int | None = Field(default=None, primary_key=True)
    defence: str = Field(max_length=32, index=True)
    client_id: str = Field(max_length=100, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    used_at: datetime | None = None


def install(app: FastAPI) -> None:
    """Serve the switch route; in lab mode, let its switches waive the app's defences."""
    app.include_router(router)
    if app.state.settings.lab_mode:
        app.state.defences.allow_waiver(switched_off)


def switched_off(session: Session, defence: str, client_id: str) -> bool:
    """True once, when the lab switched `defence` off for this client in the last two minutes."""
    switch = session.exec(
        select(LabSwitch).where(
            col(LabSwitch.defence) == defence,
            col(LabSwitch.client_id) == client_id,
            col(LabSwitch.used_at).is_(None),
        )
    ).first()
    if switch is None or as_utc(switch.created_at) < utcnow() - LIFETIME:
        return False
    # One shot even with several workers: only one UPDATE sees used_at still empty.
    return stamp_unset(session, col(LabSwitch.used_at), col(LabSwitch.id) == switch.id) == 1


@router.post("/lab/defence-off")
def switch_off(
    request: Request, body: FormBodyDep, session: SessionDep, settings: SettingsDep
) -> Response:
    """Lab mode only: switch one defence off for the next request of one client."""
    if not settings.lab_mode:
        return JSONResponse({"error": "not_found"}, status_code=404)
    # Only AwesomeService's lab, authenticated as the seeded client, may switch a defence off:
    # lab mode is not a door anyone on the network can open for any client.
    try:
        caller_id, secret = parse_basic(request.headers.get("authorization", ""))
        caller = check_secret(session, caller_id, secret, headers=BASIC_CHALLENGE)
    except OAuthError:
        caller = None
    if caller is None or caller.client_id != settings.awesomeservice_client_id:
        return JSONResponse({"error": "invalid_client"}, status_code=401, headers=BASIC_CHALLENGE)
    form = readable_form(body)
    defence, client_id = form.get("defence"), form.get("client_id")
    if defence not in DEFENCES or not isinstance(client_id, str) or not client_id:
        return JSONResponse({"error": "invalid_request"}, status_code=400)
    session.add(LabSwitch(defence=str(defence), client_id=client_id[:100]))
    session.commit()
    return JSONResponse({"switched_off": defence, "client_id": client_id, "runs": 1})
