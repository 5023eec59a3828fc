"""The print kiosk's device flow (RFC 8628) with both apps in one process: the kiosk asks for
codes, polls, John approves on his "phone" (a second browser at Mockgram), the photos show."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from awesomeservice.models import FlowEvent, KioskSession
from mockgram.activity import DEVICE_APPROVED
from mockgram.models import ActivityEvent
from tests.e2e.conftest import MOCKGRAM, MOCKGRAM_PASSWORD, World


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def kiosk_poll(world: World, *, now: bool = False) -> dict:
    """What the kiosk page's script does: ask AwesomeService's server, which asks Mockgram."""
    page = world.awesome_client.get("/kiosk")
    data = {"csrf_token": csrf(page.text)} | ({"now": "1"} if now else {})
    answer = world.awesome_client.post(
        "/kiosk/poll", data=data, headers={"Accept": "application/json"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def approve_on_phone(world: World, user_code: str, decision: str = "allow") -> httpx.Response:
    """John, on his phone: /device, the code, sign in, the question, his answer."""
    with TestClient(world.mockgram, base_url=MOCKGRAM, follow_redirects=False) as phone:
        page = phone.get("/device", params={"user_code": user_code})
        assert f'value="{user_code}"' in page.text  # verification_uri_complete prefills
        typed = phone.post("/device", data={"user_code": user_code, "csrf_token": csrf(page.text)})
        assert typed.headers["location"] == "/device/confirm"
        login = phone.get(phone.get("/device/confirm").headers["location"])
        signed_in = phone.post(
            "/login",
            data={
                "username": "john",
                "password": MOCKGRAM_PASSWORD,
                "csrf_token": csrf(login.text),
                "next": "/device/confirm",
            },
        )
        question = phone.get(signed_in.headers["location"])
        assert "Only approve if you started this on a device in front of you" in question.text
        assert "AwesomeService kiosk" in question.text
        request_id = re.search(r'name="request_id" value="([^"]+)"', question.text).group(1)
        return phone.post(
            "/device/confirm",
            data={
                "csrf_token": csrf(question.text),
                "request_id": request_id,
                "decision": decision,
                "scope": ["photos.read"],
            },
        )


def test_the_kiosk_runs_the_device_flow_to_john_s_photos(world: World) -> None:
    assert 'href="/kiosk"' in world.awesome_client.get("/tour").text  # the tour lists it
    start_page = world.awesome_client.get("/kiosk")
    assert "Press Start" in start_page.text and "RFC 8628 §3.1" in start_page.text
    started = world.awesome_client.post("/kiosk/start", data={"csrf_token": csrf(start_page.text)})
    assert started.status_code == 303

    screen = world.awesome_client.get("/kiosk").text
    user_code = re.search(r'id="kiosk-user-code">([A-Z]{4}-[A-Z]{4})<', screen).group(1)
    assert f"{MOCKGRAM}/device" in screen and "<svg" in screen and 'class="qr"' in screen
    assert "device_code" not in screen.replace("grant-type:device_code", "")

    assert kiosk_poll(world)["answers"] == ["1. authorization_pending"]
    assert kiosk_poll(world)["polls"] == 1  # too soon for the kiosk itself: Mockgram not asked
    assert kiosk_poll(world, now=True)["answers"][-1].startswith("2. slow_down")
    slowed = kiosk_poll(world, now=True)
    assert slowed["answers"][-1].startswith("3. slow_down") and slowed["interval"] == 15

    done = approve_on_phone(world, user_code)
    assert "You may return to your device" in done.text

    approved = kiosk_poll(world, now=True)
    assert approved["status"] == "approved"
    photos = world.awesome_client.get("/kiosk").text
    assert 'id="kiosk-photos"' in photos
    image = re.search(r'src="(/kiosk/photos/\d+/image)"', photos).group(1)
    assert world.awesome_client.get(image).headers["content-type"].startswith("image/")

    with Session(world.awesome.state.engine) as db:
        polls = db.exec(select(FlowEvent).where(FlowEvent.kind == "device_poll")).all()
        assert [poll.repeats for poll in polls] == [1, 2, 1]  # the two slow_downs: one row
        kiosk = db.exec(select(KioskSession)).one()
        assert kiosk.access_token is not None and kiosk.scope == "photos.read"
    with Session(world.mockgram.state.engine) as db:
        assert db.exec(select(ActivityEvent).where(ActivityEvent.kind == DEVICE_APPROVED)).first()
    inspector = world.awesome_client.get("/inspector").text
    assert "Device authorization: the kiosk asks for a device code" in inspector
    assert "× 2 polls" in inspector and "RFC 8628 §3.4" in inspector


def test_john_denies_on_his_phone_and_the_kiosk_stops(world: World) -> None:
    start_page = world.awesome_client.get("/kiosk")
    world.awesome_client.post("/kiosk/start", data={"csrf_token": csrf(start_page.text)})
    screen = world.awesome_client.get("/kiosk").text
    user_code = re.search(r'id="kiosk-user-code">([A-Z]{4}-[A-Z]{4})<', screen).group(1)
    assert "Nothing was shared" in approve_on_phone(world, user_code, "deny").text
    assert kiosk_poll(world, now=True)["status"] == "denied"
    assert "access_denied" in world.awesome_client.get("/kiosk").text
