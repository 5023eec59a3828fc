"""'Which response type?': code, token and code id_token run for real against Mockgram (through
the debugger), and the page shows, for each, what came through the browser, what through the
back channel, and what a thief reading the address bar would get."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.e2e.browser import find_form
from tests.e2e.conftest import AWESOME, World
from tests.e2e.test_debugger import _sign_in_and_allow


def _column(page: str, response_type: str) -> str:
    found = re.search(
        rf'data-response-type="{re.escape(response_type)}">(.*?)</section>', page, re.S
    )
    assert found, response_type
    return unescape(found.group(1))


def _run(world: World, response_type: str, *, first: bool) -> Any:
    """Press the contender's button; Mockgram signs John in (the first time) and asks consent."""
    browser = world.browser
    page = browser.get(f"{AWESOME}/response-types")
    form = next(
        f for f in _forms(page.text) if dict(f.values()).get("response_type") == response_type
    )
    sent = browser.submit(form)
    assert sent.status_code == 303, sent.text[:500]
    if first:
        back = _sign_in_and_allow(world, sent)
    else:
        consent = browser.follow(sent)
        back = (
            browser.submit(find_form(consent.text, "/consent"), button=("decision", "allow"))
            if consent.status_code == 200
            else consent
        )
    location = back.headers["location"]
    answer = browser.follow(back)
    fragment = urlsplit(location).fragment
    if fragment:  # what debugger_fragment.js does: post the fragment back
        answer = browser.submit(
            find_form(answer.text, "/debugger/callback"), **dict(parse_qsl(fragment))
        )
    assert answer.status_code == 200, answer.text[:2000]
    assert "/response-types" in answer.text  # the way back to the comparison
    return answer


def _forms(html: str) -> list[Any]:
    from tests.e2e.browser import forms

    return [f for f in forms(html) if f.action.endswith("/debugger")]


def test_three_response_types_side_by_side(world: World) -> None:
    browser = world.browser
    page = browser.get(f"{AWESOME}/response-types")
    assert page.status_code == 200 and page.text.count("Not run yet in this browser") == 3

    answer = _run(world, "code", first=True)
    browser.submit(find_form(answer.text, "/debugger/exchange"))
    _run(world, "token", first=False)
    answer = _run(world, "code id_token", first=False)
    browser.submit(find_form(answer.text, "/debugger/exchange"))

    page = browser.get(f"{AWESOME}/response-types").text
    code = _column(page, "code")
    assert "by <strong>query</strong>" in code and "useless alone" in code
    assert "access_token" not in code.split("Through the back channel:")[0]
    assert re.search(r"<th>access_token</th>", code.split("Through the back channel:")[1])

    token = _column(page, "token")
    assert "by <strong>fragment</strong>" in token
    assert "a working access token" in token and "Nothing: there was no code to trade" in token

    hybrid = _column(page, "code id_token")
    front, back = hybrid.split("Through the back channel:")
    assert "<th>id_token</th>" in front and "<th>code</th>" in front
    assert "<th>access_token</th>" not in front and "<th>access_token</th>" in back
    assert "John's identity" in hybrid and "useless alone" in hybrid
    # Shortened before they were kept: no whole token on the page.
    assert not re.search(r"eyJ[\w-]{40,}", page)
