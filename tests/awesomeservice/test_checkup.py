"""The provider check-up against a small standards-breaking provider (an httpx MockTransport):
every rule it breaks fails its row, the page says what that lets an attacker do, and a row that
could not be run says "not run" with why. The test plays the provider's authorization endpoint
for the browser's trips; the check-up's own calls go through the app's one HTTP client."""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from awesomeservice.app import create_app
from awesomeservice.checkup.rows import ROWS
from awesomeservice.checkup.store import CheckupRun
from awesomeservice.settings import AwesomeServiceSettings
from tests.awesomeservice.conftest import csrf, login

SLOPPY = "https://sloppy.example"


@dataclass
class SloppyProvider:
    """Breaks the rules a client can see: any redirect URI, no PKCE check, codes that never
    wear out, no iss, a token beside the code in the query, unknown scopes granted, refresh
    tokens that never rotate."""

    token_forms: list[dict[str, str]] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    change_state: bool = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(str(request.url))
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": SLOPPY,
                    "authorization_endpoint": f"{SLOPPY}/authorize",
                    "token_endpoint": f"{SLOPPY}/token",
                    "code_challenge_methods_supported": ["S256", "plain"],
                },
            )
        if path == "/authorize":  # sends anyone anywhere they ask, before any sign-in
            query = dict(parse_qsl(request.url.query.decode()))
            answer = {"code": "c-" + secrets.token_hex(4), "state": query.get("state", "")}
            return httpx.Response(
                302, headers={"location": f"{query['redirect_uri']}?{urlencode(answer)}"}
            )
        if path == "/token":
            form = dict(parse_qsl(request.content.decode()))
            self.token_forms.append(form)
            return httpx.Response(
                200,
                json={
                    "access_token": "at-" + secrets.token_hex(8),
                    "token_type": "Bearer",
                    "refresh_token": "the-one-refresh-token",
                    "scope": "openid checkup-no-such-scope",
                },
            )
        return httpx.Response(404)

    def answer(self, leg_url: str) -> dict[str, str]:
        """What the provider's authorization endpoint sends the browser back with."""
        query = dict(parse_qsl(urlsplit(leg_url).query))
        state = query["state"].replace("+", " ") if self.change_state else query["state"]
        return {"code": "c-" + secrets.token_hex(4), "state": state, "access_token": "leaked"}


async def public(host: str, port: int) -> list[str]:
    return ["93.184.215.14"]


@pytest.fixture
def sloppy() -> SloppyProvider:
    return SloppyProvider()


@pytest.fixture
def app(settings: AwesomeServiceSettings, sloppy: SloppyProvider) -> FastAPI:
    app = create_app(settings, http_transport=httpx.MockTransport(sloppy.handler))
    app.state.destination_guard.resolver = public  # no DNS in tests: a public address
    return app


_LEG_URL = re.compile(r'<a class="button" href="([^"]+)">Continue at the provider')


def start(client: TestClient, **fields: str) -> httpx.Response:
    form = {
        "csrf_token": csrf(client),
        "issuer": SLOPPY,
        "client_id": "checkup",
        "client_secret": "checkup-secret",
        "scope": "openid",
        **fields,
    }
    return client.post("/checkup", data=form)


def walk(client: TestClient, sloppy: SloppyProvider) -> httpx.Response:
    """Start a run and play the provider for each of the browser's trips; the report."""
    started = start(client)
    assert started.status_code == 303, started.text[:500]
    page = client.get(started.headers["location"])
    match = _LEG_URL.search(page.text)
    assert match, page.text[:500]
    url = html.unescape(match.group(1))
    while url.startswith(SLOPPY):
        back = client.get("/checkup/callback", params=sloppy.answer(url))
        assert back.status_code == 303
        url = back.headers["location"]
    return client.get(url)


def grades(page: httpx.Response) -> dict[str, str]:
    found = re.findall(r'class="checkup-row checkup-(\w+)" data-row="(\w+)"', page.text)
    return {key: grade for grade, key in found}


def test_a_standards_breaking_provider_fails_each_rule_it_breaks(
    client: TestClient, sloppy: SloppyProvider
) -> None:
    login(client)
    report = walk(client, sloppy)
    shown = grades(report)
    assert set(shown) == {row.key for row in ROWS}
    assert {key for key, grade in shown.items() if grade == "fail"} == {
        "redirect_trailing_slash",
        "redirect_extra_path",
        "redirect_other_port",
        "redirect_other_host",
        "redirect_scheme",
        "pkce_missing",
        "pkce_wrong",
        "pkce_plain",
        "code_replay",
        "iss_returned",
        "unknown_scope",
        "no_token_in_query",
    }
    assert shown["state_unchanged"] == "pass"
    # No rotation is allowed for confidential clients: a warning, and reuse cannot be tested.
    assert shown["refresh_rotation"] == "warn" and shown["refresh_reuse"] == "not_run"
    assert 'Grade: <span class="checkup-grade">F</span>' in report.text
    # What each failure lets an attacker do, with the RFC line.
    assert "The attacker&#39;s own site receives the victim&#39;s authorization code" in report.text
    assert 'href="https://www.rfc-editor.org/rfc/rfc7636#section-4.6"' in report.text
    assert "Redirected to the near miss http://awesome.test/checkup/callback/extra" in report.text


