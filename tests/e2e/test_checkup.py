"""The provider check-up against Mockgram in one process: full marks; and against Mockgram in
lab mode with a defence switched off for the check-up's client — the row for that defence fails.

The browser signs in to the print shop, registers a client at Mockgram (RFC 7591) with the
check-up's redirect URI, runs the check-up, signs in and consents at Mockgram once; the later
trips come straight back with consent remembered."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from awesomeservice.checkup.rows import ROWS
from awesomeservice.checkup.store import CheckupRun
from mockgram.control import accounts
from tests.e2e.browser import Browser, find_form
from tests.e2e.conftest import (
    AWESOME,
    AWESOME_PASSWORD,
    CLIENT_SECRET,
    MOCKGRAM,
    MOCKGRAM_PASSWORD,
    World,
    build_apps,
)

REDIRECT_URI = f"{AWESOME}/checkup/callback"


def register_client(mockgram: FastAPI) -> tuple[str, str]:
    """A confidential client at Mockgram with the check-up's redirect URI, as the control plane
    registers one (RFC 7591 would refuse plain http off loopback, and this host is a test's)."""
    with Session(mockgram.state.engine) as session:
        _client, secret = accounts.upsert_client(
            session,
            client_id="checkup",
            name="Check-up",
            redirect_uris=[REDIRECT_URI],
            public=False,
            scopes=None,
            secret=None,
            response_types=None,
            id_token_signed_response_alg=None,
        )
        session.commit()
    assert secret is not None
    return "checkup", secret


def sign_in_to_the_print_shop(browser: Browser) -> None:
    page = browser.get(f"{AWESOME}/login")
    signed_in = browser.submit(
        find_form(page.text, "/login"), username="john", password=AWESOME_PASSWORD
    )
    assert signed_in.status_code == 303


def run_checkup(browser: Browser, client_id: str, secret: str, **fields: str) -> Any:
    """Start a run, walk every leg (signing in and consenting at Mockgram the first time), and
    return the report page."""
    form = find_form(browser.get(f"{AWESOME}/checkup").text, "/checkup")
    started = browser.submit(
        form, issuer=MOCKGRAM, client_id=client_id, client_secret=secret, **fields
    )
    assert started.status_code == 303, started.text[:500]
    page = browser.follow(started)
    assert page.status_code == 200 and "Continue at the provider" in page.text
    link = re.search(r'<a class="button" href="([^"]+)">Continue at the provider', page.text)
    assert link is not None
    answer = browser.get(unescape(link.group(1)))
    for _ in range(30):  # every hop, one at a time: Mockgram, the callback, the next leg
        path = urlsplit(browser.url).path
        if answer.status_code == 200 and path == "/login":
            answer = browser.submit(
                find_form(answer.text, "/login"), username="john", password=MOCKGRAM_PASSWORD
            )
        elif answer.status_code == 200 and path == "/consent":
            answer = browser.submit(
                find_form(answer.text, "/consent"), button=("decision", "allow")
            )
        elif answer.status_code in (302, 303):
            answer = browser.follow(answer)
        else:
            break
    assert answer.status_code == 200, answer.text[:800]
    assert re.match(rf"{AWESOME}/checkup/runs/\d+$", browser.url), browser.url
    return answer


def row_grades(page: Any) -> dict[str, str]:
    """Row key → the grade the report shows."""
    found = re.findall(r'class="checkup-row checkup-(\w+)" data-row="(\w+)"', page.text)
    return {key: grade for grade, key in found}


def test_mockgram_gets_full_marks(world: World) -> None:
    client_id, secret = register_client(world.mockgram)
    sign_in_to_the_print_shop(world.browser)
    report = run_checkup(world.browser, client_id, secret, scope="openid")
    shown = row_grades(report)
    assert set(shown) == {row.key for row in ROWS}
    assert {key: grade for key, grade in shown.items() if grade != "pass"} == {}
    assert 'Grade: <span class="checkup-grade">A+</span>' in report.text
    assert "Full marks" in report.text
    # The RFC line for each row, and what a failure would let an attacker do.
    assert "RFC 9207 §2" in report.text and "mix-up attack" in report.text
    # Stored per user, and the client secret is forgotten once the run is over.
    with Session(world.awesome.state.engine) as session:
        run = session.exec(select(CheckupRun)).one()
    assert run.finished_at is not None and run.client_secret == ""
    listing = world.browser.get(f"{AWESOME}/checkup")
    assert client_id in listing.text and "A+" in listing.text


@pytest.fixture
def lab_world(mockgram_database_url: str, awesome_database_url: str) -> Iterator[World]:
    mockgram, awesome = build_apps(
        mockgram_database_url, awesome_database_url, name="checkup-lab", lab_mode=True
    )
    with (
        TestClient(mockgram, base_url=MOCKGRAM, follow_redirects=False) as mockgram_client,
        TestClient(awesome, base_url=AWESOME, follow_redirects=False) as awesome_client,
    ):
        browser = Browser({MOCKGRAM: mockgram_client, AWESOME: awesome_client})
        yield World(mockgram, awesome, browser, mockgram_client, awesome_client)


def test_defences_switched_off_at_mockgram_fail_their_rows(lab_world: World) -> None:
    client_id, secret = register_client(lab_world.mockgram)
    for defence in ("pkce", "single_use"):  # each for the client's next request it would refuse
        switched = lab_world.mockgram_client.post(
            "/lab/defence-off",
            data={"defence": defence, "client_id": client_id},
            auth=httpx.BasicAuth("awesomeservice", CLIENT_SECRET),
        )
        assert switched.status_code == 200, switched.text
    sign_in_to_the_print_shop(lab_world.browser)
    report = run_checkup(lab_world.browser, client_id, secret, scope="openid")
    shown = row_grades(report)
    assert {key for key, grade in shown.items() if grade != "pass"} == {
        "pkce_missing",
        "code_replay",
    }
    assert shown["pkce_missing"] == shown["code_replay"] == "fail"
    assert "Tokens were issued for a code without its code_verifier." in report.text
    assert "Tokens were issued for the same code a second time." in report.text
    assert "Full marks" not in report.text and 'checkup-grade">D<' in report.text
