"""Tour mode: every page of the story shows its step banner (which step of six, who talks to
whom, what just happened, what comes next); one click hides or shows it, per browser; the
toggle returns to local paths only; the tour index lists the steps and the flows."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from shared.steps import STEPS
from tests.e2e.browser import find_form
from tests.e2e.conftest import AWESOME, AWESOME_PASSWORD, MOCKGRAM, MOCKGRAM_PASSWORD, World


def shown(html: str) -> str:
    return html.replace("&#39;", "'").replace("&#34;", '"').replace("&amp;", "&")


def assert_banner(html: str, number: int) -> None:
    text = shown(html)
    step = STEPS[number]
    assert f"Step {number} of 6 — {step.headline}" in text
    assert step.who in text and step.happened in text and step.coming in text
    assert "Hide the tour" in text


def story_until_consent(world: World) -> tuple[str, str]:
    """Sign in at the print shop, press Connect, sign in at Mockgram; return (step 1, 3 pages)."""
    browser = world.browser
    page = browser.get(f"{AWESOME}/login")
    browser.follow(
        browser.submit(find_form(page.text, "/login"), username="john", password=AWESOME_PASSWORD)
    )
    home = browser.get(f"{AWESOME}/")
    preview = browser.submit(find_form(home.text, "/connect"))
    link = re.search(r'href="(' + re.escape(MOCKGRAM) + r'/oauth/authorize\?[^"]+)"', preview.text)
    assert link
    login_page = browser.follow(browser.get(link.group(1).replace("&amp;", "&")))
    assert_banner(login_page.text, 2)
    consent = browser.follow(
        browser.submit(
            find_form(login_page.text, "/login"), username="john", password=MOCKGRAM_PASSWORD
        )
    )
    return preview.text, consent.text


def test_each_story_page_shows_its_banner(world: World) -> None:
    preview, consent = story_until_consent(world)
    assert_banner(preview, 1)
    assert_banner(consent, 3)
    assert "Step 3 of 6 — Mockgram asks John whether AwesomeService may read his photos" in shown(
        consent
    )
    photos = world.browser.follow(
        world.browser.submit(find_form(consent, "/consent"), button=("decision", "allow"))
    )
    photos = world.browser.follow(photos)
    assert urlsplit(world.browser.url).path == "/photos"
    assert_banner(photos.text, 6)
    assert_banner(world.browser.get(f"{MOCKGRAM}/developers").text, 0)


def test_hide_and_show_the_tour_in_one_click_and_back_to_the_same_page(world: World) -> None:
    _preview, consent = story_until_consent(world)
    consent_url = world.browser.url
    hidden = world.browser.submit(find_form(consent, "/tour/toggle"))
    assert hidden.status_code == 303
    assert hidden.headers["location"] == consent_url.removeprefix(MOCKGRAM)
    page = world.browser.follow(hidden)
    assert "Hide the tour" not in page.text and "Show the tour" in page.text
    assert "Step 3 of 6 ·" in page.text  # a slim reminder stays
    assert find_form(page.text, "/consent")  # the consent form itself is untouched
    # The choice is per app and per browser: AwesomeService still shows it.
    assert "Hide the tour" in world.browser.get(f"{AWESOME}/tour").text
    page = world.browser.get(consent_url)
    assert "Show the tour" in page.text  # the choice outlives the page: it is in the session
    shown_again = world.browser.follow(world.browser.submit(find_form(page.text, "/tour/toggle")))
    assert_banner(shown_again.text, 3)


def test_toggle_goes_back_to_local_paths_only(world: World) -> None:
    page = world.browser.get(f"{AWESOME}/tour")
    form = find_form(page.text, "/tour/toggle")
    for back in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "evil", "/\x00"):
        response = world.browser.submit(form, back=back)
        assert response.status_code == 303 and response.headers["location"] == "/"
    ok = world.browser.submit(form, back="/orders?x=1")
    assert ok.headers["location"] == "/orders?x=1"


def test_toggle_on_a_callback_page_never_repeats_the_code(world: World) -> None:
    """C7: a callback URL's code and state are not copied into the page, nor replayed."""
    world.browser.get(f"{AWESOME}/login")
    page = world.browser.get(f"{AWESOME}/connect/callback?code=SECRETCODE123&state=forged")
    assert "SECRETCODE123" not in page.text
    form = find_form(page.text, "/tour/toggle")
    assert dict(form.fields)["back"] == "/"


def test_toggle_without_csrf_token_changes_nothing(world: World) -> None:
    response = world.awesome_client.post("/tour/toggle", data={"show": "0", "back": "/tour"})
    assert response.status_code == 403
    assert "Hide the tour" in world.browser.get(f"{AWESOME}/tour").text


def test_tour_default_setting_off_hides_banners_until_asked(world: World) -> None:
    world.mockgram.state.settings.tour_default = False
    try:
        page = world.browser.get(f"{MOCKGRAM}/developers")
        assert "Show the tour" in page.text and "Hide the tour" not in page.text
    finally:
        world.mockgram.state.settings.tour_default = True


def test_tour_index_lists_steps_and_flows_and_mockgram_links_to_it(world: World) -> None:
    page = world.browser.get(f"{AWESOME}/tour")
    assert page.status_code == 200
    text = shown(page.text)
    for number in range(7):
        assert STEPS[number].headline in text
    for href in (
        "/login/mockgram",
        "/spa/implicit",
        "/spa/pkce",
        "/inspector",
        "/debugger",
        "/lab",
    ):
        assert f'href="{href}"' in page.text
    assert 'action="/connect"' in page.text
    assert f'href="{AWESOME}/tour"' in world.browser.get(f"{MOCKGRAM}/").text