def test_a_changed_state_fails_and_its_code_is_never_used(
    client: TestClient, sloppy: SloppyProvider
) -> None:
    sloppy.change_state = True  # decodes its "+" as a space, a classic slip
    login(client)
    report = walk(client, sloppy)
    shown = grades(report)
    assert shown["state_unchanged"] == "fail"
    # RFC 6749 §10.12: no code whose state did not match goes to the token endpoint.
    assert sloppy.token_forms == []
    assert shown["pkce_missing"] == shown["code_replay"] == "not_run"
    assert "The state did not match, so the code was not used." in report.text


def test_the_secret_is_kept_only_while_the_run_needs_it(
    client: TestClient, sloppy: SloppyProvider, app: FastAPI
) -> None:
    login(client)
    assert start(client).status_code == 303
    with Session(app.state.engine) as session:
        assert session.exec(select(CheckupRun)).one().client_secret == "checkup-secret"
    walk(client, sloppy)
    with Session(app.state.engine) as session:
        runs = session.exec(select(CheckupRun)).all()
    assert [run.client_secret for run in runs] == ["", ""]
    # Token requests authenticated with it (client_secret_basic, the metadata's default).
    assert all("client_secret" not in form for form in sloppy.token_forms)


def test_a_trip_the_provider_never_returns_from_is_not_run_with_why(
    client: TestClient, sloppy: SloppyProvider
) -> None:
    login(client)
    page = client.get(start(client).headers["location"])
    run_path = urlsplit(str(page.url)).path
    skipped = client.post(f"{run_path}/skip", data={"csrf_token": csrf(client)})
    assert skipped.status_code == 303
    page = client.get(run_path)
    assert grades(page)["pkce_missing"] == "not_run"
    assert "The provider did not send the browser back" in page.text
    assert "Step 2 of 5" in page.text


def test_each_person_sees_only_their_own_runs(
    make_client: Callable[[], TestClient], make_user: Callable[..., object]
) -> None:
    john, jane = make_client(), make_client()
    make_user("jane", "jane-password")
    login(john)
    login(jane, "jane", "jane-password")
    run_path = start(john).headers["location"]
    assert jane.get(run_path).status_code == 404
    assert "sloppy.example" not in jane.get("/checkup").text
    # An answer jane's browser brings belongs to no run of hers: nothing is done with it.
    stray = jane.get("/checkup/callback", params={"code": "c", "state": "s"})
    assert stray.status_code == 400 and "No check-up was waiting" in stray.text


def test_the_checkup_needs_a_signed_in_person(client: TestClient) -> None:
    answer = client.get("/checkup")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_outside_demo_mode_a_provider_on_this_machine_is_refused(
    make_client: Callable[[], TestClient], app: FastAPI, sloppy: SloppyProvider
) -> None:
    app.state.destination_guard.allow_loopback = False
    client = make_client()
    login(client)
    page = start(client, issuer="http://localhost:8080/realms/demo")
    assert page.status_code == 400 and "must be an https://" in page.text
    assert sloppy.seen == []  # nothing was fetched


def test_in_demo_mode_a_provider_on_loopback_is_allowed(
    client: TestClient, app: FastAPI, sloppy: SloppyProvider
) -> None:
    async def loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    app.state.destination_guard.resolver = loopback
    login(client)
    # The guard lets the discovery URL through (the fake has no document there).
    page = start(client, issuer="http://localhost:8080/realms/demo")
    assert "http://localhost:8080/realms/demo/.well-known/openid-configuration" in sloppy.seen
    assert page.status_code == 400 and "No usable discovery document" in page.text


@pytest.mark.parametrize("run_id", ["0", "-1", str(2**70), "x"])
def test_a_run_id_that_is_no_run_is_a_page_not_a_server_error(
    client: TestClient, run_id: str
) -> None:
    login(client)
    assert client.get(f"/checkup/runs/{run_id}").status_code in (400, 404)
    skipped = client.post(f"/checkup/runs/{run_id}/skip", data={"csrf_token": csrf(client)})
    assert skipped.status_code in (303, 400)


def test_the_form_needs_an_issuer_and_a_client_id(client: TestClient) -> None:
    login(client)
    page = start(client, issuer="", client_id="")
    assert page.status_code == 400 and "The issuer and the client_id are needed." in page.text
    assert 'value="checkup-secret"' not in page.text  # a secret is never echoed back


def test_values_longer_than_their_columns_are_refused_in_words(client: TestClient) -> None:
    login(client)
    page = start(client, client_id="c" * 501)
    assert page.status_code == 400 and "The client_id is longer than 500 characters." in page.text
