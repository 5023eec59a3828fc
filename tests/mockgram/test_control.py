"""The control plane (/_control/): off by default, behind its own bearer, and each call."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from pydantic import ValidationError
from sqlmodel import Session, select

from mockgram import activity
from mockgram.app import create_app
from mockgram.control import middleware
from mockgram.control.models import QueuedLogin
from mockgram.models import ActivityEvent, Client, User
from mockgram.settings import MockgramSettings
from shared.hashing import hash_secret
from tests.mockgram.conftest import ISSUER, settings_for
from tests.mockgram.oauth_helpers import authorize_params, redeem, single_query

SECRET = "control-plane-test-secret"
BEARER = {"Authorization": f"Bearer {SECRET}"}


@pytest.fixture
def mockgram_settings(mockgram_database_url: str) -> MockgramSettings:
    return settings_for(mockgram_database_url).model_copy(
        update={"control_secret": SECRET, "non_interactive": True}
    )


def control(client: TestClient, method: str, path: str, body: dict | None = None):
    return client.request(method, f"/_control/{path}", json=body, headers=BEARER)


def code_for(client: TestClient, **overrides: str | None) -> dict[str, str]:
    """authorize → (non-interactive) sign-in → consent; the callback's query."""
    location = "/oauth/authorize?" + "&".join(
        f"{k}={v}" for k, v in authorize_params(**overrides).items()
    )
    for _ in range(5):
        response = client.get(location)
        assert response.status_code in (302, 303), response.text
        location = response.headers["location"]
        if not location.startswith(("/", ISSUER)):
            return single_query(location)
    raise AssertionError("no answer came back")


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# --- off, and the bearer ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["clock", "faults", "requests", "reset", "keys/rotate"])
def test_control_plane_is_404_when_off(mockgram_database_url, path):
    app = create_app(settings_for(mockgram_database_url))
    with TestClient(app, base_url=ISSUER) as off:
        assert off.get(f"/_control/{path}", headers=BEARER).status_code == 404
        assert off.post(f"/_control/{path}", headers=BEARER, json={}).status_code == 404


def test_control_false_keeps_it_off_even_with_a_secret(mockgram_database_url):
    settings = settings_for(mockgram_database_url).model_copy(
        update={"control_secret": SECRET, "control": False}
    )
    with TestClient(create_app(settings), base_url=ISSUER) as off:
        assert off.get("/_control/clock", headers=BEARER).status_code == 404


def test_control_true_without_a_secret_refuses_to_start():
    with pytest.raises(ValidationError, match="MOCKGRAM_CONTROL_SECRET"):
        MockgramSettings(control=True)