def test_tour_index_steps_are_links_that_start_them(world: World) -> None:
    browser = world.browser
    page = browser.get(f"{AWESOME}/tour")
    # Step 0 happens on Mockgram's developer portal, before any flow.
    portal = re.search(r'href="(' + re.escape(MOCKGRAM) + r'/developers)"', page.text)
    assert portal and browser.get(portal.group(1)).status_code == 200
    # Steps 1 to 5 are one run of Connect Mockgram: one button for them, not five alike (and
    # one in the flows table, one more for connecting with PAR); for a signed-in reader it
    # opens step 1's page.
    assert page.text.count('action="/connect"') == 3
    assert "Connect Mockgram with PAR" in page.text
    assert "Start Connect Mockgram (steps 1 to 5)" in page.text
    signed_in = browser.follow(
        browser.submit(
            find_form(browser.get(f"{AWESOME}/login").text, "/login"),
            username="john",
            password=AWESOME_PASSWORD,
        )
    )
    assert signed_in.status_code == 200
    started = browser.submit(find_form(browser.get(f"{AWESOME}/tour").text, "/connect"))
    assert_banner(started.text, 1)
    assert f"{MOCKGRAM}/oauth/authorize?" in shown(started.text)
    # Step 6 is the photo grid.
    assert 'href="/photos"' in page.text


def test_no_lab_banner_by_default(world: World) -> None:
    assert "lab-banner" not in world.browser.get(f"{AWESOME}/tour").text
    assert "lab-banner" not in world.browser.get(f"{MOCKGRAM}/").text


def test_an_openid_login_consent_is_not_told_as_the_photos_story(world: World) -> None:
    browser = world.browser
    start = browser.get(f"{AWESOME}/login/mockgram")
    login_page = browser.follow(browser.get(start.headers["location"]))
    consent = browser.follow(
        browser.submit(
            find_form(login_page.text, "/login"), username="john", password=MOCKGRAM_PASSWORD
        )
    )
    assert urlsplit(browser.url).path == "/consent" and "openid" in consent.text
    assert "Step 3 of 6" not in consent.text  # the banner's question is about photos


STOPPED = "This step was refused, so the story stops here"


def test_a_refused_step_says_the_story_stops_instead_of_telling_what_comes_next(
    world: World,
) -> None:
    browser = world.browser
    # Mockgram refuses an unregistered redirect_uri at step 1: no "asks him to sign in" next.
    refused = browser.get(
        f"{MOCKGRAM}/oauth/authorize?response_type=code&client_id=awesomeservice"
        "&redirect_uri=https://attacker.example/cb&scope=photos.read&state=s"
    )
    assert refused.status_code == 400
    text = shown(refused.text)
    assert f"Step 1 of 6 — {STEPS[1].headline}" in text
    assert STOPPED in text and STEPS[1].coming not in text
    # AwesomeService refuses a callback it never asked for at step 4.
    page = browser.get(f"{AWESOME}/login")
    browser.submit(find_form(page.text, "/login"), username="john", password=AWESOME_PASSWORD)
    forged = browser.get(f"{AWESOME}/connect/callback?code=c&state=never-sent&iss={MOCKGRAM}")
    assert forged.status_code == 400
    text = shown(forged.text)
    assert "Step 4 of 6" in text and STOPPED in text and STEPS[4].coming not in text
    assert "this step was refused" in text and STEPS[4].happened not in text


def test_mockgrams_sign_in_page_on_its_own_is_not_step_2(world: World) -> None:
    page = world.browser.get(f"{MOCKGRAM}/login")
    assert page.status_code == 200
    assert "Step 2 of 6" not in page.text  # no app's request was checked: just a sign-in


def test_only_the_articles_request_is_told_as_steps_2_and_3(world: World) -> None:
    browser = world.browser
    # Log in with Mockgram: an OpenID request, not the photos story, at sign-in and at consent.
    start = browser.get(f"{AWESOME}/login/mockgram")
    login_page = browser.follow(browser.get(start.headers["location"]))
    assert urlsplit(browser.url).path == "/login" and "Step 2 of 6" not in login_page.text
    # The implicit flow's request: a token, not a code, so not the story's step 3 either.
    implicit = browser.get(
        f"{MOCKGRAM}/oauth/authorize?response_type=token&client_id=awesomeservice-spa-implicit"
        f"&redirect_uri={AWESOME}/spa/implicit&scope=photos.read&state=s"
    )
    page = browser.follow(implicit)
    consent = browser.follow(
        browser.submit(find_form(page.text, "/login"), username="john", password=MOCKGRAM_PASSWORD)
    )
    assert urlsplit(browser.url).path == "/consent" and "Step 3 of 6" not in consent.text


def test_after_the_refused_delete_the_banner_does_not_say_try_a_delete(world: World) -> None:
    preview, consent = story_until_consent(world)
    browser = world.browser
    photos = browser.follow(
        browser.follow(browser.submit(find_form(consent, "/consent"), button=("decision", "allow")))
    )
    tried = re.search(r'action="(/photos/\d+/try-delete)"', photos.text)
    assert tried
    refused = browser.submit(find_form(photos.text, tried.group(1)))
    text = shown(refused.text)
    assert "Step 6 of 6" in text and STEPS[6].coming not in text
    assert "cannot delete one" in text
    # What just happened is the delete, not the code and the photos of the usual step 6.
    assert "John pressed Try to delete" in text and STEPS[6].happened not in text
    assert text.count("Step 6 of 6") == 1  # the badge shows the number, the headline says it
