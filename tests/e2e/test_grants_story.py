"""The print shop's other grants, both apps together: the nightly job's own token (client
credentials), the print lab's exchanged token (token exchange), and the page comparing flows."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace

from sqlmodel import Session, col, select

from awesomeservice.models import MockgramConnection, PrintOrder
from mockgram.models import IssuedToken, Photo, User
from tests.e2e.browser import find_form
from tests.e2e.conftest import AWESOME, CLIENT_SECRET, World
from tests.e2e.test_story import _connect_until_consent, _sign_in_to_awesomeservice

JSON_BLOCK = re.compile(r'<pre class="json">(.*?)</pre>', re.S)


def _json_blocks(page: str) -> list[dict]:
    return [json.loads(html.unescape(block)) for block in JSON_BLOCK.findall(page)]


def test_the_nightly_job_gets_a_token_for_itself_that_reads_nobodys_photos(world: World) -> None:
    browser = world.browser
    _sign_in_to_awesomeservice(world)  # John is signed in to the shop; the job is not him
    page = browser.get(f"{AWESOME}/print-queue")
    assert page.status_code == 200 and "Run tonight" in page.text
    ran = browser.submit(find_form(page.text, "/print-queue/run"))
    assert ran.status_code == 200, ran.text
    sent, received, header, claims = _json_blocks(ran.text)
    assert sent == {
        "grant_type": "client_credentials",
        "scope": "photos.read",
        "resource": "http://mockgram.test/api",  # from the photos API's RFC 9728 metadata
    }
    assert received["refresh_token"].startswith("(none")
    assert header["typ"] == "at+jwt"
    assert claims["sub"] == claims["client_id"] == "awesomeservice"
    assert claims["aud"] == "http://mockgram.test/api"
    # What it can and cannot do: the photos API refuses it, politely.
    assert "GET /api/photos" in ran.text and "insufficient_scope" in ran.text
    assert "speaks for no person" in ran.text
    assert CLIENT_SECRET not in ran.text
    with Session(world.mockgram.state.engine) as db:
        stored = db.get(IssuedToken, claims["jti"])
        assert stored is not None and stored.user_id is None
    # The inspector recorded the grant under its own name and RFC section.
    inspector = browser.get(f"{AWESOME}/inspector")
    assert 'data-kind="client_credentials"' in inspector.text
    assert 'data-kind="resource_metadata"' in inspector.text


def _connect_and_order(world: World) -> int:
    browser = world.browser
    _sign_in_to_awesomeservice(world)
    _, consent = _connect_until_consent(world)
    redirect = browser.submit(find_form(consent.text, "/consent"), button=("decision", "allow"))
    photos_page = browser.follow(browser.follow(redirect))
    assert photos_page.status_code == 200
    with Session(world.mockgram.state.engine) as db:
        john = db.exec(select(User).where(User.username == "john")).one()
        photo_ids = db.exec(
            select(Photo.id).where(Photo.owner_id == john.id).order_by(col(Photo.id))
        ).all()[:2]
    chosen = [str(pid) for pid in photo_ids]
    order_form = browser.submit(find_form(photos_page.text, "/orders/new"), tick=chosen)
    placed = browser.submit(
        find_form(order_form.text, "/orders"),
        shipping_name="John Appleseed",
        shipping_address="1 Infinite Loop",
    )
    assert placed.status_code == 303
    with Session(world.awesome.state.engine) as db:
        order = db.exec(select(PrintOrder)).one()
    assert order.id is not None
    return order.id


def test_the_print_lab_gets_an_exchanged_token_naming_the_print_shop(world: World) -> None:
    browser = world.browser
    order_id = _connect_and_order(world)
    order_page = browser.get(f"{AWESOME}/orders/{order_id}")
    handed = browser.submit(find_form(order_page.text, f"/orders/{order_id}/print-lab"))
    assert handed.status_code == 200, handed.text
    sent, johns, labs = _json_blocks(handed.text)
    assert sent["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange"
    assert sent["subject_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    assert labs["sub"] == johns["sub"]  # the same person
    assert labs["act"] == {"sub": "awesomeservice"} and "act" not in johns
    assert labs["scope"] == "photos.read" and labs["aud"] == "http://mockgram.test/api"
    assert labs["exp"] <= johns["exp"] and labs["jti"] != johns["jti"]
    # The lab read the order's photos, and could not delete one.
    assert handed.text.count('<span class="badge ok">200</span>') == 2
    assert "DELETE /api/photos/" in handed.text and "insufficient_scope" in handed.text
    # John's own token never reached the page.
    with Session(world.awesome.state.engine) as db:
        connection = db.exec(select(MockgramConnection)).one()
    assert connection.access_token not in handed.text
    inspector = browser.get(f"{AWESOME}/inspector")
    assert 'data-kind="token_exchange"' in inspector.text


def test_running_the_job_needs_a_signed_in_visitor(world: World) -> None:
    browser = world.browser
    page = browser.get(f"{AWESOME}/print-queue")
    refused = browser.submit(find_form(page.text, "/print-queue/run"))
    assert refused.status_code in (302, 303, 401)  # sent to sign in; no token was asked for
    with Session(world.mockgram.state.engine) as db:
        assert db.exec(select(IssuedToken)).first() is None


def test_someone_elses_order_is_not_handed_to_the_lab(world: World) -> None:
    browser = world.browser
    _sign_in_to_awesomeservice(world)
    page = browser.get(f"{AWESOME}/print-queue")  # any page: for the CSRF token in the session
    form = replace(find_form(page.text, "/print-queue/run"), action="/orders/999/print-lab")
    refused = browser.submit(form)
    assert refused.status_code == 404


def test_which_flow_when_compares_the_six_flows(world: World) -> None:
    page = world.browser.get(f"{AWESOME}/flows")
    assert page.status_code == 200
    for name in (
        "Authorization code",
        "PKCE",
        "Implicit",
        "Client credentials",
        "Device authorization",
        "Token exchange",
    ):
        assert name in page.text
    for column in ("Who is present", "Where the token travels", "What a thief can do"):
        assert column in page.text
    tour = world.browser.get(f"{AWESOME}/tour")
    assert 'href="/print-queue"' in tour.text and 'href="/flows"' in tour.text
