"""The article's story clicked through in Chromium against both apps as real servers.

John signs in to AwesomeService, connects Mockgram, signs in on Mockgram, consents, comes back
to his photos, chooses two, orders prints and finds them in his order history; the "try to
delete" button meets Mockgram's 403 insufficient_scope. And John denying gets nothing shared.
"""

from __future__ import annotations

from typing import Any

from tests.browser import story
from tests.browser.apps import Apps


def test_john_clicks_through_the_whole_story(page: Any, apps: Apps) -> None:
    story.the_whole_story(page, apps.awesome, apps.mockgram)


def test_john_denies_on_mockgram_and_nothing_is_shared(page: Any, apps: Apps) -> None:
    story.deny(page, apps.awesome, apps.mockgram)
