"""The device authorization grant (RFC 8628): the endpoint, the polling answers, /device."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, select

from mockgram.activity import DEVICE_APPROVED
from mockgram.config import ConfigError, load_config
from mockgram.models import ActivityEvent, Client, DeviceAuthorization, User
from mockgram.oauth import user_codes
from mockgram.settings import MockgramSettings
from shared.clock import utcnow
from shared.hashing import hash_secret
from tests.mockgram.conftest import ISSUER, settings_for
from tests.mockgram.oauth_helpers import csrf_from, login

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
KIOSK = "kiosk"


@pytest.fixture
def kiosk(
    db: Session,
    make_client: Callable[..., tuple[Client, str | None]],
    make_user: Callable[..., User],
) -> Client:
    """John, and a public client registered for the device grant alone (no redirect URI)."""
    make_user()
    row, _ = make_client(KIOSK, public=True, scopes="openid photos.read")
    row.grant_types, row.response_types, row.redirect_uris = DEVICE_GRANT, "", ""
    db.add(row)
    db.commit()
    return row


def start(client: TestClient, **form: str) -> httpx.Response:
    """(A): the device asks for its codes."""
    return client.post("/oauth/device_authorization", data={"client_id": KIOSK, **form})


def poll(client: TestClient, device_code: str, client_id: str = KIOSK) -> httpx.Response:
    """(E): the device asks the token endpoint whether John has answered."""
    data = {"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": client_id}
    return client.post("/oauth/token", data=data)


def next_poll_due_now(db: Session, device_code: str) -> None:
    """As if the interval had passed since the last poll (no sleeping in tests)."""
    db.exec(
        update(DeviceAuthorization)
        .where(DeviceAuthorization.device_code_hash == hash_secret(device_code))
        .values(next_poll_at=utcnow() - timedelta(seconds=1))
    )
    db.commit()


def type_code(client: TestClient, user_code: str) -> httpx.Response:
    """(D): John types the code on /device."""
    page = client.get("/device")
    return client.post("/device", data={"user_code": user_code, "csrf_token": csrf_from(page.text)})


def answer(client: TestClient, decision: str) -> httpx.Response:
    """(D): John answers the question on /device/confirm."""
    page = client.get("/device/confirm")
    assert page.status_code == 200, page.text
    request_id = re.search(r'name="request_id" value="([^"]+)"', page.text).group(1)
    offered = re.findall(r'name="scope" value="([^"]+)"', page.text)
    data = {
        "csrf_token": csrf_from(page.text),
        "request_id": request_id,
        "decision": decision,
        "scope": offered,
    }
    return client.post("/device/confirm", data=data)


def approve_as_john(client: TestClient, user_code: str, decision: str = "allow") -> httpx.Response:
    """Type the code, sign in, answer: the whole of (D)."""
    typed = type_code(client, user_code)
    assert typed.status_code == 303 and typed.headers["location"] == "/device/confirm"
    to_login = client.get("/device/confirm")
    assert to_login.headers["location"] == "/login?next=%2Fdevice%2Fconfirm"
    page = client.get(to_login.headers["location"])
    signed_in = client.post(
        "/login",
        data={
            "username": "john",
            "password": "correct horse battery staple",
            "csrf_token": csrf_from(page.text),
            "next": "/device/confirm",
        },
    )
    assert signed_in.headers["location"] == "/device/confirm"
    return answer(client, decision)


def test_discovery_advertises_the_endpoint_and_the_grant(client: TestClient) -> None:
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["device_authorization_endpoint"] == f"{ISSUER}/oauth/device_authorization"
    assert DEVICE_GRANT in metadata["grant_types_supported"]


def test_the_device_gets_codes_and_only_their_hashes_are_stored(
    client: TestClient, kiosk: Client, db: Session
) -> None:
    response = start(client, scope="photos.read")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", body["user_code"])
    assert body["verification_uri"] == f"{ISSUER}/device"
    assert body["verification_uri_complete"] == f"{ISSUER}/device?user_code={body['user_code']}"
    assert body["expires_in"] == 600 and body["interval"] == 5
    row = db.exec(select(DeviceAuthorization)).one()
    assert row.device_code_hash == hash_secret(body["device_code"])
    assert row.user_code_hash == hash_secret(body["user_code"].replace("-", ""))
    assert row.scope == "photos.read"


def test_a_client_not_registered_for_the_grant_is_unauthorized(
    client: TestClient, make_client: Callable[..., tuple[Client, str | None]]
) -> None:
    make_client("spa", public=True)
    refused = client.post("/oauth/device_authorization", data={"client_id": "spa"})
    assert refused.status_code == 400 and refused.json()["error"] == "unauthorized_client"
    at_token = poll(client, "anything", client_id="spa")
    assert at_token.json()["error"] == "unauthorized_client"


def test_scope_outside_the_client_s_is_invalid_scope(client: TestClient, kiosk: Client) -> None:
    assert start(client, scope="photos.write").json()["error"] == "invalid_scope"


def test_happy_path_pending_then_tokens_once(
    client: TestClient, kiosk: Client, db: Session
) -> None:
    codes = start(client, scope="openid photos.read").json()
    pending = poll(client, codes["device_code"])
    assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"
    assert pending.headers["cache-control"] == "no-store"

    # RFC 8628 §6.1: the code is accepted in lower case and without its dash.
    done = approve_as_john(client, codes["user_code"].replace("-", "").lower())
    assert done.status_code == 200
    assert "You may return to your device" in done.text

    next_poll_due_now(db, codes["device_code"])
    tokens = poll(client, codes["device_code"])
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "openid photos.read"
    assert "id_token" in body and "refresh_token" not in body  # public, no offline_access
    photos = client.get("/api/photos", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert photos.status_code == 200

    again = poll(client, codes["device_code"])
    assert again.json()["error"] == "invalid_grant"
    kinds = db.exec(select(ActivityEvent.kind)).all()
    assert DEVICE_APPROVED in kinds
    # John sees the device on his activity page and the app among those with access.
    assert "Approved a sign-in on a device" in client.get("/me/activity").text
    assert "Kiosk" in client.get("/apps").text


def test_the_question_warns_about_remote_phishing(client: TestClient, kiosk: Client) -> None:
    codes = start(client).json()
    type_code(client, codes["user_code"])
    login(client)
    page = client.get("/device/confirm")
    assert "Only approve if you started this on a device in front of you" in page.text
    assert codes["user_code"] in page.text and "Kiosk" in page.text
    assert "photos" in page.text.lower()


def test_polling_faster_than_the_interval_is_slow_down_and_the_interval_grows(
    client: TestClient, kiosk: Client, db: Session
) -> None:
    device_code = start(client).json()["device_code"]
    assert poll(client, device_code).json()["error"] == "authorization_pending"
    too_soon = poll(client, device_code)
    assert too_soon.status_code == 400 and too_soon.json()["error"] == "slow_down"
    row = db.exec(select(DeviceAuthorization)).one()
    assert row.interval == 10  # 5 + 5, for this and every later poll (§3.5)
    assert poll(client, device_code).json()["error"] == "slow_down"
    db.refresh(row)
    assert row.interval == 15
    next_poll_due_now(db, device_code)
    assert poll(client, device_code).json()["error"] == "authorization_pending"


def test_an_expired_device_code_is_expired_token(
    client: TestClient, kiosk: Client, db: Session
) -> None:
    device_code = start(client).json()["device_code"]
    db.exec(update(DeviceAuthorization).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    assert poll(client, device_code).json()["error"] == "expired_token"


def test_a_denied_request_is_access_denied(client: TestClient, kiosk: Client, db: Session) -> None:
    codes = start(client).json()
    done = approve_as_john(client, codes["user_code"], decision="deny")
    assert "Nothing was shared" in done.text
    denied = poll(client, codes["device_code"])
    assert denied.json()["error"] == "access_denied"
    # The code cannot be approved afterwards either.
    assert type_code(client, codes["user_code"]).status_code == 400


def test_a_device_code_of_another_client_or_unknown_is_invalid_grant(
    client: TestClient,
    kiosk: Client,
    db: Session,
    make_client: Callable[..., tuple[Client, str | None]],
) -> None:
    device_code = start(client).json()["device_code"]
    other, _ = make_client("tv", public=True)
    other.grant_types, other.response_types = DEVICE_GRANT, ""
    db.add(other)
    db.commit()
    assert poll(client, device_code, client_id="tv").json()["error"] == "invalid_grant"
    assert poll(client, "made-up").json()["error"] == "invalid_grant"
    missing = client.post("/oauth/token", data={"grant_type": DEVICE_GRANT, "client_id": KIOSK})
    assert missing.json()["error"] == "invalid_request"


def test_a_wrong_code_is_a_page_and_guessing_is_rate_limited(tmp_path: Path) -> None:
    settings = settings_for(f"sqlite:///{tmp_path / 'm.db'}").model_copy(
        update={"user_code_entries_per_hour": 2}
    )
    from mockgram.app import create_app

    with TestClient(create_app(settings), base_url=ISSUER, follow_redirects=False) as browser:
        wrong = type_code(browser, "BCDF-GHJK")
        assert wrong.status_code == 400 and "not valid" in wrong.text
        assert type_code(browser, "not a code").status_code == 400
        limited = type_code(browser, "BCDF-GHJL")
        assert limited.status_code == 429 and "Retry-After" in limited.headers


def test_the_verification_uri_complete_prefills_but_does_not_approve(
    client: TestClient, kiosk: Client, db: Session
) -> None:
    codes = start(client).json()
    page = client.get(codes["verification_uri_complete"].removeprefix(ISSUER))
    assert f'value="{codes["user_code"]}"' in page.text
    assert db.exec(select(DeviceAuthorization.status)).one() == "pending"


def test_registration_of_a_device_client_needs_no_redirect_uri(client: TestClient) -> None:
    registered = client.post(
        "/oauth/register",
        json={
            "client_name": "Living-room TV",
            "token_endpoint_auth_method": "none",
            "grant_types": [DEVICE_GRANT],
            "scope": "photos.read",
        },
    )
    assert registered.status_code == 201, registered.text
    body = registered.json()
    assert body["grant_types"] == [DEVICE_GRANT]
    assert body["redirect_uris"] == [] and body["response_types"] == []
    codes = client.post("/oauth/device_authorization", data={"client_id": body["client_id"]})
    assert codes.status_code == 200
    # A client of the code flow still needs its redirect URIs.
    code_client = client.post("/oauth/register", json={"client_name": "Web"})
    assert code_client.json()["error"] == "invalid_redirect_uri"


def test_a_configured_device_client_needs_no_redirect_uri(tmp_path: Path) -> None:
    settings = MockgramSettings(database_url="sqlite://")
    good = tmp_path / "good.toml"
    good.write_text(
        '[[clients]]\nclient_id = "tv"\ntoken_endpoint_auth_method = "none"\n'
        f'response_types = []\ngrant_types = ["{DEVICE_GRANT}"]\nscopes = []\n'
    )
    assert load_config(good, settings).config.clients[0].redirect_uris == []
    bad = tmp_path / "bad.toml"
    bad.write_text('[[clients]]\nclient_id = "web"\ntoken_endpoint_auth_method = "none"\n')
    with pytest.raises(ConfigError, match="redirect"):
        load_config(bad, settings)


def test_user_codes_are_normalized_as_rfc_8628_suggests() -> None:
    assert user_codes.normalize("bcdf-ghjk") == "BCDFGHJK"
    assert user_codes.normalize(" BCDF GHJK ") == "BCDFGHJK"
    assert user_codes.normalize("ABCD-EFGH") is None  # vowels are never in a code
    assert user_codes.normalize("BCDF-GHJ") is None
    assert user_codes.shown("BCDFGHJK") == "BCDF-GHJK"
    code = user_codes.new_user_code()
    assert len(code) == 8 and set(code) <= set(user_codes.ALPHABET)


def test_in_non_interactive_mode_the_device_is_approved_without_a_question(
    tmp_path: Path,
) -> None:
    from mockgram.app import create_app

    settings = settings_for(f"sqlite:///{tmp_path / 'm.db'}").model_copy(
        update={"non_interactive": True, "seed_demo_data": True}
    )
    with TestClient(create_app(settings), base_url=ISSUER, follow_redirects=False) as browser:
        codes = browser.post(
            "/oauth/device_authorization", data={"client_id": "awesomeservice-kiosk"}
        ).json()
        assert type_code(browser, codes["user_code"]).status_code == 303
        signed_in = browser.get(browser.get("/device/confirm").headers["location"])
        done = browser.get(signed_in.headers["location"])
        assert "You may return to your device" in done.text
        data = {"grant_type": DEVICE_GRANT, "device_code": codes["device_code"]}
        tokens = browser.post("/oauth/token", data={**data, "client_id": "awesomeservice-kiosk"})
        assert tokens.status_code == 200 and tokens.json()["scope"] == "photos.read"
