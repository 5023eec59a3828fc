"""The seam between protocol code and its side jobs: what the protocol announces
(mockgram/events.py), and the one question it asks before refusing (mockgram/defences.py)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from mockgram import events
from mockgram.defences import PKCE, SINGLE_USE, Defences
from mockgram.lab import LabSwitch
from mockgram.models import ActivityEvent
from tests.mockgram.oauth_helpers import get_code, redeem


class Recorder:
    """A listener for every event class: keeps what was announced, in order."""

    def __init__(self, bus: events.Events) -> None:
        self.heard: list[events.Event] = []
        for kind in events.Event.__subclasses__():
            bus.listen(kind, self.hear)

    def hear(self, session: Session, event: events.Event) -> None:
        self.heard.append(event)

    def kinds(self) -> list[str]:
        return [type(event).__name__ for event in self.heard]


@pytest.fixture
def heard(mockgram_app) -> Recorder:
    """The app's events replaced by a bus that only records (no activity log listens)."""
    mockgram_app.state.events = events.Events()
    return Recorder(mockgram_app.state.events)


def test_the_code_flow_announces_each_step_in_order(client, printshop, heard):
    code = get_code(client)["code"]
    assert redeem(client, code).status_code == 200
    assert heard.kinds() == [
        "SignedIn",
        "ConsentGiven",
        "CodeIssued",
        "ClientAuthenticated",
        "CodeRedeemed",
        "TokensIssued",
    ]
    issued = heard.heard[-1]
    assert isinstance(issued, events.TokensIssued)
    assert issued.grant == "authorization_code"
    assert issued.kinds == ("access_token", "refresh_token")
    assert issued.client_id == "printshop" and issued.user_id is not None


def test_a_replayed_code_is_announced_as_refused(client, printshop, heard):
    code = get_code(client)["code"]
    redeem(client, code)
    assert redeem(client, code).status_code == 400
    refused = heard.heard[-1]
    assert isinstance(refused, events.RequestRefused)
    assert "code used twice" in refused.reason


def test_a_reused_refresh_token_is_announced_with_its_grant(client, printshop, heard):
    refresh_token = redeem(client, get_code(client)["code"]).json()["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    auth = ("printshop", "printshop-secret")
    assert client.post("/oauth/token", data=form, auth=auth).status_code == 200
    assert client.post("/oauth/token", data=form, auth=auth).status_code == 400
    assert heard.kinds()[-2:] == ["ClientAuthenticated", "RefreshTokenReused"]


def test_a_wrong_secret_is_announced_as_failed_client_authentication(client, printshop, heard):
    response = client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": "x", "client_id": "printshop"},
    )
    assert response.status_code == 401
    assert heard.kinds() == ["ClientAuthenticationFailed"]
    assert heard.heard[0].client_id == "printshop"


def test_with_its_events_replaced_the_app_writes_no_activity(client, printshop, heard, db):
    redeem(client, get_code(client)["code"])
    # The activity log listens to the app's own events, which the test replaced.
    assert db.exec(select(ActivityEvent)).all() == []


def test_a_waiver_is_asked_only_when_its_defence_would_refuse(client, printshop, mockgram_app):
    asked: list[str] = []

    def waive_single_use(session: Session, defence: str, client_id: str) -> bool:
        asked.append(defence)
        return defence == SINGLE_USE

    mockgram_app.state.defences.allow_waiver(waive_single_use)
    code = get_code(client)["code"]
    assert redeem(client, code).status_code == 200
    assert asked == []  # every check passed: nobody was asked
    assert redeem(client, code).status_code == 200  # the waiver let the replay through
    assert asked == [SINGLE_USE]
    assert redeem(client, get_code(client)["code"], code_verifier="x" * 43).status_code == 400
    assert asked == [SINGLE_USE, PKCE]  # asked, said no: the defence held


def test_outside_lab_mode_a_lab_switch_row_changes_nothing(client, printshop, db):
    db.add(LabSwitch(defence=SINGLE_USE, client_id="printshop"))
    db.commit()
    code = get_code(client)["code"]
    assert redeem(client, code).status_code == 200
    assert redeem(client, code).status_code == 400
    db.expire_all()
    assert db.exec(select(LabSwitch)).one().used_at is None  # no waiver looked at it


def test_an_unknown_defence_name_is_a_programming_error(db):
    with pytest.raises(ValueError, match="Unknown defence"):
        Defences().is_on("csrf", session=db, client_id="printshop")
