"""AwesomeService's side of PAR (RFC 9126) against the fake provider: what is pushed, where,
how it is authenticated, and what John is told when the push cannot happen."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi.testclient import TestClient

from tests.awesomeservice.conftest import INTERNAL, ISSUER, FakeMockgram, csrf, login


def test_without_a_par_endpoint_john_is_told_and_sent_nowhere(
    client: TestClient, fake: FakeMockgram
) -> None:
    login(client)
    page = client.post("/connect", data={"csrf_token": csrf(client), "par": "on"})
    assert page.status_code == 502
    assert "names no PAR endpoint" in page.text
    assert f"{ISSUER}/oauth/authorize" not in page.text


def test_the_push_goes_to_the_back_channel_with_basic_auth_and_a_refusal_is_a_page(
    client: TestClient, fake: FakeMockgram
) -> None:
    fake.metadata_overrides["pushed_authorization_request_endpoint"] = f"{ISSUER}/oauth/par"
    login(client)
    page = client.post("/connect", data={"csrf_token": csrf(client), "par": "on"})
    (pushed,) = fake.requests_to("/oauth/par")
    assert str(pushed.url) == f"{INTERNAL}/oauth/par"
    assert pushed.headers["authorization"].startswith("Basic ")
    form = dict(parse_qsl(pushed.content.decode()))
    assert form["response_type"] == "code" and form["code_challenge_method"] == "S256"
    assert "client_secret" not in form  # Basic, not the body
    # The fake knows no PAR endpoint: it answers 404, and the push is refused in words.
    assert page.status_code == 400
    assert "Mockgram refused our pushed request" in page.text
    assert f"{ISSUER}/oauth/authorize" not in page.text


def test_the_tour_starts_connect_with_par(client: TestClient) -> None:
    tour = client.get("/tour")
    assert "Connect Mockgram with PAR" in tour.text
    assert '<input type="hidden" name="par" value="on">' in tour.text
    assert "Sign out at Mockgram too" in tour.text
