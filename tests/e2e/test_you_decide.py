"""'You decide' in step-through mode: at the paused callback the reader compares the state that
came back with the one sent. A genuine answer let in is traded; a forged one stopped is dropped;
a forged one let in plays the login-CSRF consequence, and AwesomeService still refuses it."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from sqlmodel import Session, select

from awesomeservice.inspector.decide import judge
from awesomeservice.models import MockgramConnection
from tests.e2e.browser import find_form
from tests.e2e.conftest import AWESOME, MOCKGRAM_PASSWORD, World
from tests.e2e.test_inspector import _turn_stepping_on
from tests.e2e.test_story import _sign_in_to_awesomeservice


def _paused_at_the_callback(world: World) -> tuple[Any, str]:
    """Step-through on, Connect, Send at step 1, sign in and allow: the paused callback and the
    state sent at step 1."""
    browser = world.browser
    _sign_in_to_awesomeservice(world)
    _turn_stepping_on(world)
    paused = browser.submit(find_form(browser.get(f"{AWESOME}/").text, "/connect"))
    sent_state = dict(find_form(paused.text, "/inspector/step/send").values())["p_state"]
    login = browser.follow(browser.follow(browser.submit(find_form(paused.text, "/step/send"))))
    consent = browser.follow(
        browser.submit(find_form(login.text, "/login"), username="john", password=MOCKGRAM_PASSWORD)
    )
    back = browser.submit(find_form(consent.text, "/consent"), button=("decision", "allow"))
    callback = browser.follow(back)
    assert "You decide" in callback.text and sent_state in callback.text
    return callback, sent_state


def _connected(world: World) -> bool:
    with Session(world.awesome.state.engine) as db:
        return db.exec(select(MockgramConnection)).first() is not None


def _decide(world: World, page: Any, decision: str) -> Any:
    form = find_form(page.text, "/inspector/step/send")
    return world.browser.submit(form, button=("decision", decision))


def test_the_verdicts_follow_the_truth_not_the_choice() -> None:
    assert judge("matches", "abc", "abc").kind == "go"
    assert judge("wrong", "abc", "abd").kind == "stopped_rightly"
    assert judge("wrong", "abc", "abc").kind == "false_alarm"
    assert judge("matches", "abc", "abd").kind == "fooled"
    assert judge("matches", "", "").kind == "fooled"  # nothing sent: nothing can match


def test_a_genuine_answer_judged_right_is_traded(world: World) -> None:
    callback, _sent = _paused_at_the_callback(world)
    wrongly = _decide(world, callback, "wrong")  # a false alarm: still paused
    assert wrongly.status_code == 200 and "Look again" in wrongly.text
    assert not _connected(world)
    going = _decide(world, wrongly, "matches")
    assert going.status_code == 303
    photos = world.browser.follow(world.browser.follow(going))
    assert photos.status_code == 200 and _connected(world)


def test_a_forged_answer_stopped_is_dropped(world: World) -> None:
    callback, sent = _paused_at_the_callback(world)
    forged = _decide(world, callback, "forge")
    assert "now <strong>forged</strong>" in forged.text
    stopped = _decide(world, forged, "wrong")
    text = unescape(stopped.text)
    assert "you stopped it" in text and sent in text
    assert not _connected(world)
    # Nothing is paused any more: Send has nothing to send.
    nothing = world.browser.submit(find_form(forged.text, "/inspector/step/send"))
    assert nothing.headers["location"] == "/inspector"


def test_a_forged_answer_let_in_plays_login_csrf_and_the_app_refuses_it(world: World) -> None:
    callback, _sent = _paused_at_the_callback(world)
    forged = _decide(world, callback, "forge")
    fooled = _decide(world, forged, "matches")
    text = unescape(fooled.text)
    assert fooled.status_code == 200 and "Simulation" in text
    assert "John's print shop is now linked to the attacker's Mockgram photos" in text
    go_on = re.search(r'href="([^"]*/connect/callback\?[^"]+)"', fooled.text)
    assert go_on, "the page lets the real app check the forged answer"
    refused = world.browser.get(unescape(go_on.group(1)))
    assert refused.status_code in (400, 403) and "state" in refused.text
    assert not _connected(world)
