"""The PAR switch on the step 1 page, clicked through in Chromium against both apps as real
servers: the request is pushed first (RFC 9126), the address John's browser follows shrinks to
client_id and request_uri, and the flow ends with his photos as before."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.browser import story
from tests.browser.apps import Apps
from tests.browser.story import MOCKGRAM_PASSWORD, at, expect


def test_john_switches_par_on_and_connects(page: Any, apps: Apps) -> None:
    story.sign_in_to_awesomeservice(page, apps.awesome)
    page.get_by_role("button", name="Connect Mockgram").click()
    expect(page.locator("#par-state")).to_have_text("off")

    page.get_by_role("button", name="Push the request first (PAR)").click()
    expect(page.locator("#par-state")).to_have_text("on")
    expect(page.get_by_role("heading", name="With PAR")).to_be_visible()
    full = int(page.locator("#full-length").inner_text().split()[0])
    short = int(page.locator("#short-length").inner_text().split()[0])
    assert short < full

    continue_link = page.get_by_role("link", name="Continue to Mockgram")
    href = continue_link.get_attribute("href") or ""
    assert set(parse_qs(urlsplit(href).query)) == {"client_id", "request_uri"}, href
    continue_link.click()
    page.wait_for_url(at(apps.mockgram, "/login"))
    page.get_by_label("Username").fill("john")
    page.get_by_label("Password").fill(MOCKGRAM_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(at(apps.mockgram, "/consent"))
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(at(apps.awesome, "/photos"))
    expect(page.locator("article.photo").first).to_be_visible()
