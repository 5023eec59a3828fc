"""Signing out of a "Log in with Mockgram" session (OIDC RP-Initiated Logout), the client's
side, against the fake provider: what the browser is sent with, and when only we sign out."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from fastapi.testclient import TestClient

from tests.awesomeservice.conftest import (
    AWESOME_URL,
    CLIENT_ID,
    ISSUER,
    FakeMockgram,
    csrf,
    log_in_with_mockgram,
    login,
    session_payload,
)

END = f"{ISSUER}/session/end"


def sign_out(client: TestClient):  # type: ignore[no-untyped-def]
    return client.post("/logout", data={"csrf_token": csrf(client)})


def test_the_browser_goes_to_the_end_session_endpoint_with_the_login_id_token(
    client: TestClient, fake: FakeMockgram
) -> None:
    fake.metadata_overrides["end_session_endpoint"] = END
    assert log_in_with_mockgram(client, fake).status_code == 303
    response = sign_out(client)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(END + "?")
    sent = dict(parse_qsl(urlsplit(location).query))
    assert sent["client_id"] == CLIENT_ID
    assert sent["post_logout_redirect_uri"] == f"{AWESOME_URL}/login/signed-out"
    assert sent["id_token_hint"].count(".") == 2 and sent["state"]
    # Signed out here already: only the state waits for the way back.
    assert "user_id" not in session_payload(client)
    back = client.get("/login/signed-out", params={"state": sent["state"]})
    assert back.status_code == 303
    assert "and of Mockgram" in client.get("/").text
    # The state works once.
    client.get("/login/signed-out", params={"state": sent["state"]})
    assert "did not confirm" in client.get("/").text


def test_without_an_end_session_endpoint_only_we_sign_out(
    client: TestClient, fake: FakeMockgram
) -> None:
    log_in_with_mockgram(client, fake)
    response = sign_out(client)
    assert response.headers["location"] == "/"
    assert "user_id" not in session_payload(client)


def test_a_password_session_never_goes_to_mockgram(client: TestClient, fake: FakeMockgram) -> None:
    fake.metadata_overrides["end_session_endpoint"] = END
    login(client)
    assert sign_out(client).headers["location"] == "/"
