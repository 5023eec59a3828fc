"""Every page of both apps, checked by axe-core in one real browser: no serious or critical
accessibility violation (contrast, names and labels, landmarks, …).

One test, one browser, one pair of servers: the story is clicked through once (each of its
pages checked as it is reached, through the story's screenshot hook), then every other page is
opened in turn, signed in where that is what a reader sees.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser import axe, chromium, story
from tests.browser.apps import Apps
from tests.browser.story import expect

# Pages a reader opens directly (the story's own pages are checked on the way).
AWESOMESERVICE_PAGES = (
    "/",
    "/tour",
    "/inspector",
    "/inspector/diagram",
    "/debugger",
    "/lab",
    "/spa/implicit",
    "/spa/pkce",
    "/doctor",
    "/orders",
    "/errors/state_unknown",
    "/photos/1/try-delete",  # a reload of a result page: back to the grid
    "/console",
    "/checkup",
    "/kiosk",
    "/flows",
    "/response-types",
    "/print-queue",
)
MOCKGRAM_PAGES = (
    "/",
    "/apps",
    "/me/activity",
    "/developers",
    "/developers/requests",
    "/errors",
    "/device",
)
# Counts the lines a table header's text is laid out on: one, unless a word was broken.
HEADER_LINES = """header => {
    const range = document.createRange();
    range.selectNodeContents(header);
    return new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size;
}"""
SIGNED_OUT_PAGES = ("/login", "/signup")


def test_no_serious_or_critical_violation_on_any_page(browser: Any, apps: Apps) -> None:
    reason = axe.missing()
    if reason is not None:
        pytest.skip(f"accessibility check skipped: {reason}")
    # The apps' Content-Security-Policy forbids injected scripts; axe is the test's, not theirs.
    context = browser.new_context(viewport=chromium.VIEWPORT, bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    found: dict[str, list[dict[str, Any]]] = {}

    def check(_name: str = "") -> None:
        where = urlsplit(page.url)
        found[f"{where.netloc}{where.path}"] = axe.violations(page)

    try:
        for path in SIGNED_OUT_PAGES:
            page.goto(f"{apps.awesome}{path}")
            check()
        story.the_whole_story(page, apps.awesome, apps.mockgram, shot=check)
        for path in AWESOMESERVICE_PAGES:
            page.goto(f"{apps.awesome}{path}")
            check()
            if path == "/inspector":
                # The parameter tables' headers stay whole ("PARAMETER", never "PARAMET/ER"),
                # even on a narrow screen where the value column is squeezed.
                page.set_viewport_size({"width": 480, "height": 900})
                headers = page.locator("table.params th")
                assert headers.count() > 0
                assert {headers.nth(n).evaluate(HEADER_LINES) for n in range(3)} == {1}
                page.set_viewport_size(chromium.VIEWPORT)
        for path in MOCKGRAM_PAGES:
            page.goto(f"{apps.mockgram}{path}")
            check()
        # While the browser is here: the debugger's preview follows the form as it changes.
        page.goto(f"{apps.awesome}/debugger")
        preview = page.locator("#debugger-preview")
        expect(preview).to_contain_text(f"{apps.mockgram}/oauth/authorize?response_type=code")
        form = page.locator("form").filter(has=page.locator("#debugger-preview"))
        form.get_by_label("prompt").select_option("login")
        form.get_by_label("scope", exact=True).fill("openid email")
        expect(preview).to_contain_text("scope=openid+email")
        expect(preview).to_contain_text("prompt=login")
        reopen = page.get_by_role("link", name="A link to this form")
        expect(reopen).to_have_attribute("href", re.compile(r"prompt=login.*pkce=on"))
    finally:
        context.close()
    assert len(found) > 25, sorted(found)  # the walk really went everywhere
    failing = [
        f"{where}: {problem['id']} ({problem['impact']}) {problem['help']} — {node}"
        for where, problems in sorted(found.items())
        for problem in problems
        for node in problem["nodes"]
    ]
    assert not failing, "\n".join(failing)
