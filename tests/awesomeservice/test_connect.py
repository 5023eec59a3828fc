"""'Connect Mockgram': step 1's request, the callback's checks (C1, C2, C3, C7), step 5 failures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from awesomeservice.models import MockgramConnection, PendingAuthorization
from shared.clock import utcnow
from shared.pkce import s256_challenge
from tests.awesomeservice.conftest import (
    AWESOME_URL,
    ISSUER,
    FakeMockgram,
    callback,
    connect,
    csrf,
    login,
    session_payload,
    start_connect,
)


def connections(db: Session) -> list[MockgramConnection]:
    db.expire_all()
    return list(db.exec(select(MockgramConnection)).all())


# ── step 1 ──────────────────────────────────────────────────────────────────────────────────


def test_authorization_url_has_exactly_the_expected_parameters(client: TestClient) -> None:
    login(client)
    url, params = start_connect(client)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{ISSUER}/oauth/authorize"
    assert set(params) == {
        "client_id",
        "redirect_uri",
        "scope",
        "response_type",
        "response_mode",
        "state",
        "code_challenge",
        "code_challenge_method",
    }
    assert params["client_id"] == "awesomeservice"
    assert params["redirect_uri"] == f"{AWESOME_URL}/connect/callback"
    assert params["scope"] == "photos.read"
    assert params["response_type"] == "code"
    assert params["response_mode"] == "query"
    assert params["code_challenge_method"] == "S256"
    assert len(params["state"]) >= 43  # 32 random bytes


def test_connect_page_shows_each_parameter_and_step_1(client: TestClient) -> None:
    login(client)
    response = client.post("/connect", data={"csrf_token": csrf(client)})
    assert "Step 1 of 6" in response.text
    assert "Continue to Mockgram" in response.text
    assert 'class="url-box"' in response.text
    for name in ("client_id", "redirect_uri", "scope", "response_type", "state", "code_challenge"):
        assert f"<td>{name}</td>" in response.text


def test_banner_and_page_say_things_once(client: TestClient) -> None:
    login(client)
    with_tour = client.post("/connect", data={"csrf_token": csrf(client)}).text
    assert with_tour.count("Nothing secret") == 1  # the banner's; the page does not repeat it
    assert "asks him to sign in" in with_tour and "ask you to sign in" not in with_tour
    client.post("/tour/toggle", data={"csrf_token": csrf(client), "show": "0", "back": "/"})
    without = client.post("/connect", data={"csrf_token": csrf(client)}).text
    assert "Step 1 of 6 —" not in without
    # With no banner, the page itself says what the banner would have.
    assert "Nothing secret is in it" in without and "ask you to sign in" in without


def test_connect_requires_sign_in(client: TestClient, fake: FakeMockgram) -> None:
    response = client.post("/connect", data={"csrf_token": "x"})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


# ── C2: PKCE ────────────────────────────────────────────────────────────────────────────────


def test_c2_s256_challenge_matches_the_verifier_sent_later(
    client: TestClient, fake: FakeMockgram
) -> None:
    login(client)
    _, params = start_connect(client)
    assert params["code_challenge_method"] == "S256"
    response = callback(client, code="the-code", state=params["state"], iss=ISSUER)
    assert response.status_code == 303
    sent = fake.token_form()
    assert s256_challenge(sent["code_verifier"]) == params["code_challenge"]
    assert sent["code_verifier"] != params["code_challenge"]  # never plain


def test_c2_fresh_state_and_verifier_per_request(client: TestClient, db: Session) -> None:
    login(client)
    _, first = start_connect(client)
    _, second = start_connect(client)
    assert first["state"] != second["state"]
    assert first["code_challenge"] != second["code_challenge"]
    verifiers = {row.code_verifier for row in db.exec(select(PendingAuthorization)).all()}
    assert len(verifiers) == 2
    # The state is stored only as a hash.
    assert all(first["state"] != row.state_hash for row in db.exec(select(PendingAuthorization)))


# ── the happy path: step 5 over the back channel, C7 ─────────────────────────────────────────


def test_step5_token_request_goes_to_internal_url_with_basic_auth(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    login(client)
    response = connect(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/photos"
    (request,) = fake.token_requests
    assert str(request.url) == "http://mockgram.internal/oauth/token"
    assert request.headers["authorization"].startswith("Basic ")
    form = fake.token_form()
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == "the-code"
    assert form["redirect_uri"] == f"{AWESOME_URL}/connect/callback"
    assert "client_secret" not in form  # client_secret_basic, not in the body
    (row,) = connections(db)
    assert row.access_token == fake.access_token
    assert row.scope == "photos.read"
    assert row.expires_at is not None


def test_c7_token_never_reaches_the_browser(client: TestClient, fake: FakeMockgram) -> None:
    token = fake.access_token
    login(client)
    seen: list[httpx.Response] = []
    _, params = start_connect(client)
    seen.append(callback(client, code="the-code", state=params["state"], iss=ISSUER))
    assert seen[-1].status_code == 303
    assert seen[-1].headers["location"] == "/photos"  # the code is stripped from the URL
    seen.append(client.get("/photos"))
    seen.append(client.get("/photos/1/image"))
    seen.append(client.get("/"))
    seen.append(client.post("/photos/1/try-delete", data={"csrf_token": csrf(client)}))
    assert seen[1].status_code == 200 and "Coffee" in seen[1].text
    assert seen[2].content.startswith(b"\xff\xd8")
    for response in seen:
        assert token not in response.text
        assert token.encode() not in response.content
        assert all(token not in value for value in response.headers.values())
        assert "the-code" not in response.headers.get("location", "")
    assert all(token not in value for value in client.cookies.values())
    assert token not in session_payload(client)
    # The images go through our back end, which alone sends the bearer token.
    api_calls = [r for r in fake.requests if r.url.path.startswith("/api/")]
    assert api_calls and all(r.url.host == "mockgram.internal" for r in api_calls)
    assert all(r.headers["authorization"] == f"Bearer {token}" for r in api_calls)


def test_c7_session_cookie_is_httponly_and_samesite_lax(client: TestClient) -> None:
    response = client.post(
        "/login", data={"username": "john", "password": "awesome-demo", "csrf_token": csrf(client)}
    )
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("awesomeservice_session=")
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


def test_c7_callback_sends_no_referrer(client: TestClient) -> None:
    login(client)
    response = connect(client)
    assert response.headers["referrer-policy"] == "no-referrer"


# ── C1: state ───────────────────────────────────────────────────────────────────────────────


def test_c1_state_missing_is_refused_without_token_request(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    login(client)
    start_connect(client)
    response = callback(client, code="the-code", iss=ISSUER)
    assert response.status_code == 400
    assert "no state" in response.text
    assert fake.token_requests == []
    assert connections(db) == []


def test_c1_state_wrong_is_refused_without_token_request(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    login(client)
    _, params = start_connect(client)
    response = callback(client, code="the-code", state=params["state"] + "x", iss=ISSUER)
    assert response.status_code == 400
    assert "did not send this request" in response.text
    # AwesomeService's own check refused it, and the page does not blame Mockgram.
    assert "AwesomeService&#39;s check · state_unknown" in response.text
    assert "Mockgram&#39;s answer" not in response.text
    assert fake.token_requests == []
    assert connections(db) == []


def test_c1_state_reused_is_refused(client: TestClient, fake: FakeMockgram) -> None:
    login(client)
    _, params = start_connect(client)
    assert callback(client, code="the-code", state=params["state"], iss=ISSUER).status_code == 303
    again = callback(client, code="another-code", state=params["state"], iss=ISSUER)
    assert again.status_code == 400
    assert "already used" in again.text
    assert len(fake.token_requests) == 1


def test_c1_state_from_another_browser_session_is_refused(
    make_client: Callable[[], TestClient], fake: FakeMockgram
) -> None:
    victim, attacker = make_client(), make_client()
    login(victim)
    login(attacker)  # even the same account: the state is bound to the browser session
    _, params = start_connect(attacker)
    response = callback(victim, code="attackers-code", state=params["state"], iss=ISSUER)
    assert response.status_code == 400
    assert "another browser" in response.text
    assert fake.token_requests == []


def test_c1_state_after_sign_out_and_in_again_is_refused(
    client: TestClient, fake: FakeMockgram
) -> None:
    login(client)
    _, params = start_connect(client)
    client.post("/logout", data={"csrf_token": csrf(client)})
    login(client)  # a new session: new binding
    response = callback(client, code="the-code", state=params["state"], iss=ISSUER)
    assert response.status_code == 400
    assert fake.token_requests == []


def test_c1_state_expired_is_refused(client: TestClient, fake: FakeMockgram, db: Session) -> None:
    login(client)
    _, params = start_connect(client)
    for row in db.exec(select(PendingAuthorization)).all():
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.add(row)
    db.commit()
    response = callback(client, code="the-code", state=params["state"], iss=ISSUER)
    assert response.status_code == 400
    assert "expired" in response.text
    assert fake.token_requests == []


def test_c1_callback_without_session_is_refused(
    make_client: Callable[[], TestClient], fake: FakeMockgram
) -> None:
    john = make_client()
    login(john)
    _, params = start_connect(john)
    stranger = make_client()
    response = callback(stranger, code="the-code", state=params["state"], iss=ISSUER)
    assert response.status_code == 400
    assert fake.token_requests == []


# ── C3: iss ─────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "iss",
    [
        None,
        "",
        "http://evil.test",
        ISSUER + "/",
        "HTTP://MOCKGRAM.TEST",
        "http://mockgram.internal",
    ],
)
def test_c3_iss_missing_or_wrong_is_refused_before_redemption(
    client: TestClient, fake: FakeMockgram, db: Session, iss: str | None
) -> None:
    login(client)
    _, params = start_connect(client)
    query = {"code": "the-code", "state": params["state"]}
    if iss is not None:
        query["iss"] = iss
    response = callback(client, **query)
    assert response.status_code == 400
    assert "RFC 9207" in response.text
    assert fake.token_requests == []
    assert connections(db) == []


@pytest.mark.parametrize("iss", [None, "https://attacker.example"])
def test_c3_an_error_answer_with_a_missing_or_wrong_iss_is_refused_too(
    client: TestClient, iss: str | None
) -> None:
    # RFC 9207 §2.4 covers error answers: a forged "you said no" is not believed either.
    login(client)
    _, params = start_connect(client)
    query = {"error": "access_denied", "state": params["state"]}
    if iss is not None:
        query["iss"] = iss
    response = callback(client, **query)
    assert response.status_code == 400
    assert "RFC 9207" in response.text
    assert "You chose not to share" not in response.text


def test_c1_an_error_answer_to_a_request_never_sent_is_refused(client: TestClient) -> None:
    login(client)
    start_connect(client)
    response = callback(client, error="access_denied", state="never-sent", iss=ISSUER)
    assert response.status_code == 400
    assert "did not send this request" in response.text
    assert "You chose not to share" not in response.text


def test_code_missing_is_refused(client: TestClient, fake: FakeMockgram) -> None:
    login(client)
    _, params = start_connect(client)
    response = callback(client, state=params["state"], iss=ISSUER)
    assert response.status_code == 400
    assert "no code" in response.text
    assert fake.token_requests == []


# ── errors from Mockgram ────────────────────────────────────────────────────────────────────


def test_access_denied_page_and_state_consumed(client: TestClient, fake: FakeMockgram) -> None:
    login(client)
    _, params = start_connect(client)
    response = callback(client, error="access_denied", state=params["state"], iss=ISSUER)
    assert response.status_code == 200
    assert "You chose not to share your photos" in response.text
    assert "Mockgram&#39;s answer · access_denied" in response.text
    assert "nothing was shared" in response.text.lower()
    assert "connect any time" in response.text
    assert "Step 4 of 6" not in response.text  # the story's step 4 brings a code, not a "no"
    # The state is used up: a code arriving later for it is refused.
    later = callback(client, code="the-code", state=params["state"], iss=ISSUER)
    assert later.status_code == 400
    assert fake.token_requests == []


def test_other_authorization_error_is_explained(client: TestClient, fake: FakeMockgram) -> None:
    login(client)
    _, params = start_connect(client)
    response = callback(
        client,
        error="invalid_scope",
        error_description="Unknown scope.",
        state=params["state"],
        iss=ISSUER,
    )
    assert response.status_code == 400
    assert "invalid_scope" in response.text
    assert "does not allow the access" in response.text
    assert fake.token_requests == []


def test_invalid_grant_expired_code_page(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    fake.token_error = "invalid_grant"
    login(client)
    response = connect(client)
    assert response.status_code == 400
    assert "invalid_grant" in response.text
    assert "expired" in response.text
    assert "Step 5 of 6" in response.text
    assert connections(db) == []


def test_invalid_client_page(client: TestClient, fake: FakeMockgram, db: Session) -> None:
    fake.token_error = "invalid_client"
    login(client)
    response = connect(client)
    assert response.status_code == 502
    assert "configuration problem" in response.text
    assert connections(db) == []


@pytest.mark.parametrize(
    ("failure", "status", "text"),
    [
        (httpx.ReadTimeout, 504, "did not answer in time"),
        (httpx.ConnectTimeout, 504, "did not answer in time"),
        (httpx.ConnectError, 502, "unreachable"),
    ],
)
def test_mockgram_timeout_or_unreachable_stores_nothing(
    client: TestClient,
    fake: FakeMockgram,
    db: Session,
    failure: type[Exception],
    status: int,
    text: str,
) -> None:
    fake.token_failure = failure
    login(client)
    response = connect(client)
    assert response.status_code == status
    assert text in response.text
    assert connections(db) == []


def test_token_response_not_json_stores_nothing(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    fake.token_not_json = True
    login(client)
    response = connect(client)
    assert response.status_code == 502
    assert connections(db) == []


def test_reconnect_replaces_the_stored_token(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    login(client)
    connect(client)
    fake.access_token = "at-second"
    connect(client)
    (row,) = connections(db)
    assert row.access_token == "at-second"


def test_disconnect_deletes_the_tokens(client: TestClient, db: Session) -> None:
    login(client)
    connect(client)
    response = client.post("/connect/disconnect", data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    assert connections(db) == []
    assert "tokens were deleted here" in client.get("/").text


def test_reloading_step_1_sends_john_back_to_the_button(client: TestClient) -> None:
    login(client)
    response = client.get("/connect")
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "cannot be reloaded" in client.get("/").text
