"""Issue 5: Mockgram's public URL and AwesomeService's back-channel URL are two settings.

Mockgram's public URL is `http://mockgram.test:PORT`, a name AwesomeService's server cannot
resolve; only the browser reaches it (Chromium maps the name to 127.0.0.1). AwesomeService's
back end uses AWESOMESERVICE_MOCKGRAM_INTERNAL_URL=http://127.0.0.1:PORT. If any browser-facing
URL used the internal address, or any server call used the public one, the story would break.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from tests.browser import chromium, story
from tests.browser.apps import Apps

PUBLIC_NAME = "mockgram.test"


@pytest.fixture(scope="module")
def mapping_browser(playwright: Any) -> Iterator[Any]:
    launched = playwright.chromium.launch(
        **chromium.launch_options(f"--host-resolver-rules=MAP {PUBLIC_NAME} 127.0.0.1")
    )
    yield launched
    launched.close()


@pytest.fixture
def split_apps(start_apps: Callable[..., AbstractContextManager[Apps]]) -> Iterator[Apps]:
    with start_apps(mockgram_host=PUBLIC_NAME) as running:
        yield running


def test_the_story_passes_with_a_public_name_only_the_browser_can_resolve(
    mapping_browser: Any, split_apps: Apps
) -> None:
    with pytest.raises(OSError):  # the servers' side: the public name does not resolve
        socket.getaddrinfo(PUBLIC_NAME, None)
    assert split_apps.mockgram.startswith(f"http://{PUBLIC_NAME}:")
    context = mapping_browser.new_context(viewport=chromium.VIEWPORT)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        story.the_whole_story(page, split_apps.awesome, split_apps.mockgram)
    finally:
        context.close()


def test_log_in_with_mockgram_passes_with_a_public_name_only_the_browser_can_resolve(
    mapping_browser: Any, split_apps: Apps
) -> None:
    """Discovery, the token call, JWKS and userinfo go to 127.0.0.1; the browser to mockgram.test.

    The id_token's `iss`, shown on the claims page, is the public issuer, not the internal URL.
    """
    assert split_apps.mockgram.startswith(f"http://{PUBLIC_NAME}:")
    assert split_apps.mockgram_internal.startswith("http://127.0.0.1:")
    context = mapping_browser.new_context(viewport=chromium.VIEWPORT)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        story.log_in_with_mockgram_until_consent(page, split_apps.awesome, split_apps.mockgram)
        story.allow_login_and_see_claims(page, split_apps.awesome, split_apps.mockgram)
        main = page.locator("main")
        story.expect(main).not_to_contain_text(f'"iss": "{split_apps.mockgram_internal}"')
    finally:
        context.close()
