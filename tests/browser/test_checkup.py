"""The provider check-up clicked through in Chromium, both apps as real servers: John registers
a client at Mockgram for the check-up's callback, runs the check-up, signs in and consents at
Mockgram once — the later trips come straight back — and reads Mockgram's full marks."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import httpx

from tests.browser import story
from tests.browser.apps import Apps
from tests.browser.story import MOCKGRAM_PASSWORD, at, expect


def test_john_checks_up_on_mockgram_and_it_gets_full_marks(
    page: Any, start_apps: Callable[..., AbstractContextManager[Apps]]
) -> None:
    # AwesomeService under a name, not a loopback IP, whose port may vary (RFC 8252 §7.3).
    with start_apps(awesome_host="localhost") as apps:
        run_the_checkup(page, apps)


def run_the_checkup(page: Any, apps: Apps) -> None:
    # A client of his own at Mockgram (RFC 7591; plain http is allowed on localhost).
    registered = httpx.post(
        f"{apps.mockgram}/oauth/register",
        json={
            "client_name": "Check-up",
            "redirect_uris": [f"{apps.awesome}/checkup/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
        },
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    client = registered.json()

    story.sign_in_to_awesomeservice(page, apps.awesome)
    page.goto(f"{apps.awesome}/checkup")
    expect(page.get_by_text(f"{apps.awesome}/checkup/callback")).to_be_visible()
    page.get_by_label("Issuer").fill(apps.mockgram)
    page.get_by_label("client_id").fill(client["client_id"])
    page.get_by_label("Client secret").fill(client["client_secret"])
    page.get_by_label("scope").fill("openid")
    page.get_by_role("button", name="Run the check-up").click()

    expect(page.get_by_role("heading", name="Check-up in progress")).to_be_visible()
    page.get_by_role("link", name="Continue at the provider").click()
    page.wait_for_url(at(apps.mockgram, "/login"))
    page.get_by_label("Username").fill("john")
    page.get_by_label("Password").fill(MOCKGRAM_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(at(apps.mockgram, "/consent"))
    page.get_by_role("button", name="Allow").click()

    # Four more trips through Mockgram pass without a click, then the report.
    page.wait_for_url(re.compile(re.escape(apps.awesome) + r"/checkup/runs/\d+$"))
    expect(page.get_by_role("heading", name="Grade: A+")).to_be_visible()
    expect(page.get_by_text("Full marks: every row passed.")).to_be_visible()
    rows = page.locator("tr.checkup-row")
    assert rows.count() == 15
    assert page.locator("tr.checkup-row.checkup-pass").count() == 15
    html = page.content()
    assert client["client_secret"] not in html
