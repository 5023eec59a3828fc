"""The event seam (awesomeservice/events.py): what the protocol announces, in order; a state
checked before anything is announced; the lab's switch consulted at its one point; the
step-through pause asked between steps; a failing listener never breaking a flow.

Each test replaces the app's `Events` with its own, as the seam allows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from awesomeservice.events import (
    AuthorizationRequestSent,
    BeforeExchange,
    BeforeRedirect,
    CallbackReceived,
    CodeExchanged,
    Event,
    Events,
    PausePoint,
    RequestRefused,
    TokenRefreshed,
    TokenRevoked,
)
from awesomeservice.models import MockgramConnection
from shared.clock import utcnow
from tests.awesomeservice.conftest import (
    ISSUER,
    FakeMockgram,
    callback,
    csrf,
    login,
    start_connect,
)

KINDS = (
    AuthorizationRequestSent,
    CallbackReceived,
    CodeExchanged,
    TokenRefreshed,
    TokenRevoked,
    RequestRefused,
)


@pytest.fixture
def heard(app: FastAPI) -> list[Event]:
    """A fresh Events on the app, with a listener that keeps every event it hears."""
    events = Events()
    kept: list[Event] = []

    async def keep(event: Event) -> None:
        kept.append(event)

    for kind in KINDS:
        events.listen(kind, keep)
    app.state.events = events
    return kept


def test_a_connect_refresh_and_disconnect_announce_each_step_in_order(
    client: TestClient, fake: FakeMockgram, db: Session, heard: list[Event]
) -> None:
    fake.issue_refresh_token = True
    login(client)
    url, params = start_connect(client)
    assert heard == [AuthorizationRequestSent(url)]
    assert callback(client, code="c", state=params["state"], iss=ISSUER).status_code == 303
    assert [type(event) for event in heard[1:]] == [CallbackReceived, CodeExchanged]
    assert heard[2] == CodeExchanged("awesomeservice", "photos.read", with_id_token=False)

    row = db.exec(select(MockgramConnection)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.add(row)
    db.commit()
    assert client.get("/photos").status_code == 200
    assert heard[3] == TokenRefreshed("awesomeservice", "photos.read", rotated=True)

    client.post("/connect/disconnect", data={"csrf_token": csrf(client)})
    assert heard[4:] == [
        TokenRevoked("refresh_token", "revoked"),
        TokenRevoked("access_token", "revoked"),
    ]


def test_a_callback_with_a_state_never_sent_is_refused_before_it_is_announced(
    client: TestClient, fake: FakeMockgram, heard: list[Event]
) -> None:
    login(client)
    start_connect(client)
    heard.clear()
    assert callback(client, code="c", state="made-up", iss=ISSUER).status_code == 400
    assert heard == [RequestRefused(step=4, reason="state_unknown")]
    assert fake.token_requests == []


def test_the_iss_check_asks_the_lab_switch_and_nothing_else_can_skip_it(
    app: FastAPI, client: TestClient, fake: FakeMockgram, heard: list[Event]
) -> None:
    login(client)
    _, params = start_connect(client)
    refused = callback(client, code="c", state=params["state"], iss="https://attacker.example")
    assert refused.status_code == 400 and heard[-1] == RequestRefused(4, "iss_mismatch")
    assert fake.token_requests == []

    asked: list[str | None] = []

    async def switched_off(binding: str | None) -> bool:
        asked.append(binding)
        return True

    app.state.events.switch("iss", switched_off)
    _, params = start_connect(client)
    callback(client, code="c", state=params["state"], iss="https://attacker.example")
    assert len(asked) == 1 and asked[0]  # asked once, with this browser's binding
    assert len(fake.token_requests) == 1  # with the check off, the code went on


def test_the_page_layer_asks_for_a_pause_between_steps(
    app: FastAPI, client: TestClient, fake: FakeMockgram, heard: list[Event]
) -> None:
    points: list[PausePoint] = []

    async def pause(request: Request, point: PausePoint) -> Response | None:
        points.append(point)
        return PlainTextResponse("held") if isinstance(point, BeforeExchange) else None

    app.state.events.pause_with(pause)
    login(client)
    url, params = start_connect(client)
    held = callback(client, code="c", state=params["state"], iss=ISSUER)
    assert held.text == "held"
    assert points == [BeforeRedirect(url), BeforeExchange()]
    assert fake.token_requests == []
    # Held, not used up: the same answer goes on once the pause lets it.
    app.state.events.pause_with(lambda request, point: _go_on())
    assert callback(client, code="c", state=params["state"], iss=ISSUER).status_code == 303


async def _go_on() -> Response | None:
    return None


def test_a_failing_listener_does_not_break_the_flow(app: FastAPI, client: TestClient) -> None:
    async def broken(event: AuthorizationRequestSent) -> None:
        raise RuntimeError("a listener's own bug")

    app.state.events.listen(AuthorizationRequestSent, broken)
    login(client)
    url, _ = start_connect(client)
    assert url.startswith(f"{ISSUER}/oauth/authorize?")
