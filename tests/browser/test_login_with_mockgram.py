"""'Log in with Mockgram' clicked through in Chromium against both apps as real servers.

John, signed out of the print shop, presses "Log in with Mockgram", signs in on Mockgram only,
approves `openid profile email`, and comes back signed in, looking at the claims AwesomeService
checked; the inspector then shows the id_token it validated, and no password or secret.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.browser.apps import Apps
from tests.browser.story import MOCKGRAM_PASSWORD, at, expect


def test_john_logs_in_with_mockgram(page: Any, apps: Apps) -> None:
    awesome, mockgram = apps.awesome, apps.mockgram
    page.goto(f"{awesome}/login")
    page.get_by_role("link", name="Log in with Mockgram").click()

    # Step 1 of OpenID Connect: the browser is sent to Mockgram with state, nonce and PKCE.
    page.wait_for_url(at(mockgram, "/login"))
    request_id = parse_qs(urlsplit(page.url).query)["request_id"][0]
    assert request_id
    page.get_by_label("Username").fill("john")
    page.get_by_label("Password").fill(MOCKGRAM_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(at(mockgram, "/consent"))
    expect(page.get_by_text("Know who you are")).to_be_visible()
    expect(page.get_by_text("See your email address")).to_be_visible()
    page.get_by_role("button", name="Allow").click()

    # Back at the print shop, signed in, shown what Mockgram said and which checks passed.
    page.wait_for_url(at(awesome, "/login/mockgram/claims"))
    expect(page.get_by_role("heading", name="What Mockgram told us about you")).to_be_visible()
    main = page.locator("main")
    expect(main).to_contain_text(f'"iss": "{mockgram}"')
    expect(main).to_contain_text('"preferred_username": "john"')
    expect(main).to_contain_text('"email_verified": true')
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # The flow inspector recorded the id_token it validated, and none of the secrets.
    page.goto(f"{awesome}/inspector")
    expect(page.get_by_text(re.compile("Valid signature")).first).to_be_visible()
    html = page.content()
    assert MOCKGRAM_PASSWORD not in html
    assert "awesomeservice-demo-secret" not in html
