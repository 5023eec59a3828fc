"""Interop: panva's openid-client runs the device authorization grant (RFC 8628) against a
running Mockgram — initiateDeviceAuthorization, then pollDeviceAuthorizationGrant — while the
test, as John on his phone, types the user code on /device and answers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import httpx
from fastapi import FastAPI

from mockgram.app import create_app
from mockgram.settings import MockgramSettings
from tests.e2e.authlib_helpers import DEMO_PASSWORD
from tests.e2e.servers import serve
from tests.interop.openid_client import TIMEOUT_SECONDS, start_script

KIOSK = "awesomeservice-kiosk"  # the demo's device client (mockgram/demo/mockgram.toml)


def device_mockgram(database_url: str) -> Callable[[str], FastAPI]:
    """Mockgram with a one-second polling interval: the library waits it out before each poll."""

    def make(base_url: str) -> FastAPI:
        return create_app(
            MockgramSettings(
                issuer=base_url,
                database_url=database_url,
                secret_key="interop-session-key",
                demo_password=DEMO_PASSWORD,
                device_poll_interval_seconds=1,
            )
        )

    return make


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def john_answers(base_url: str, user_code: str, decision: str) -> None:
    """John's phone: the code on /device, sign in, then Allow or Deny."""
    with httpx.Client(base_url=base_url, timeout=10) as phone:
        page = phone.get("/device")
        phone.post("/device", data={"user_code": user_code, "csrf_token": csrf(page.text)})
        login = phone.get("/login", params={"next": "/device/confirm"})
        phone.post(
            "/login",
            data={
                "username": "john",
                "password": DEMO_PASSWORD,
                "csrf_token": csrf(login.text),
                "next": "/device/confirm",
            },
        )
        question = phone.get("/device/confirm")
        assert question.status_code == 200, question.text
        request_id = re.search(r'name="request_id" value="([^"]+)"', question.text).group(1)
        answered = phone.post(
            "/device/confirm",
            data={
                "csrf_token": csrf(question.text),
                "request_id": request_id,
                "decision": decision,
                "scope": ["photos.read"],
            },
        )
        assert answered.status_code == 200, answered.text


def run_device_flow(base_url: str, decision: str) -> tuple[dict, dict]:
    """Start the script, approve (or deny) once it shows the code; its two JSON lines."""
    script = start_script("device.mjs", issuer=base_url, client_id=KIOSK, scope="photos.read")
    try:
        assert script.stdout is not None
        shown = json.loads(script.stdout.readline() or "{}")
        assert "user_code" in shown, script.stderr.read() if script.stderr else ""
        john_answers(base_url, shown["user_code"], decision)
        out, err = script.communicate(timeout=TIMEOUT_SECONDS)
    finally:
        if script.poll() is None:
            script.kill()
            script.wait()
    assert out.strip(), err
    return shown, json.loads(out)


def test_openid_client_gets_tokens_once_john_approves(mockgram_database_url: str) -> None:
    with serve(device_mockgram(mockgram_database_url)) as base_url:
        shown, answer = run_device_flow(base_url, "allow")
    assert shown["verification_uri"] == f"{base_url}/device" and shown["interval"] == 1
    assert answer == {"token_type": "bearer", "scope": "photos.read", "has_access_token": True}


def test_openid_client_hears_access_denied_when_john_denies(mockgram_database_url: str) -> None:
    with serve(device_mockgram(mockgram_database_url)) as base_url:
        _, answer = run_device_flow(base_url, "deny")
    assert answer["oauth_error"] == "access_denied", answer
