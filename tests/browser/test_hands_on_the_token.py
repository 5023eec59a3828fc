"""Hands on the token, clicked through in Chromium against both apps as real servers: the request
console (tokens shown, a refresh that rotates, the replay that revokes the grant, another origin
refused), "You decide" at the paused callback, and "Which response type?" run for real.

The three tests share one pair of servers (starting them is most of a browser test's time); each
has its own browser context, so its own cookies."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import story
from tests.browser.apps import Apps, both_apps
from tests.browser.story import MOCKGRAM_PASSWORD, at, expect


@pytest.fixture(scope="module")
def apps(playwright: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apps]:
    """Both apps as real servers, once for this module (in-memory SQLite)."""
    log_dir: Path = tmp_path_factory.mktemp("hands-on-the-token")
    with both_apps(
        mockgram_database_url="sqlite://", awesome_database_url="sqlite://", log_dir=log_dir
    ) as running:
        yield running


def _mockgram_sign_in_and_allow(page: Any, mockgram: str) -> None:
    """Mockgram's sign-in, then Allow if Mockgram asks; a remembered consent is only narrated
    (step 3's "you already agreed" page, with Continue)."""
    page.wait_for_url(at(mockgram, "/login"))
    page.get_by_label("Username").fill("john")
    page.get_by_label("Password").fill(MOCKGRAM_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: not url.startswith(f"{mockgram}/login"), wait_until="commit")
    if page.url.startswith(f"{mockgram}/consent"):
        allow = page.get_by_role("button", name="Allow")
        page.get_by_role("link", name=re.compile(r"^Continue to ")).or_(allow).click()


def test_you_decide_a_forged_state_plays_login_csrf(page: Any, apps: Apps) -> None:
    story.sign_in_to_awesomeservice(page, apps.awesome)
    page.goto(f"{apps.awesome}/inspector")
    page.get_by_role("button", name="Turn step-through on").click()
    expect(page.get_by_role("button", name="Turn step-through off")).to_be_visible()
    page.goto(f"{apps.awesome}/")
    page.get_by_role("button", name="Connect Mockgram", exact=True).click()
    expect(
        page.get_by_role("heading", name=re.compile("About to send your browser"))
    ).to_be_visible()
    page.get_by_role("button", name="Send", exact=True).click()
    _mockgram_sign_in_and_allow(page, apps.mockgram)
    expect(page.get_by_role("heading", name=re.compile("You decide"))).to_be_visible()
    page.get_by_role("button", name="Forge this answer").click()
    expect(page.get_by_text("This answer is now")).to_be_visible()
    page.get_by_role("button", name="It matches, continue").click()
    expect(page.get_by_role("heading", name=re.compile("Simulation"))).to_be_visible()
    expect(page.get_by_text("John's print shop is now linked")).to_be_visible()
    page.get_by_role("link", name="Let AwesomeService check it").click()
    page.wait_for_url(at(apps.awesome, "/connect/callback"))
    expect(page.locator("main")).to_contain_text("state")
    page.goto(f"{apps.awesome}/photos")
    expect(page.get_by_role("heading", name="Your Mockgram photos")).to_have_count(0)


def test_the_console_refreshes_replays_and_refuses_another_origin(page: Any, apps: Apps) -> None:
    story.sign_in_to_awesomeservice(page, apps.awesome)
    page.get_by_role("button", name="Connect Mockgram", exact=True).click()
    page.get_by_role("link", name="Continue to Mockgram").click()
    _mockgram_sign_in_and_allow(page, apps.mockgram)
    page.wait_for_url(at(apps.awesome, "/photos"))
    page.get_by_role("link", name="request console", exact=True).click()
    expect(page.get_by_role("heading", name="Hands on the token")).to_be_visible()
    whole = page.locator("code.token-whole[data-token=access]")
    expect(whole).to_be_hidden()
    page.get_by_text("Show the whole tokens").click()
    expect(whole).to_be_visible()
    assert (whole.text_content() or "").count(".") == 2  # a JWT, shown whole

    page.get_by_role("link", name="Refresh", exact=True).click()
    page.get_by_role("button", name="Send to Mockgram").click()
    expect(page.get_by_text("Rotation.")).to_be_visible()
    page.get_by_role("link", name="replaying the old refresh token").click()
    page.get_by_role("button", name="Send to Mockgram").click()
    expect(page.get_by_text("The whole grant is revoked.")).to_be_visible()
    expect(page.locator("pre.raw-response")).to_contain_text("invalid_grant")

    page.locator("input[name=url]").fill("http://127.0.0.1:9/")
    page.get_by_role("button", name="Send to Mockgram").click()
    expect(page.get_by_role("alert")).to_contain_text("server-side request forgery")


def test_which_response_type_runs_for_real(page: Any, apps: Apps) -> None:
    page.goto(f"{apps.awesome}/response-types")
    page.get_by_role("button", name="Run code id_token against Mockgram").click()
    _mockgram_sign_in_and_allow(page, apps.mockgram)
    # The fragment is read by the debugger's script and posted back.
    page.get_by_role("button", name="Exchange the code").click()
    expect(page.get_by_text("The token endpoint answered")).to_be_visible()
    page.get_by_role("link", name=re.compile("Back to .Which response type")).click()

    page.get_by_role("button", name="Run token against Mockgram").click()
    page.wait_for_url(re.compile(re.escape(apps.mockgram) + "/consent|" + re.escape(apps.awesome)))
    if "/consent" in page.url:
        page.get_by_role("button", name="Allow").click()
    page.get_by_role("link", name=re.compile("Back to .Which response type")).click()

    hybrid = page.locator('[data-response-type="code id_token"]')
    expect(hybrid.locator("table.front-channel")).to_contain_text("id_token")
    expect(hybrid.locator("table.back-channel")).to_contain_text("access_token")
    token = page.locator('[data-response-type="token"]')
    expect(token.locator("ul.thief")).to_contain_text("a working access token")
    expect(page.locator('[data-response-type="code"]')).to_contain_text("Not run yet")
