"""The example app's own tests: only the plugin's documented fixtures."""

from __future__ import annotations


def test_log_in_with_mockgram_as_the_queued_person(app_client, log_in, next_login):
    next_login("alice", claims={"name": "Alice Example", "groups": ["admins"]})
    assert log_in().status_code == 303
    assert "Hello, Alice Example!" in app_client.get("/").text


def test_api_accepts_a_real_access_token(app_client, token_for):
    tokens = token_for("bob", "openid profile")
    answer = app_client.get("/api/me", headers={"Authorization": f"Bearer {tokens.access_token}"})
    assert answer.status_code == 200
    assert answer.json()["you_are"]["preferred_username"] == "bob"


def test_api_refuses_a_made_up_token(app_client):
    assert app_client.get("/api/me", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_a_refused_token_request_is_explained_not_a_crash(log_in, mockgram_faults):
    mockgram_faults.token_error("invalid_grant")
    answer = log_in()
    assert answer.status_code == 502
    assert "invalid_grant" in answer.text


def test_an_id_token_signed_with_an_unknown_key_is_not_trusted(app_client, log_in, mockgram_faults):
    mockgram_faults.unpublished_key()
    answer = log_in()
    assert answer.status_code == 502
    assert "could not be trusted" in answer.text
    assert "Log in with Mockgram" in app_client.get("/").text  # still signed out


def test_the_app_uses_pkce_and_its_secret(log_in, mockgram_requests):
    mockgram_requests.clear()
    log_in()
    authorize, token = (
        next(e for e in mockgram_requests.all() if e["path"] == path)
        for path in ("/oauth/authorize", "/oauth/token")
    )
    assert authorize["params"]["code_challenge_method"] == "S256"
    assert token["client_id"] == "login-example"  # HTTP Basic
    assert token["params"]["code_verifier"] == "[redacted]"
