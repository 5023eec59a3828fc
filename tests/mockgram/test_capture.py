"""Request capture (mockgram/capture.py): every protocol request kept, secrets masked, bounded."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI, Header, HTTPException
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mockgram import capture
from mockgram.app import create_app
from mockgram.capture import CapturedRequest
from mockgram.capture_routes import control_router
from mockgram.settings import MockgramSettings
from shared.clock import utcnow
from tests.mockgram.conftest import ISSUER
from tests.mockgram.oauth_helpers import VERIFIER, authorize_params, get_code, redeem
from tests.mockgram.token_helpers import BASIC, code_grant, refresh, revoke

SECRET = "s3cr3t-value-nobody-may-see-0123456789"


def stored_text(app: FastAPI) -> str:
    """Everything the table holds, as text: a masked secret appears nowhere in it."""
    with Session(app.state.engine) as session:
        found = session.exec(select(CapturedRequest)).all()
        return json.dumps([row.model_dump(mode="json") for row in found])


def newest(app: FastAPI) -> dict:
    with Session(app.state.engine) as session:
        return capture.recent(session, limit=1)[0]


def param(row: dict, name: str, where: str | None = None) -> str:
    values = [p["value"] for p in row["params"] if p["name"] == name and where in (None, p["in"])]
    assert len(values) == 1, row["params"]
    return values[0]


# ── One test per kind of secret: sent for real, stored masked, nowhere in the clear ─────────


def send_client_secret_post(client: TestClient) -> tuple[str, str]:
    client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "printshop",
            "client_secret": SECRET,
        },
    )
    return "client_secret", "body"


def send_client_secret_in_query(client: TestClient) -> tuple[str, str]:
    client.post(f"/oauth/token?client_secret={SECRET}", data={"grant_type": "client_credentials"})
    return "client_secret", "query"


def send_password(client: TestClient) -> tuple[str, str]:
    client.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "john", "password": SECRET},
        auth=BASIC,
    )
    return "password", "body"


def send_code_verifier(client: TestClient) -> tuple[str, str]:
    redeem(client, "some-code", code_verifier=SECRET)
    return "code_verifier", "body"


def send_code(client: TestClient) -> tuple[str, str]:
    redeem(client, SECRET)
    return "code", "body"


def send_refresh_token(client: TestClient) -> tuple[str, str]:
    refresh(client, SECRET)
    return "refresh_token", "body"


def send_revoked_token(client: TestClient) -> tuple[str, str]:
    revoke(client, SECRET)
    return "token", "body"


def send_access_token_in_query(client: TestClient) -> tuple[str, str]:
    client.get("/api/photos", params={"access_token": SECRET})
    return "access_token", "query"


def send_state(client: TestClient) -> tuple[str, str]:
    client.get("/oauth/authorize", params=authorize_params(state=SECRET))
    return "state", "query"


def send_nonce(client: TestClient) -> tuple[str, str]:
    client.get("/oauth/authorize", params=authorize_params(nonce=SECRET))
    return "nonce", "query"


def send_id_token_hint(client: TestClient) -> tuple[str, str]:
    client.get("/oauth/authorize", params=authorize_params(id_token_hint=SECRET))
    return "id_token_hint", "query"


@pytest.mark.parametrize(
    "send",
    [
        send_client_secret_post,
        send_client_secret_in_query,
        send_password,
        send_code_verifier,
        send_code,
        send_refresh_token,
        send_revoked_token,
        send_access_token_in_query,
        send_state,
        send_nonce,
        send_id_token_hint,
    ],
)
def test_each_secret_kind_is_masked(
    send: Callable[[TestClient], tuple[str, str]],
    client: TestClient,
    printshop,
    mockgram_app: FastAPI,
) -> None:
    name, where = send(client)
    assert param(newest(mockgram_app), name, where) == capture.MASK
    assert SECRET not in stored_text(mockgram_app)


def test_basic_credentials_keep_the_client_id_and_mask_the_secret(
    client: TestClient, printshop, mockgram_app: FastAPI
) -> None:
    client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("printshop", SECRET)
    )
    row = newest(mockgram_app)
    assert param(row, "Authorization", "header") == "Basic (client_id=printshop, secret [redacted])"
    assert row["client_id"] == "printshop"
    assert SECRET not in stored_text(mockgram_app)


def test_a_bearer_header_is_masked_and_names_the_tokens_client(
    client: TestClient, printshop, mockgram_app: FastAPI
) -> None:
    access_token = code_grant(client)["access_token"]
    assert (
        client.get("/api/photos", headers={"Authorization": f"Bearer {access_token}"}).status_code
        == 200
    )
    row = newest(mockgram_app)
    assert param(row, "Authorization", "header") == "Bearer [redacted]"
    assert row["client_id"] == "printshop"  # read from the token Mockgram signed
    assert access_token not in stored_text(mockgram_app)


def test_a_whole_flow_stores_no_code_token_or_verifier(
    client: TestClient, printshop, mockgram_app: FastAPI
) -> None:
    code = get_code(client)["code"]
    body = redeem(client, code).json()
    stored = stored_text(mockgram_app)
    for secret in (code, body["access_token"], body["refresh_token"], VERIFIER, "printshop-secret"):
        assert secret not in stored


# ── What a row says ─────────────────────────────────────────────────────────────────────────


def test_a_row_names_endpoint_method_client_status_error_and_time(
    client: TestClient, printshop, mockgram_app: FastAPI
) -> None:
    before = utcnow()
    client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": "nope", "redirect_uri": "x"},
        auth=BASIC,
    )
    row = newest(mockgram_app)
    assert (row["endpoint"], row["method"], row["path"]) == ("token", "POST", "/oauth/token")
    assert (row["client_id"], row["status"], row["error"]) == ("printshop", 400, "invalid_grant")
    assert row["rfc"] == "RFC 6749 §3.2"
    assert param(row, "redirect_uri") == "x"  # what is not secret is shown as sent
    assert before.isoformat() <= row["at"]


def test_error_codes_are_read_from_redirects_challenges_and_pages(
    client: TestClient, printshop, mockgram_app: FastAPI
) -> None:
    client.get("/oauth/authorize", params=authorize_params(scope="nonsense"))  # redirect
    assert newest(mockgram_app)["error"] == "invalid_scope"
    client.get("/api/photos", headers={"Authorization": "Bearer not-a-jwt"})  # challenge
    assert newest(mockgram_app)["error"] == "invalid_token"
    client.get("/oauth/authorize", params=authorize_params(client_id="nobody"))  # 400 page
    assert newest(mockgram_app)["error"] == "invalid_client"


def test_discovery_keys_and_the_flows_pages_are_captured_but_other_pages_are_not(
    client: TestClient, mockgram_app: FastAPI
) -> None:
    for path in (
        "/.well-known/openid-configuration",
        "/.well-known/jwks.json",
        "/developers",
        "/login",
        "/apps",
    ):
        client.get(path)
    with Session(mockgram_app.state.engine) as session:
        found = [r["endpoint"] for r in capture.recent(session)]
    assert found == ["sign-in", "jwks", "discovery"]


def test_recent_filters_by_client(client: TestClient, make_client, mockgram_app: FastAPI) -> None:
    make_client("printshop")
    make_client("gallery")
    client.get("/oauth/authorize", params=authorize_params(client_id="printshop"))
    client.get("/oauth/authorize", params=authorize_params(client_id="gallery"))
    with Session(mockgram_app.state.engine) as session:
        assert [r["client_id"] for r in capture.recent(session, client_id="gallery")] == ["gallery"]
        assert len(capture.recent(session)) == 2


# ── Bounded, clearable, switchable ──────────────────────────────────────────────────────────


def app_with(settings: MockgramSettings, **changes: object) -> FastAPI:
    return create_app(settings.model_copy(update=changes))


def test_only_the_newest_rows_are_kept(mockgram_settings: MockgramSettings) -> None:
    app = app_with(mockgram_settings, capture_limit=3)
    with TestClient(app, base_url=ISSUER) as browser:
        for n in range(5):
            browser.get("/.well-known/jwks.json", params={"n": str(n)})
    with Session(app.state.engine) as session:
        kept = capture.recent(session)
    assert [param(row, "n") for row in kept] == ["4", "3", "2"]


def test_rows_older_than_a_day_are_swept(client: TestClient, mockgram_app: FastAPI) -> None:
    with Session(mockgram_app.state.engine) as session:
        old = CapturedRequest(method="GET", path="/old", endpoint="jwks", status=200)
        old.at = utcnow() - capture.RETENTION - timedelta(minutes=1)
        session.add(old)
        session.commit()
    client.get("/.well-known/jwks.json")
    with Session(mockgram_app.state.engine) as session:
        assert [r["path"] for r in capture.recent(session)] == ["/.well-known/jwks.json"]


def test_clear_forgets_every_request(client: TestClient, mockgram_app: FastAPI) -> None:
    client.get("/.well-known/jwks.json")
    client.get("/.well-known/openid-configuration")
    with Session(mockgram_app.state.engine) as session:
        assert capture.clear(session) == 2
        assert capture.recent(session) == []


def test_capture_can_be_switched_off(mockgram_settings: MockgramSettings) -> None:
    app = app_with(mockgram_settings, capture_requests=False)
    with TestClient(app, base_url=ISSUER) as browser:
        browser.get("/.well-known/jwks.json")
    with Session(app.state.engine) as session:
        assert capture.recent(session) == []


# ── The control plane's routes, behind whatever guard it passes ─────────────────────────────


def test_control_routes_list_filter_and_clear_behind_the_given_guard(
    mockgram_settings: MockgramSettings,
) -> None:
    def guard(x_control_key: str | None = Header(default=None)) -> None:
        if x_control_key != "let-me-in":
            raise HTTPException(status_code=403, detail="Not allowed.")

    app = create_app(mockgram_settings)
    app.include_router(control_router(guard))
    key = {"X-Control-Key": "let-me-in"}
    with TestClient(app, base_url=ISSUER) as browser:
        browser.get("/oauth/authorize", params=authorize_params(client_id="printshop"))
        browser.get("/.well-known/jwks.json")
        assert browser.get("/_control/requests").status_code == 403
        assert browser.delete("/_control/requests").status_code == 403
        listed = browser.get("/_control/requests", headers=key).json()["requests"]
        assert [r["endpoint"] for r in listed] == ["jwks", "authorization"]
        mine = browser.get("/_control/requests", params={"client_id": "printshop"}, headers=key)
        assert [r["client_id"] for r in mine.json()["requests"]] == ["printshop"]
        assert browser.get("/_control/clients/nobody/report", headers=key).status_code == 404
        assert browser.delete("/_control/requests", headers=key).json() == {"cleared": 2}
        assert browser.get("/_control/requests", headers=key).json() == {"requests": []}


def test_a_nul_in_a_parameter_is_stored_visibly(
    client: TestClient, printshop, mockgram_app: FastAPI
) -> None:
    client.get("/.well-known/jwks.json", params={"x": "a\x00b"})
    assert param(newest(mockgram_app), "x") == "a\\0b"  # PostgreSQL cannot store a NUL
