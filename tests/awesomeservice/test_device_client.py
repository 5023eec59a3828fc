"""The kiosk's side of the device flow (awesomeservice/oauth/device.py), against a scripted
token endpoint: what each answer means, and what a broken answer is."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from awesomeservice.backchannel import MockgramUnavailable
from awesomeservice.events import DevicePolled, Events
from awesomeservice.oauth import device
from awesomeservice.oauth.token_endpoint import Client

KIOSK = Client("awesomeservice-kiosk", "", "none")
SENT: list[dict[str, str]] = []  # the forms the scripted endpoint received, newest last


def answering(status: int, body: dict) -> httpx.AsyncClient:
    """A back channel whose every call gets this JSON answer; the form it got is kept."""

    def reply(request: httpx.Request) -> httpx.Response:
        SENT.append(dict(httpx.QueryParams(request.content.decode())))
        return httpx.Response(
            status, content=json.dumps(body), headers={"content-type": "application/json"}
        )

    return httpx.AsyncClient(transport=httpx.MockTransport(reply), base_url="http://mockgram.test")


def test_codes_without_an_interval_mean_five_seconds() -> None:
    body = {
        "device_code": "d",
        "user_code": "BCDF-GHJK",
        "verification_uri": "http://mockgram.test/device",
        "expires_in": 600,
    }
    codes = asyncio.run(
        device.request_codes(
            answering(200, body),
            Events(),
            "/oauth/device_authorization",
            KIOSK,
            scope="photos.read",
        )
    )
    assert codes.interval == 5 and codes.verification_uri_complete == ""


@pytest.mark.parametrize("missing", ["device_code", "user_code", "verification_uri", "expires_in"])
def test_codes_missing_a_required_field_are_a_bad_answer(missing: str) -> None:
    body = {
        "device_code": "d",
        "user_code": "BCDF-GHJK",
        "verification_uri": "http://mockgram.test/device",
        "expires_in": 600,
    }
    del body[missing]
    with pytest.raises(MockgramUnavailable):
        asyncio.run(
            device.request_codes(answering(200, body), Events(), "/x", KIOSK, scope="photos.read")
        )


@pytest.mark.parametrize(
    ("error", "keep_polling", "interval"),
    [
        ("authorization_pending", True, 5),
        ("slow_down", True, 10),
        ("access_denied", False, 5),
        ("expired_token", False, 5),
    ],
)
def test_each_poll_answer_says_whether_to_keep_polling(
    error: str, keep_polling: bool, interval: int
) -> None:
    heard: list[DevicePolled] = []
    events = Events()

    async def listener(event: DevicePolled) -> None:
        heard.append(event)

    events.listen(DevicePolled, listener)
    http = answering(400, {"error": error})
    answer = asyncio.run(device.poll(http, events, "/oauth/token", KIOSK, device_code="d"))
    assert answer.answer == error and answer.keep_polling is keep_polling
    assert device.next_interval(5, answer) == interval
    assert heard == [DevicePolled("awesomeservice-kiosk", error)]


def test_an_approved_poll_carries_the_tokens_and_sends_the_grant() -> None:
    http = answering(200, {"access_token": "at", "token_type": "Bearer", "scope": "photos.read"})
    answer = asyncio.run(device.poll(http, Events(), "/oauth/token", KIOSK, device_code="dc"))
    assert answer.answer == "tokens" and answer.tokens is not None
    assert answer.tokens.access_token == "at"
    # RFC 8628 §3.4: the grant type, the device code, and the public client's id.
    assert SENT[-1] == {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "device_code": "dc",
        "client_id": "awesomeservice-kiosk",
    }
