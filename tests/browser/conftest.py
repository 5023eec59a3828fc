"""Real-browser tests: Playwright for Python driving Debian's Chromium, headless.

Without Chromium or the `playwright` package every test here is skipped, with the reason shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.browser import chromium
from tests.browser.apps import Apps, both_apps


# Module scope, not session: a live sync Playwright runs an event loop in this thread, and other
# tests (tests/e2e/test_spa_browser.py) start their own Playwright after these modules end.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    reason = chromium.missing()
    if reason is not None:
        pytest.skip(f"real-browser test skipped: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Any) -> Iterator[Any]:
    launched = playwright.chromium.launch(**chromium.launch_options())
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=chromium.VIEWPORT)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def start_apps(
    playwright: Any, mockgram_database_url: str, awesome_database_url: str, tmp_path: Path
) -> Callable[..., AbstractContextManager[Apps]]:
    """`both_apps` with this test's databases and log folder (skipped with no browser)."""
    return partial(
        both_apps,
        mockgram_database_url=mockgram_database_url,
        awesome_database_url=awesome_database_url,
        log_dir=tmp_path,
    )


@pytest.fixture
def apps(start_apps: Callable[..., AbstractContextManager[Apps]]) -> Iterator[Apps]:
    """Both apps as real uvicorn servers on free loopback ports (skipped with no browser)."""
    with start_apps() as running:
        yield running
