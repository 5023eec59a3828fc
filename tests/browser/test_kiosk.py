"""The print kiosk's device flow (RFC 8628) clicked through in Chromium against both apps as
real servers: the kiosk shows a code and polls on screen; John approves on his "phone" (a
second browser context at Mockgram); the kiosk shows his photos."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.apps import Apps
from tests.browser.story import MOCKGRAM_PASSWORD, expect


def test_john_approves_the_kiosk_on_his_phone(page: Any, browser: Any, apps: Apps) -> None:
    page.goto(f"{apps.awesome}/kiosk")
    page.get_by_role("button", name="Start").click()
    code = page.locator("#kiosk-user-code")
    expect(code).to_have_text(re.compile(r"^[B-Z]{4}-[B-Z]{4}$"))
    expect(page.locator("svg.qr")).to_be_visible()
    # The page's script polls AwesomeService, which polls Mockgram: each answer is listed.
    expect(page.locator("#kiosk-polls li").first).to_have_text("1. authorization_pending")
    page.get_by_role("button", name=re.compile("Poll now, too soon")).click()
    expect(page.locator("#kiosk-polls")).to_contain_text("slow_down")

    phone = browser.new_context().new_page()
    phone.goto(f"{apps.mockgram}/device?user_code={code.inner_text()}")
    phone.get_by_role("button", name="Continue").click()
    phone.get_by_label("Username").fill("john")
    phone.get_by_label("Password").fill(MOCKGRAM_PASSWORD)
    phone.get_by_role("button", name="Sign in").click()
    expect(
        phone.get_by_text("Only approve if you started this on a device in front of you")
    ).to_be_visible()
    phone.get_by_role("button", name="Allow").click()
    expect(phone.get_by_role("heading", name=re.compile("return to your device"))).to_be_visible()
    phone.context.close()

    page.get_by_role("button", name=re.compile("Poll now, too soon")).click()
    expect(page.get_by_role("heading", name="Your photos, on the kiosk")).to_be_visible()
    expect(page.locator("#kiosk-photos img").first).to_be_visible()
