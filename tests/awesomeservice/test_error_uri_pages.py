"""AwesomeService's own refusals explain themselves: /errors/{reason} gives cause, fix and RFC;
the callback's error page links there; Mockgram's codes go to Mockgram's pages; the lab lists
its attacks and has no lab-mode switch unless lab mode is on."""

from __future__ import annotations

import pytest

from awesomeservice.pages.errors_explained import REASONS
from tests.awesomeservice.conftest import ISSUER


@pytest.mark.parametrize("reason", sorted(REASONS))
def test_each_refusal_reason_is_explained(client, reason: str) -> None:  # type: ignore[no-untyped-def]
    page = client.get(f"/errors/{reason}")
    assert page.status_code == 200
    assert "Why it happens" in page.text and "What to do" in page.text
    assert REASONS[reason].rfc.split(";")[0] in page.text.replace("&#39;", "'")


def test_mockgram_codes_go_to_mockgram_and_unknown_is_404(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/errors/invalid_grant")
    assert response.status_code == 303
    assert response.headers["location"] == f"{ISSUER}/errors/invalid_grant"
    assert client.get("/errors/whatever").status_code == 404


def test_callback_refusal_links_to_its_explanation(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/connect/callback", params={"code": "c", "iss": ISSUER})
    assert page.status_code == 400
    assert 'href="/errors/state_missing"' in page.text


def test_lab_page_without_lab_mode_has_no_switch(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/lab")
    assert page.status_code == 200
    assert page.text.count('action="/lab/') == 8
    assert "defence_off" not in page.text and "lab-banner" not in page.text


def test_lab_refuses_a_run_without_csrf_and_unknown_attacks(client) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/lab/stolen-code", data={}).status_code == 403
    assert client.post("/lab/nope", data={}).status_code == 404
