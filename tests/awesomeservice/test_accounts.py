"""AwesomeService's own accounts, the landing page, CSRF on every form and redirects (C8)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from awesomeservice.app import create_app
from awesomeservice.models import MockgramConnection, PendingAuthorization, PrintOrder, User
from awesomeservice.seed import seed_demo_data
from awesomeservice.settings import AwesomeServiceSettings
from tests.awesomeservice.conftest import (
    AWESOME_URL,
    FakeMockgram,
    connect,
    csrf,
    login,
    session_payload,
)


def test_seeded_john_has_his_own_awesomeservice_password(client: TestClient) -> None:
    bad = client.post(
        "/login",
        data={"username": "john", "password": "mockgram-demo", "csrf_token": csrf(client)},
    )
    assert bad.status_code == 400
    login(client, "john", "awesome-demo")
    assert "John Appleseed" in client.get("/").text or "john" in client.get("/").text


def test_seed_is_idempotent(app: FastAPI, settings: AwesomeServiceSettings, db: Session) -> None:
    seed_demo_data(app.state.engine, settings)
    seed_demo_data(app.state.engine, settings)
    assert len(db.exec(select(User).where(User.username == "john")).all()) == 1


def test_login_page_shows_demo_account(client: TestClient) -> None:
    text = client.get("/login").text
    assert "<code>john</code>" in text and "<code>awesome-demo</code>" in text


def test_login_same_message_for_unknown_user_and_wrong_password(client: TestClient) -> None:
    token = csrf(client)
    wrong = client.post("/login", data={"username": "john", "password": "x", "csrf_token": token})
    unknown = client.post(
        "/login", data={"username": "nobody", "password": "x", "csrf_token": token}
    )
    assert wrong.status_code == unknown.status_code == 400
    message = "That username and password do not match an AwesomeService account."
    assert message in wrong.text and message in unknown.text


def test_login_rotates_the_session(client: TestClient) -> None:
    before = csrf(client)
    login(client)
    after = csrf(client)
    assert before != after
    assert '"user_id"' in session_payload(client)


def test_signup_creates_account_and_signs_in(client: TestClient, db: Session) -> None:
    response = client.post(
        "/signup",
        data={
            "username": "Alice",
            "name": "Alice Liddell",
            "password": "wonderland",
            "csrf_token": csrf(client),
        },
    )
    assert response.status_code == 303
    user = db.exec(select(User).where(User.username == "alice")).one()
    assert user.password_hash.startswith("$argon2")
    assert "Connect Mockgram" in client.get("/").text


def test_signup_errors_keep_input(client: TestClient) -> None:
    response = client.post(
        "/signup",
        data={
            "username": "john",
            "name": "Another John",
            "password": "long-enough",
            "csrf_token": csrf(client),
        },
    )
    assert response.status_code == 400
    assert "taken" in response.text
    assert 'value="Another John"' in response.text
    response = client.post(
        "/signup",
        data={"username": "a b", "name": "", "password": "short", "csrf_token": csrf(client)},
    )
    assert response.status_code == 400
    assert "At least 8 characters" in response.text


def test_logout_forgets_the_session(client: TestClient) -> None:
    login(client)
    response = client.post("/logout", data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    assert '"user_id"' not in session_payload(client)
    assert client.get("/photos").status_code == 303


def test_home_states(client: TestClient) -> None:
    text = client.get("/").text
    assert "Print your Mockgram photos" in text
    assert 'href="/signup"' in text and "Connect Mockgram</button>" not in text
    for number in range(1, 7):
        assert f'<span class="step-badge">{number}</span>' in text
    login(client)
    assert "Connect Mockgram</button>" in client.get("/").text
    connect(client)
    text = client.get("/").text
    assert "See your photos" in text and "Connect Mockgram</button>" not in text


# ── C8 ──────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "http://awesome.test.evil.example/",
        "/photos@evil.example",
        "javascript:alert(1)",
    ],
)
def test_c8_no_open_redirect_via_next(client: TestClient, target: str) -> None:
    response = client.post(
        "/login",
        data={
            "username": "john",
            "password": "awesome-demo",
            "csrf_token": csrf(client),
            "next": target,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert client.get("/login", params={"next": target}).headers["location"] == "/"


def test_c8_next_to_own_page_is_honoured(client: TestClient) -> None:
    response = client.post(
        "/login",
        data={
            "username": "john",
            "password": "awesome-demo",
            "csrf_token": csrf(client),
            "next": "/orders",
        },
    )
    assert response.headers["location"] == "/orders"


def _counts(db: Session) -> tuple[int, ...]:
    db.expire_all()
    return tuple(
        len(db.exec(select(model)).all())
        for model in (User, MockgramConnection, PendingAuthorization, PrintOrder)
    )


@pytest.mark.parametrize("token", [None, "", "forged-token"])
@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/login", {"username": "john", "password": "awesome-demo"}),
        ("/signup", {"username": "mallory", "name": "Mallory", "password": "long-enough"}),
        ("/logout", {}),
        ("/connect", {}),
        ("/connect/disconnect", {}),
        ("/photos/1/try-delete", {}),
        ("/orders/new", {"photo_id": "1"}),
        (
            "/orders",
            {
                "photo_id": "1",
                "size_1": "10x15",
                "copies_1": "1",
                "shipping_name": "M",
                "shipping_address": "Somewhere",
            },
        ),
    ],
)
def test_c8_every_form_post_without_csrf_is_refused(
    make_client: Callable[[], TestClient],
    fake: FakeMockgram,
    db: Session,
    path: str,
    data: dict[str, str],
    token: str | None,
) -> None:
    browser = make_client()
    login(browser)
    connect(browser)
    before, requests_before = _counts(db), len(fake.requests)
    payload = dict(data)
    if token is not None:
        payload["csrf_token"] = token
    response = browser.post(path, data=payload)
    assert response.status_code == 403
    assert "nothing was changed" in response.text
    assert _counts(db) == before
    assert len(fake.requests) == requests_before
    assert '"user_id"' in session_payload(browser)  # still signed in: logout did not happen


def test_c8_csrf_token_of_another_session_is_refused(
    make_client: Callable[[], TestClient], db: Session
) -> None:
    john, other = make_client(), make_client()
    login(john)
    connect(john)
    response = john.post("/connect/disconnect", data={"csrf_token": csrf(other)})
    assert response.status_code == 403
    assert len(db.exec(select(MockgramConnection)).all()) == 1


# ── error pages ─────────────────────────────────────────────────────────────────────────────


def test_unknown_page_is_a_friendly_404(client: TestClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "AwesomeService" in response.text


def test_malformed_path_is_a_400_page_not_422(client: TestClient) -> None:
    login(client)
    response = client.get("/orders/not-a-number")
    assert response.status_code == 400
    assert "was not understood" in response.text
    assert client.get("/photos/abc/image").status_code == 400


def test_wrong_method_is_a_friendly_page(client: TestClient) -> None:
    response = client.get("/connect/disconnect")
    assert response.status_code == 405
    assert "<html" in response.text


def test_unexpected_error_is_a_friendly_500(
    settings: AwesomeServiceSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import awesomeservice.pages.home as home

    app = create_app(settings)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(home, "usable_connection", boom)
    with TestClient(
        app, base_url=AWESOME_URL, follow_redirects=False, raise_server_exceptions=False
    ) as browser:
        login(browser)
        response = browser.get("/")
    assert response.status_code == 500
    assert "Something went wrong on AwesomeService" in response.text
    assert "boom" not in response.text


def test_generated_session_secret_is_persisted(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/awesome.db"
    settings = AwesomeServiceSettings(database_url=url, secret_key=None, url=AWESOME_URL, demo=True)
    first = create_app(settings)
    with TestClient(first, base_url=AWESOME_URL, follow_redirects=False) as browser:
        login(browser)
        cookies = dict(browser.cookies)
    second = create_app(settings)  # another worker / a restart: same key, same sessions
    with TestClient(
        second, base_url=AWESOME_URL, follow_redirects=False, cookies=cookies
    ) as browser:
        assert browser.get("/photos").status_code == 200
    first.state.engine.dispose()
    second.state.engine.dispose()


def test_app_works_without_lifespan(settings: AwesomeServiceSettings) -> None:
    app = create_app(settings)
    browser = TestClient(app, base_url=AWESOME_URL, follow_redirects=False)
    login(browser)
    assert browser.get("/").status_code == 200


def test_security_headers_on_pages(client: TestClient) -> None:
    response = client.get("/")
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
