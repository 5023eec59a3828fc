"""'Log in with Mockgram' clicked through in Chromium against both apps as real servers.

John, signed out of the print shop, presses "Log in with Mockgram", signs in on Mockgram only,
approves `openid profile email`, and comes back signed in, looking at the claims AwesomeService
checked; the inspector then shows the id_token it validated, and no password or secret. When he
presses Deny instead, the print shop says so in words and nobody is signed in.
"""

from __future__ import annotations

import re
from typing import Any

from tests.browser import story
from tests.browser.apps import Apps
from tests.browser.story import MOCKGRAM_PASSWORD, expect


def test_john_logs_in_with_mockgram(page: Any, apps: Apps) -> None:
    story.log_in_with_mockgram_until_consent(page, apps.awesome, apps.mockgram)
    story.allow_login_and_see_claims(page, apps.awesome, apps.mockgram)

    # The flow inspector recorded the id_token it validated, and none of the secrets.
    page.goto(f"{apps.awesome}/inspector")
    expect(page.get_by_text(re.compile("Valid signature")).first).to_be_visible()
    html = page.content()
    assert MOCKGRAM_PASSWORD not in html
    assert "awesomeservice-demo-secret" not in html


def test_john_denies_log_in_with_mockgram_and_nobody_is_signed_in(page: Any, apps: Apps) -> None:
    story.log_in_with_mockgram_until_consent(page, apps.awesome, apps.mockgram)
    story.deny_login(page, apps.awesome)