def test_missing_bearer_is_401_with_a_bearer_challenge(client):
    response = client.get("/_control/clock")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="mockgram-control"'
    assert response.json()["error"] == "unauthorized"


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {SECRET}x", "Bearer wrong", f"bearer  {SECRET[:-1]}", f"Basic {SECRET}"],
)
def test_wrong_bearer_is_401_invalid_token_and_changes_nothing(client, authorization):
    response = client.post(
        "/_control/clock", json={"offset_seconds": 3600}, headers={"Authorization": authorization}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer ")
    # RFC 6750 §3.1: a wrong bearer is invalid_token; another scheme is no bearer at all.
    expected = "unauthorized" if authorization.startswith("Basic") else "invalid_token"
    assert response.json()["error"] == expected
    assert control(client, "GET", "clock").json()["offset_seconds"] == 0


# --- people, clients, logins -----------------------------------------------------------------


def test_users_call_creates_then_changes_only_what_is_sent(client, db):
    made = control(client, "POST", "users", {"username": "alice", "email": "a@example.com"})
    assert made.status_code == 200, made.text
    changed = control(
        client, "POST", "users", {"username": "alice", "claims": {"groups": ["admin"]}}
    )
    assert changed.json()["email"] == "a@example.com"
    assert changed.json()["claims"] == {"groups": ["admin"]}
    user = db.exec(select(User).where(User.username == "alice")).one()
    assert user.extra_claims == {"groups": ["admin"]}


def test_users_call_refuses_a_protocol_claim(client):
    response = control(client, "POST", "users", {"username": "eve", "claims": {"aud": "x"}})
    assert response.status_code == 400
    assert "aud" in response.json()["error_description"]


def test_clients_call_registers_a_client_that_can_redeem_codes(client, make_user):
    make_user()
    answer = control(
        client,
        "POST",
        "clients",
        {
            "client_id": "printshop",
            "redirect_uris": ["http://client.test/callback"],
            "scopes": "photos.read",
        },
    )
    assert answer.status_code == 200, answer.text
    secret = answer.json()["client_secret"]
    code = code_for(client)["code"]
    assert redeem(client, code, auth=("printshop", secret)).status_code == 200


def test_changing_a_client_keeps_the_grants_it_registered(client, db):
    row = Client(
        client_id="shop",
        name="Shop",
        secret_hash=hash_secret("s"),
        redirect_uris="http://client.test/callback",
        grant_types="authorization_code refresh_token client_credentials",
    )
    db.add(row)
    db.commit()
    body = {"client_id": "shop", "redirect_uris": ["http://client.test/other"], "secret": "s"}
    assert control(client, "POST", "clients", body).status_code == 200
    db.expire_all()
    assert db.get(Client, "shop").grant_types == (
        "authorization_code refresh_token client_credentials"
    )


def test_clients_call_refuses_a_redirect_uri_with_a_fragment(client):
    answer = control(client, "POST", "clients", {"redirect_uris": ["http://app.test/cb#x"]})
    assert answer.status_code == 400


def test_next_login_signs_in_the_queued_person_once_with_claims(client, printshop, db):
    queued = control(
        client, "POST", "next-login", {"username": "zoe", "claims": {"name": "Zoe", "tier": "gold"}}
    )
    assert queued.status_code == 201, queued.text
    code_for(client)
    zoe = db.exec(select(User).where(User.username == "zoe")).one()
    assert (zoe.name, zoe.extra_claims, zoe.id_token_claims) == (
        "Zoe",
        {"tier": "gold"},
        ["name", "tier"],
    )
    # Used up: a fresh browser's next sign-in is the configured person (john).
    with TestClient(client.app, base_url=ISSUER, follow_redirects=False) as other:
        other.get("/oauth/authorize", params=authorize_params())
        assert other.get("/login").status_code == 303
    # Each step is announced like any other sign-in and consent, so the activity log shows it.
    kinds = {e.kind for e in db.exec(select(ActivityEvent).where(ActivityEvent.user_id == zoe.id))}
    assert {activity.LOGIN, activity.CONSENT_GIVEN, activity.CODE_ISSUED} <= kinds


def test_next_login_refuses_a_claim_of_the_wrong_type(client):
    response = control(client, "POST", "next-login", {"username": "x", "claims": {"email": 5}})
    assert response.status_code == 400


# --- keys ------------------------------------------------------------------------------------


def test_rotating_keys_signs_with_a_new_kid_and_keeps_the_old_published(client):
    old_kids = {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    rotated = control(client, "POST", "keys/rotate").json()
    new_kids = {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    assert rotated["kid"] in new_kids - old_kids
    assert old_kids < new_kids


def test_rotating_with_retire_old_unpublishes_the_old_keys(client):
    old_kids = {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    control(client, "POST", "keys/rotate", {"retire_old": True})
    new_kids = {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    assert not old_kids & new_kids


def test_new_tokens_carry_the_rotated_kid(client, printshop):
    kid = control(client, "POST", "keys/rotate").json()["kid"]
    token = redeem(client, code_for(client)["code"]).json()["access_token"]
    assert (
        jwt.decode(
            token, KeySet.import_key_set(client.get("/.well-known/jwks.json").json())
        ).header["kid"]
        == kid
    )


# --- two workers on one database -------------------------------------------------------------


@pytest.fixture
def two_workers(tmp_path):
    settings = settings_for(f"sqlite:///{tmp_path}/shared.db").model_copy(
        update={"control_secret": SECRET, "non_interactive": True}
    )
    first, second = create_app(settings), create_app(settings)
    with TestClient(first, base_url=ISSUER) as a, TestClient(second, base_url=ISSUER) as b:
        yield a, b


def test_clock_and_keys_set_through_one_worker_hold_for_the_other(two_workers):
    first, second = two_workers
    control(first, "POST", "clock", {"offset_seconds": 7200})
    assert control(second, "GET", "clock").json()["offset_seconds"] == 7200
    kid = control(first, "POST", "keys/rotate").json()["kid"]
    assert kid in {k["kid"] for k in second.get("/.well-known/jwks.json").json()["keys"]}


def test_a_fault_queued_through_one_worker_fires_once_on_the_other(two_workers):
    first, second = two_workers
    control(first, "POST", "faults", {"kind": "token_error", "error": "invalid_grant"})
    assert second.post("/oauth/token", data={"grant_type": "x"}).json()["error"] == "invalid_grant"
    assert first.post("/oauth/token", data={"grant_type": "x"}).json()["error"] != "invalid_grant"


# --- the clock -------------------------------------------------------------------------------


def test_clock_can_be_set_skewed_and_advanced(client):
    at = datetime(2031, 5, 1, tzinfo=UTC)
    now = datetime.fromisoformat(
        control(client, "POST", "clock", {"at": at.isoformat()}).json()["now"]
    )
    assert abs(now - at) < timedelta(minutes=1)
    assert control(client, "POST", "clock", {"offset_seconds": -60}).json()["offset_seconds"] == -60
    advanced = control(client, "POST", "clock", {"advance_seconds": 30}).json()
    assert advanced["offset_seconds"] == -30
    assert control(client, "POST", "clock", {}).status_code == 400


def test_a_code_expires_when_the_clock_moves_past_its_lifetime(client, printshop):
    code = code_for(client)["code"]
    control(client, "POST", "clock", {"advance_seconds": 11 * 60})
    answer = redeem(client, code)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert "expired" in answer.json()["error_description"]


def test_tokens_are_stamped_with_the_skewed_clock(client, printshop):
    control(client, "POST", "clock", {"at": "2031-05-01T00:00:00+00:00"})
    token = redeem(client, code_for(client)["code"]).json()["access_token"]
    issued = datetime.fromtimestamp(claims_of(token)["iat"], UTC)
    assert issued.year == 2031


# --- faults ----------------------------------------------------------------------------------


def test_token_error_fault_answers_the_next_token_request_once(client, printshop):
    code = code_for(client)["code"]
    queued = control(
        client, "POST", "faults", {"kind": "token_error", "error": "temporarily_unavailable"}
    )
    assert queued.status_code == 201
    failed = redeem(client, code)
    assert failed.status_code == 503
    assert failed.json()["error"] == "temporarily_unavailable"
    assert failed.headers["cache-control"] == "no-store"
    assert redeem(client, code).status_code == 200  # used up; the code was never touched


def test_invalid_client_fault_comes_with_a_basic_challenge(client, printshop):
    control(client, "POST", "faults", {"kind": "token_error", "error": "invalid_client"})
    failed = redeem(client, code_for(client)["code"])
    assert failed.status_code == 401
    assert failed.headers["www-authenticate"].startswith("Basic")


def test_token_error_fault_refuses_an_unknown_error_code(client):
    answer = control(client, "POST", "faults", {"kind": "token_error", "error": "teapot"})
    assert answer.status_code == 400


def test_refuse_code_fault_refuses_the_next_code_for_good(client, printshop):
    control(client, "POST", "faults", {"kind": "refuse_code"})
    code = code_for(client)["code"]
    refused = redeem(client, code)
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
    assert redeem(client, code).status_code == 400  # spent
    assert redeem(client, code_for(client)["code"]).status_code == 200  # the fault is used up


def test_unpublished_key_fault_signs_the_next_id_token_with_a_key_not_in_the_jwks(
    client, printshop, db
):
    printshop.allowed_scopes = "openid photos.read"
    db.add(printshop)
    db.commit()
    control(client, "POST", "faults", {"kind": "unpublished_key"})
    first = redeem(client, code_for(client, scope="openid")["code"]).json()["id_token"]
    second = redeem(client, code_for(client, scope="openid")["code"]).json()["id_token"]
    published = client.get("/.well-known/jwks.json").json()
    kids = {key["kid"] for key in published["keys"]}
    header = json.loads(base64.urlsafe_b64decode(first.split(".")[0] + "=="))
    assert header["kid"] not in kids
    with pytest.raises(JoseError):
        jwt.decode(first, KeySet.import_key_set(published))
    assert jwt.decode(second, KeySet.import_key_set(published)).claims["sub"]


def test_slow_fault_waits_without_blocking_the_loop_once(client, monkeypatch):
    waited: list[float] = []

    async def recording_sleep(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(middleware, "asyncio", SimpleNamespace(sleep=recording_sleep))
    control(client, "POST", "faults", {"kind": "slow", "endpoint": "jwks", "delay_ms": 1500})
    client.get("/.well-known/openid-configuration")  # not the JWKS: no wait
    assert client.get("/.well-known/jwks.json").status_code == 200
    client.get("/.well-known/jwks.json")
    assert waited == [1.5]


def test_slow_fault_needs_an_endpoint_and_a_delay(client):
    assert control(client, "POST", "faults", {"kind": "slow", "delay_ms": 10}).status_code == 400
    assert (
        control(client, "POST", "faults", {"kind": "slow", "endpoint": "jwks"}).status_code == 400
    )


# --- reset and the request log ---------------------------------------------------------------


def test_reset_clears_faults_logins_and_the_clock(client):
    control(client, "POST", "faults", {"kind": "refuse_code"})
    control(client, "POST", "next-login", {"username": "zoe"})
    control(client, "POST", "clock", {"offset_seconds": 99})
    assert control(client, "POST", "reset").status_code == 200
    assert control(client, "GET", "faults").json() == []
    assert control(client, "GET", "clock").json()["offset_seconds"] == 0
    with Session(client.app.state.engine) as session:
        assert session.exec(select(QueuedLogin)).all() == []


def test_request_log_lists_requests_with_secrets_masked_and_can_be_cleared(client, printshop):
    control(client, "DELETE", "requests")
    code = code_for(client)["code"]
    redeem(client, code)
    log = control(client, "GET", "requests").json()["requests"]
    token_call = next(entry for entry in log if entry["path"] == "/oauth/token")
    params = {param["name"]: param["value"] for param in token_call["params"]}
    assert token_call["method"] == "POST"
    assert token_call["client_id"] == "printshop"  # from HTTP Basic
    assert params["code"] == "[redacted]"
    assert params["code_verifier"] == "[redacted]"
    assert token_call["status"] == 200
    assert code not in json.dumps(log)
    assert not any(entry["path"].startswith("/_control/") for entry in log)
    control(client, "DELETE", "requests")
    assert control(client, "GET", "requests").json() == {"requests": []}


def test_both_test_switches_are_off_by_default(monkeypatch):
    for name in ("MOCKGRAM_CONTROL", "MOCKGRAM_CONTROL_SECRET", "MOCKGRAM_NON_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    settings = MockgramSettings()
    assert (settings.control_enabled, settings.non_interactive) == (False, False)


def test_without_non_interactive_mode_the_login_page_asks_for_a_password(mockgram_database_url):
    app = create_app(
        settings_for(mockgram_database_url).model_copy(update={"control_secret": SECRET})
    )
    with TestClient(app, base_url=ISSUER, follow_redirects=False) as browser:
        control(browser, "POST", "next-login", {"username": "zoe"})
        page = browser.get("/login")
    assert page.status_code == 200
    assert 'name="password"' in page.text


@pytest.mark.anyio
async def test_a_slow_answer_holds_up_only_its_own_request(mockgram_app, monkeypatch):
    """While the slow JWKS waits, another request is answered: the wait is not on the loop."""
    released, reached = asyncio.Event(), asyncio.Event()

    async def held(seconds: float) -> None:
        reached.set()
        await released.wait()

    monkeypatch.setattr(middleware, "asyncio", SimpleNamespace(sleep=held))
    transport = httpx.ASGITransport(app=mockgram_app)
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER, headers=BEARER) as http:
        fault = {"kind": "slow", "endpoint": "jwks", "delay_ms": 200}
        assert (await http.post("/_control/faults", json=fault)).status_code == 201
        slow = asyncio.create_task(http.get("/.well-known/jwks.json"))
        await asyncio.wait_for(reached.wait(), timeout=30)  # the slow request is waiting
        other = await http.get("/.well-known/openid-configuration")
        assert other.status_code == 200
        assert not slow.done()
        released.set()
        assert (await slow).status_code == 200
