"""The article's story as John clicks it in a real browser (Playwright driving Chromium).

Used by the browser tests and by scripts/screenshots.py: `shot(name)` is called at each step
that has something to see (the screenshot script saves a PNG there; the tests pass nothing).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from playwright.sync_api import Page

AWESOME_PASSWORD = "awesome-demo"  # AWESOMESERVICE_DEMO_PASSWORD in demo mode (shared/demo.py)
MOCKGRAM_PASSWORD = "mockgram-demo"  # MOCKGRAM_DEMO_PASSWORD in demo mode
SHIPPING_NAME = "John Doe"

Shot = Callable[[str], None]


def expect(target: Any) -> Any:
    """Playwright's auto-waiting assertions, imported late: without Playwright the tests skip
    (tests/browser/conftest.py) instead of failing to import."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def no_shot(_name: str) -> None:
    """The tests' `shot`: nothing to save."""


def at(url_prefix: str, path: str) -> re.Pattern[str]:
    """Matches a page URL on that origin and path (any query)."""
    return re.compile(re.escape(url_prefix + path) + r"(\?.*)?$")


def sign_in_to_awesomeservice(page: Page, awesome: str, shot: Shot = no_shot) -> None:
    page.goto(f"{awesome}/")
    shot("awesomeservice-home")
    page.goto(f"{awesome}/login")
    page.get_by_label("Username").fill("john")
    page.get_by_label("Password").fill(AWESOME_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Connect Mockgram")).to_be_visible()
    shot("awesomeservice-signed-in")


def connect_until_consent(
    page: Page, awesome: str, mockgram: str, shot: Shot = no_shot
) -> dict[str, str]:
    """Steps 1–3: Connect Mockgram, the request preview, Mockgram's login; stops at consent.

    Returns the authorization request's parameters, as the preview page's link carries them.
    """
    page.get_by_role("button", name="Connect Mockgram").click()
    continue_link = page.get_by_role("link", name="Continue to Mockgram")
    expect(continue_link).to_be_visible()
    shot("step1-authorization-request")
    href = continue_link.get_attribute("href") or ""
    assert href.startswith(f"{mockgram}/oauth/authorize?"), href
    request = {key: values[0] for key, values in parse_qs(urlsplit(href).query).items()}
    assert request["redirect_uri"] == f"{awesome}/connect/callback"
    assert request["scope"] == "photos.read" and request["code_challenge_method"] == "S256"

    continue_link.click()
    page.wait_for_url(at(mockgram, "/login"))
    expect(page.get_by_role("heading", name="Sign in to Mockgram")).to_be_visible()
    page.get_by_label("Username").fill("john")
    page.get_by_label("Password").fill(MOCKGRAM_PASSWORD)
    shot("step2-mockgram-login")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(at(mockgram, "/consent"))
    expect(page.get_by_role("heading", name=re.compile("Allow AwesomeService"))).to_be_visible()
    expect(page.get_by_text("See your photos")).to_be_visible()
    shot("step3-consent")
    return request


def allow_and_see_photos(page: Page, awesome: str, shot: Shot = no_shot) -> int:
    """Steps 4–6: Allow; back at AwesomeService with John's photos. Returns how many."""
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(at(awesome, "/photos"))
    expect(page.get_by_role("heading", name="Your Mockgram photos")).to_be_visible()
    photos = page.locator("article.photo")
    expect(photos.first).to_be_visible()
    # Every image arrived through AwesomeService's server (the browser never holds the token).
    page.wait_for_load_state("networkidle")
    widths = photos.locator("img").evaluate_all("images => images.map(i => i.naturalWidth)")
    assert widths and all(width > 0 for width in widths), widths
    shot("step6-photos")
    return photos.count()


def order_prints(page: Page, awesome: str, shot: Shot = no_shot) -> str:
    """John ticks two photos, orders prints, and finds the order in his history."""
    photos = page.locator("article.photo")
    captions = [photos.nth(n).locator("img").get_attribute("alt") or "" for n in (0, 1)]
    for n in (0, 1):
        photos.nth(n).get_by_label("Print").check()
    shot("choose-photos")
    page.get_by_role("button", name="Print the chosen photos").click()
    page.wait_for_url(at(awesome, "/orders/new"))
    page.locator("input[name=shipping_name]").fill(SHIPPING_NAME)
    page.locator("textarea[name=shipping_address]").fill("1 Photo Lane\nSpringfield")
    shot("order-form")
    page.get_by_role("button", name="Place the order").click()
    expect(
        page.get_by_role("heading", name=re.compile("your prints are on their way"))
    ).to_be_visible()
    for caption in captions:
        expect(page.get_by_text(caption).first).to_be_visible()
    order_url = page.url
    shot("order-placed")
    page.get_by_role("link", name="All your orders").click()
    page.wait_for_url(at(awesome, "/orders"))
    expect(page.get_by_role("heading", name="Your orders")).to_be_visible()
    expect(page.locator(f'a[href="{urlsplit(order_url).path}"]').first).to_be_visible()
    shot("order-history")
    return order_url


def try_to_delete(page: Page, awesome: str, shot: Shot = no_shot) -> None:
    """The token can read but not delete: Mockgram answers 403 insufficient_scope."""
    page.goto(f"{awesome}/photos")
    first = page.locator("article.photo").first
    caption = first.locator("img").get_attribute("alt") or ""
    # One quiet button for the whole grid, naming the first photo.
    page.get_by_role("button", name=f"Try to delete “{caption}”").click()
    expect(page.get_by_role("heading", name="Mockgram refused: your photo is safe")).to_be_visible()
    expect(page.locator("main")).to_contain_text("insufficient_scope")
    expect(page.locator("main")).to_contain_text("403")
    shot("try-to-delete-refused")
    page.goto(f"{awesome}/photos")
    expect(page.locator("article.photo img").first).to_have_attribute("alt", caption)


def the_whole_story(page: Page, awesome: str, mockgram: str, shot: Shot = no_shot) -> None:
    sign_in_to_awesomeservice(page, awesome, shot)
    connect_until_consent(page, awesome, mockgram, shot)
    assert allow_and_see_photos(page, awesome, shot) >= 2
    order_prints(page, awesome, shot)
    try_to_delete(page, awesome, shot)


def deny(page: Page, awesome: str, mockgram: str, shot: Shot = no_shot) -> None:
    """John says no on Mockgram: back at AwesomeService with access_denied and no photos."""
    sign_in_to_awesomeservice(page, awesome)
    connect_until_consent(page, awesome, mockgram)
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(re.compile(re.escape(awesome) + "/"))
    expect(page.locator("main")).to_contain_text("access_denied")
    expect(page.get_by_role("button", name=re.compile("Connect Mockgram"))).to_be_visible()
    shot("connect-denied")
    page.goto(f"{awesome}/photos")
    expect(page.locator("article.photo")).to_have_count(0)


def log_in_with_mockgram_until_consent(
    page: Page, awesome: str, mockgram: str, shot: Shot = no_shot
) -> str:
    """OpenID Connect steps 1–3: signed out, "Log in with Mockgram", Mockgram's login, consent.

    Returns the request_id Mockgram's login page carries.
    """
    page.goto(f"{awesome}/login")
    page.get_by_role("main").get_by_role("link", name="Log in with Mockgram").click()
    # Step 1: the browser is sent to Mockgram's public URL with state, nonce and PKCE.
    page.wait_for_url(at(mockgram, "/login"))
    request_id = parse_qs(urlsplit(page.url).query)["request_id"][0]
    assert request_id
    page.get_by_label("Username").fill("john")
    page.get_by_label("Password").fill(MOCKGRAM_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(at(mockgram, "/consent"))
    expect(page.get_by_text("Know who you are")).to_be_visible()
    expect(page.get_by_text("See your email address")).to_be_visible()
    shot("login-with-mockgram-consent")
    return request_id


def allow_login_and_see_claims(
    page: Page, awesome: str, mockgram: str, shot: Shot = no_shot
) -> None:
    """Allow: back at the print shop, signed in, shown the id_token's claims it checked."""
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(at(awesome, "/login/mockgram/claims"))
    expect(page.get_by_role("heading", name="What Mockgram told us about you")).to_be_visible()
    main = page.locator("main")
    # The issuer is Mockgram's public URL, whatever address AwesomeService's back end used.
    expect(main).to_contain_text(f'"iss": "{mockgram}"')
    expect(main).to_contain_text('"preferred_username": "john"')
    expect(main).to_contain_text('"email_verified": true')
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    shot("login-with-mockgram-claims")


def deny_login(page: Page, awesome: str, shot: Shot = no_shot) -> None:
    """Deny on "Log in with Mockgram": a friendly page, and nobody signed in."""
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(at(awesome, "/login/callback"))
    expect(
        page.get_by_role("heading", name="You chose not to log in with Mockgram")
    ).to_be_visible()
    main = page.locator("main")
    expect(main).to_contain_text("access_denied")
    expect(main).to_contain_text("Nothing was shared and nobody was signed in.")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    shot("login-with-mockgram-denied")
    # Nobody is signed in: a page for signed-in people sends the browser to the sign-in page.
    page.goto(f"{awesome}/login/mockgram/claims")
    page.wait_for_url(at(awesome, "/login"))
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
