"""Mockgram's side of the flow: John's activity page lists his sign-ins (and a failed one), the
consent, the code issued and redeemed, the tokens issued, a refused code replay, and the
revocation — and never a password, a code or a token."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from sqlmodel import Session, select

from awesomeservice.models import MockgramConnection
from tests.e2e.browser import find_form
from tests.e2e.conftest import AWESOME, CLIENT_SECRET, MOCKGRAM, MOCKGRAM_PASSWORD, World
from tests.e2e.test_story import _authorization_link, _sign_in_to_awesomeservice

ROW = re.compile(r'<tr class="activity-[a-z_]+" data-kind="([a-z_]+)">')


def test_johns_activity_page_tells_mockgrams_side(world: World) -> None:
    browser = world.browser
    _sign_in_to_awesomeservice(world)
    preview = browser.submit(find_form(browser.get(f"{AWESOME}/").text, "/connect"))
    login_page = browser.follow(browser.get(_authorization_link(preview.text)))
    wrong = browser.submit(
        find_form(login_page.text, "/login"), username="john", password="not-his-password"
    )
    assert wrong.status_code in (200, 400, 401)
    right = browser.submit(
        find_form(wrong.text, "/login"), username="john", password=MOCKGRAM_PASSWORD
    )
    consent = browser.follow(right)
    redirect = browser.submit(find_form(consent.text, "/consent"), button=("decision", "allow"))
    code = parse_qs(urlsplit(redirect.headers["location"]).query)["code"][0]
    assert browser.follow(browser.follow(redirect)).status_code == 200  # the photo grid

    # Someone replays the code: refused (RFC 6749 §4.1.2, checklist 18).
    replay = world.mockgram_client.post(
        f"{MOCKGRAM}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": f"{AWESOME}/connect/callback",
        },
        auth=("awesomeservice", CLIENT_SECRET),
    )
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"

    apps = browser.get(f"{MOCKGRAM}/apps")
    assert browser.submit(find_form(apps.text, "/apps/awesomeservice/revoke")).status_code == 303

    page = browser.get(f"{MOCKGRAM}/me/activity")
    assert page.status_code == 200 and "Your activity" in page.text
    assert 'href="/me/activity"' in page.text  # linked from Mockgram's nav
    kinds = list(reversed(ROW.findall(page.text)))  # oldest first
    expected_order = [
        "login_failed",
        "login",
        "consent_given",
        "code_issued",
        "code_redeemed",
        "token_issued",
        "refused",
        "consent_revoked",
    ]
    positions = [kinds.index(kind) for kind in expected_order]
    assert positions == sorted(positions), kinds
    assert "token_revoked" in kinds[positions[-1] - 1 :]
    assert "AwesomeService" in page.text

    with Session(world.awesome.state.engine) as db:
        connection = db.exec(select(MockgramConnection)).one()
    for secret in (
        MOCKGRAM_PASSWORD,
        "not-his-password",
        CLIENT_SECRET,
        code,
        connection.access_token,
        connection.refresh_token or CLIENT_SECRET,
    ):
        assert secret not in page.text


def test_the_activity_page_needs_a_signed_in_person(world: World) -> None:
    response = world.mockgram_client.get(f"{MOCKGRAM}/me/activity")
    assert response.status_code == 303 and response.headers["location"] == "/login"
