"""Lab mode's defence switches: in the database (any worker may serve the next request), one
shot (the one demonstration consumes it), and honoured only when the `lab_mode` setting is on.

Outside lab mode nothing here does anything: `switch_off` refuses, no switch is registered
with the app's events, and `defence_off` is False without even looking at the table. In lab
mode, `register` gives the protocol (awesomeservice/oauth/) one named switch per defence, which
it consults at the one point where that defence is checked.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

import httpx
from sqlmodel import Field, Session, col, select

from awesomeservice.backchannel import send
from awesomeservice.events import Events
from awesomeservice.models import AwesomeTable
from awesomeservice.oauth.token_endpoint import client_secret_basic
from awesomeservice.settings import AwesomeServiceSettings
from shared.clock import as_utc, utcnow
from shared.db import Database, stamp_unset

# AwesomeService's own defences the lab can switch off, by name.
DEFENCES = {"iss": "the iss check on the callback (RFC 9207 §2.4)"}
# Mockgram's, switched at Mockgram (mockgram/lab.py, MOCKGRAM_LAB_MODE) over the back channel.
MOCKGRAM_DEFENCES = {
    "client_secret": "Mockgram's client authentication",
    "single_use": "Mockgram's single use of codes",
    "pkce": "Mockgram's PKCE check",
}
LIFETIME = timedelta(minutes=2)


class DefenceSwitch(AwesomeTable, table=True):
    """One defence switched off for one run, by the browser that asked for it."""

    id: int | None = Field(default=None, primary_key=True)
    defence: str = Field(max_length=32, index=True)
    browser_binding: str = Field(max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    used_at: datetime | None = None


class LabModeOff(Exception):
    """A switch was asked for while lab mode is off."""


def switch_off(
    session: Session, settings: AwesomeServiceSettings, *, defence: str, browser_binding: str
) -> None:
    """Switch one defence off for the next run in this browser (lab mode only)."""
    if not settings.lab_mode or defence not in DEFENCES:
        raise LabModeOff(defence)
    session.add(DefenceSwitch(defence=defence, browser_binding=browser_binding))
    session.commit()


def defence_off(
    session: Session,
    settings: AwesomeServiceSettings,
    *,
    defence: str,
    browser_binding: str | None,
) -> bool:
    """True once, for the run a switch was made for; always False outside lab mode."""
    if not settings.lab_mode or not browser_binding:
        return False
    switch = session.exec(
        select(DefenceSwitch).where(
            col(DefenceSwitch.defence) == defence,
            col(DefenceSwitch.browser_binding) == browser_binding,
            col(DefenceSwitch.used_at).is_(None),
        )
    ).first()
    if switch is None or as_utc(switch.created_at) < utcnow() - LIFETIME:
        return False
    # One shot, even with several workers: only one UPDATE sees used_at still empty.
    claimed = stamp_unset(session, col(DefenceSwitch.used_at), col(DefenceSwitch.id) == switch.id)
    session.commit()
    return claimed == 1


async def _switched_off(
    database: Database, settings: AwesomeServiceSettings, defence: str, binding: str | None
) -> bool:
    return await database.run(defence_off, settings, defence=defence, browser_binding=binding)


def register(events: Events, database: Database, settings: AwesomeServiceSettings) -> None:
    """In lab mode, answer the protocol's question "is this defence off for this run?"."""
    if not settings.lab_mode:
        return
    for defence in DEFENCES:
        events.switch(defence, partial(_switched_off, database, settings, defence))


async def switch_off_at_mockgram(
    http: httpx.AsyncClient, settings: AwesomeServiceSettings, *, defence: str, client_id: str
) -> bool:
    """Ask Mockgram to switch one of its defences off for this client's next request."""
    if not settings.lab_mode or defence not in MOCKGRAM_DEFENCES:
        raise LabModeOff(defence)
    response = await send(
        http,
        "POST",
        "/lab/defence-off",
        data={"defence": defence, "client_id": client_id},
        # Mockgram takes the switch only from AwesomeService itself, authenticated.
        headers={"Authorization": client_secret_basic(settings.client_id, settings.client_secret)},
    )
    # Mockgram answers 404 unless its own lab mode (MOCKGRAM_LAB_MODE) is on too.
    return response.status_code == 200
