"""The attack lab, run against a real Mockgram (ASGI transport): each attack's defence holds,
and the page shows the request, the answer and why; lab mode's one-shot switch; no switch
outside lab mode."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from awesomeservice.lab.switches import DefenceSwitch
from tests.e2e.browser import Browser, find_form, forms
from tests.e2e.conftest import (
    AWESOME,
    AWESOME_PASSWORD,
    CLIENT_SECRET,
    MOCKGRAM,
    MOCKGRAM_PASSWORD,
    build_apps,
)


@pytest.fixture(params=[False], ids=["default"])
def lab(request, mockgram_database_url: str, awesome_database_url: str) -> Iterator[Browser]:  # type: ignore[no-untyped-def]
    mockgram, awesome = build_apps(
        mockgram_database_url, awesome_database_url, name="lab", lab_mode=request.param
    )
    with (
        TestClient(mockgram, base_url=MOCKGRAM, follow_redirects=False) as m,
        TestClient(awesome, base_url=AWESOME, follow_redirects=False) as a,
    ):
        browser = Browser({MOCKGRAM: m, AWESOME: a})
        browser.app = awesome  # type: ignore[attr-defined]
        yield browser


def run(browser: Browser, slug: str, **fields: str):  # type: ignore[no-untyped-def]
    page = browser.get(f"{AWESOME}/lab")
    assert page.status_code == 200
    return browser.submit(find_form(page.text, f"/lab/{slug}"), **fields)


def sign_in(browser: Browser) -> None:
    page = browser.get(f"{AWESOME}/login")
    response = browser.submit(
        find_form(page.text, "/login"), username="john", password=AWESOME_PASSWORD
    )
    assert response.status_code == 303


def shown(html: str) -> str:
    return html.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")


def test_lab_lists_nine_attacks_each_with_a_button(lab: Browser) -> None:
    page = lab.get(f"{AWESOME}/lab")
    assert page.status_code == 200
    assert len(re.findall(r'action="/lab/[a-z-]+"', page.text)) == 9
    assert "jane" in page.text  # the page says whose account the lab plays


def test_attack_1_stolen_code_without_secret_is_invalid_client(lab: Browser) -> None:
    page = run(lab, "stolen-code")
    assert page.status_code == 200
    text = shown(page.text)
    assert "Defence held" in text
    assert "HTTP 401" in text and '"error": "invalid_client"' in text
    assert "POST http://mockgram.test/oauth/token" in text
    assert "the client secret" in text  # why it fails: the article's reason for step 5
    assert "client_secret=" not in text  # the thief sent none


def test_attack_2_code_replay_is_invalid_grant_and_revokes_the_first_token(lab: Browser) -> None:
    text = shown(run(lab, "code-replay").text)
    assert "Defence held" in text
    assert '"error": "invalid_grant"' in text
    assert "HTTP 200" in text and "HTTP 401" in text  # first redemption, then the revoked token
    assert "revokes every token" in text


def test_attack_3_tampered_redirect_uri_gets_a_page_and_no_redirect(lab: Browser) -> None:
    text = shown(run(lab, "tampered-redirect").text)
    assert "Defence held" in text
    assert "HTTP 400" in text and "location:" not in text
    assert "attacker.example" in text


def test_attack_4_forged_callback_with_wrong_state_is_refused(lab: Browser) -> None:
    sign_in(lab)
    text = shown(run(lab, "forged-callback").text)
    assert "Defence held" in text
    assert "GET http://awesome.test/connect/callback" in text
    assert "HTTP 400" in text and "We did not send this request" in text


def test_attack_5_delete_with_read_token_is_403_insufficient_scope(lab: Browser) -> None:
    text = shown(run(lab, "delete-photo").text)
    assert "Defence held" in text
    assert "DELETE http://mockgram.test/api/photos/" in text
    assert "HTTP 403" in text and 'error="insufficient_scope"' in text
    assert "opening problem" in text


def test_attack_6_public_client_code_without_verifier_is_invalid_grant(lab: Browser) -> None:
    text = shown(run(lab, "pkce-missing").text)
    assert "Defence held" in text and '"error": "invalid_grant"' in text


def test_attack_7_implicit_token_sits_in_the_url(lab: Browser) -> None:
    text = shown(run(lab, "implicit-token").text)
    assert "Attack succeeded" in text
    assert "GET http://mockgram.test/oauth/authorize?response_type=token" in text
    assert "HTTP 303" in text
    assert re.search(
        r"location: http://awesome\.test/spa/implicit#access_token=\S+… \(\d+ characters\)", text
    )
    assert "none (never in this flow)" in text
    assert "Why the flow cannot defend against it" in text
    assert 'href="/spa/implicit"' in text  # and the reader can see it in their own address bar


def test_attack_8_mix_up_wrong_iss_is_refused(lab: Browser) -> None:
    sign_in(lab)
    text = shown(run(lab, "mix-up").text)
    assert "Defence held" in text
    assert "attacker.example" in text and "wrong server" in text
    # The forged callback is shown as a reader reads it: masked values, not percent-encoded.
    assert re.search(r"/connect/callback\?code=\S+… \(43 characters\)&state=\S+… \(", text)
    assert "%E2%80%A6" not in text


def test_attack_8_needs_sign_in_and_says_so(lab: Browser) -> None:
    text = shown(run(lab, "mix-up").text)
    assert "could not run" in text and "Sign in" in text


SLUGS = [
    "stolen-code",
    "code-replay",
    "tampered-redirect",
    "forged-callback",
    "delete-photo",
    "pkce-missing",
    "implicit-token",
    "mix-up",
]
# A token, code or verifier the lab shows: only its first characters and its length.
SHOWN_VALUE = re.compile(
    r'(?:"(?:access_token|refresh_token|id_token)": "'
    r"|(?:code|code_verifier|access_token)="
    r"|Authorization: Bearer )"
    r"([^\s\"&]+)"
)


def test_every_attack_explains_itself_and_shows_no_secret(
    lab: Browser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sign_in(lab)
    for slug in SLUGS:
        page = run(lab, slug)
        assert page.status_code == 200, slug
        text = shown(page.text)
        assert "Defence held" in text or slug == "implicit-token", slug
        why = re.search(r"Why [^<]+</h2>\s*<p class=\"lab-why\">([^<]{40,})", text)
        assert why, f"{slug}: no paragraph on why it fails"
        for secret in (CLIENT_SECRET, MOCKGRAM_PASSWORD, AWESOME_PASSWORD):
            assert secret not in text, slug
        for value in SHOWN_VALUE.findall(text):
            assert "…" in value or value.startswith("****"), (slug, value)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (CLIENT_SECRET, MOCKGRAM_PASSWORD, AWESOME_PASSWORD):
        assert secret not in logged


def test_no_switch_exists_outside_lab_mode(lab: Browser) -> None:
    page = lab.get(f"{AWESOME}/lab")
    assert "defence_off" not in page.text and "lab-banner" not in page.text
    sign_in(lab)
    text = shown(run(lab, "mix-up", defence_off="1").text)  # the field is ignored
    assert "Defence held" in text
    with Session(lab.app.state.engine) as session:  # type: ignore[attr-defined]
        assert session.exec(select(DefenceSwitch)).all() == []


@pytest.mark.parametrize("lab", [True], ids=["lab-mode"], indirect=True)
def test_lab_mode_switch_lets_the_attack_through_once(lab: Browser) -> None:
    page = lab.get(f"{AWESOME}/lab")
    assert "lab-banner" in page.text and "Lab mode is on" in page.text
    sign_in(lab)
    page = lab.get(f"{AWESOME}/lab")
    switches = {f.action for f in forms(page.text) if ("defence_off", "1") in f.fields}
    assert switches == {f"/lab/{slug}" for slug in MOCKGRAM_SWITCHES} | {"/lab/mix-up"}
    broken = shown(run(lab, "mix-up", defence_off="1").text)
    assert "Attack succeeded" in broken and "switched off for this one run" in broken
    assert "sent its code on to the token endpoint" in broken  # it went past the iss check
    assert "Why it fails while the defence is on" in broken
    assert "refused before redeeming" not in broken
    again = shown(run(lab, "mix-up").text)  # the switch was one-shot
    assert "Defence held" in again
    mockgram_home = lab.get(f"{MOCKGRAM}/")
    assert "lab-banner" in mockgram_home.text


MOCKGRAM_SWITCHES = {
    "stolen-code": "the thief got a token with the code alone",
    "code-replay": "The replay was not refused",
    "pkce-missing": "the interceptor got a token without the verifier",
}


@pytest.mark.parametrize("lab", [True], ids=["lab-mode"], indirect=True)
@pytest.mark.parametrize("slug", sorted(MOCKGRAM_SWITCHES))
def test_lab_mode_switches_a_mockgram_defence_off_for_one_run(lab: Browser, slug: str) -> None:
    broken = shown(run(lab, slug, defence_off="1").text)
    assert "Attack succeeded" in broken and MOCKGRAM_SWITCHES[slug] in broken
    assert "HTTP 200" in broken  # the token came
    assert "switched off for this one run" in broken
    assert "Why it fails while the defence is on" in broken
    assert "no token without" not in broken and "is worthless" not in broken
    again = shown(run(lab, slug).text)  # one shot: the next run meets the defence again
    assert "Defence held" in again


def test_mockgram_has_no_switch_outside_lab_mode(lab: Browser) -> None:
    response = lab.clients[MOCKGRAM].post(
        "/lab/defence-off", data={"defence": "client_secret", "client_id": "awesomeservice"}
    )
    assert response.status_code == 404
    assert "Defence held" in shown(run(lab, "stolen-code", defence_off="1").text)


@pytest.mark.parametrize("lab", [True], ids=["lab-mode"], indirect=True)
def test_in_lab_mode_only_awesomeservice_itself_may_switch_a_mockgram_defence_off(
    lab: Browser,
) -> None:
    switch = {"defence": "client_secret", "client_id": "awesomeservice"}
    anyone = lab.clients[MOCKGRAM].post("/lab/defence-off", data=switch)
    assert anyone.status_code == 401 and anyone.json()["error"] == "invalid_client"
    wrong = lab.clients[MOCKGRAM].post(
        "/lab/defence-off", data=switch, auth=("awesomeservice", "not-the-secret")
    )
    assert wrong.status_code == 401
    # Nothing was switched off: the stolen code still meets client authentication.
    assert "Defence held" in shown(run(lab, "stolen-code").text)


def test_attack_9_a_stolen_token_works_as_bearer_and_not_when_dpop_bound(lab: Browser) -> None:
    text = shown(run(lab, "stolen-token").text)
    assert "Defence held" in text
    # A: the bearer token replayed from elsewhere read the photos; B: refused both ways.
    assert "the stolen bearer token read Jane's photos" in text
    assert '"token_type": "DPoP"' in text
    assert 'DPoP error="invalid_token"' in text
    assert '"error": "invalid_dpop_proof"' in text
    assert "RFC 9449" in text
