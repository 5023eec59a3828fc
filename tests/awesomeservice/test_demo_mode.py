"""Demo mode (shared/demo.py): outside it, no secret README publishes opens AwesomeService.

`python -m awesomeservice` as is (no AWESOMESERVICE_DEMO) gives john a generated password,
printed once; it has no client secret until one is set, and says so instead of failing at
step 5; a published value set by hand, and lab mode, refuse to start.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session, select

from awesomeservice import __main__ as cli
from awesomeservice.app import create_app
from awesomeservice.models import User
from awesomeservice.settings import AwesomeServiceSettings
from shared import demo, serve
from shared.hashing import verify_password
from tests.awesomeservice.conftest import (
    AWESOME_URL,
    INTERNAL,
    ISSUER,
    FakeMockgram,
    csrf,
    login,
)

PRINTED_PASSWORD = re.compile(r"Password of the AwesomeService account john:\s+(\S+)")


def settings(database_url: str = "sqlite://", **overrides: object) -> AwesomeServiceSettings:
    """AwesomeService as `python -m awesomeservice` runs it: demo mode off, nothing else set."""
    values: dict[str, object] = {
        "url": AWESOME_URL,
        "mockgram_url": ISSUER,
        "mockgram_internal_url": INTERNAL,
        "database_url": database_url,
        "secret_key": "test-secret-key-for-awesomeservice",
        "doctor_on_start": False,
    }
    return AwesomeServiceSettings(**{**values, **overrides})  # type: ignore[arg-type]


def start(
    database_url: str, capsys: pytest.CaptureFixture[str], fake: FakeMockgram | None = None
) -> tuple[FastAPI, str]:
    """Build the app (one start); returns it with what it printed."""
    transport = httpx.MockTransport((fake or FakeMockgram()).handler)
    app = create_app(settings(database_url), http_transport=transport)
    return app, capsys.readouterr().err


def browser(app: FastAPI) -> TestClient:
    return TestClient(app, base_url=AWESOME_URL, follow_redirects=False)


def test_outside_demo_the_demo_password_does_not_sign_in(
    awesome_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app, printed = start(awesome_database_url, capsys)
    (password,) = PRINTED_PASSWORD.findall(printed)
    assert password != demo.AWESOMESERVICE_PASSWORD
    with browser(app) as client:
        page = client.get("/login")
        assert demo.AWESOMESERVICE_PASSWORD not in page.text and "as-demo" not in page.text
        refused = client.post(
            "/login",
            data={
                "username": "john",
                "password": demo.AWESOMESERVICE_PASSWORD,
                "csrf_token": csrf(client),
            },
        )
        assert refused.status_code != 303
        login(client, "john", password)


def test_johns_generated_password_persists_and_is_printed_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'awesomeservice.db'}"
    first, printed = start(url, capsys)
    (password,) = PRINTED_PASSWORD.findall(printed)
    first.state.engine.dispose()
    again, printed_again = start(url, capsys)
    assert printed_again == ""
    with Session(again.state.engine) as session:
        john = session.exec(select(User).where(User.username == "john")).one()
        assert verify_password(john.password_hash, password)
    again.state.engine.dispose()
    assert stat.S_IMODE((tmp_path / "awesomeservice.db").stat().st_mode) == 0o600


def test_a_database_the_demo_made_loses_the_published_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'awesomeservice.db'}"
    create_app(settings(url, demo=True)).state.engine.dispose()
    app, printed = start(url, capsys)
    (password,) = PRINTED_PASSWORD.findall(printed)
    with Session(app.state.engine) as session:
        john = session.exec(select(User).where(User.username == "john")).one()
        assert not verify_password(john.password_hash, demo.AWESOMESERVICE_PASSWORD)
        assert verify_password(john.password_hash, password)


def test_without_a_client_secret_connect_and_login_explain_what_to_set(
    awesome_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeMockgram()
    app, printed = start(awesome_database_url, capsys, fake)
    (password,) = PRINTED_PASSWORD.findall(printed)
    with browser(app) as client:
        login(client, "john", password)
        connect = client.post("/connect", data={"csrf_token": csrf(client)})
    with browser(app) as signed_out:
        log_in = signed_out.get("/login/mockgram")
    for page in (connect, log_in):
        assert page.status_code == 503
        assert "AwesomeService has no client secret yet" in page.text
        assert "Mockgram printed" in page.text
    assert "AWESOMESERVICE_CLIENT_SECRET" in connect.text
    assert "AWESOMESERVICE_LOGIN_CLIENT_SECRET" in log_in.text
    assert fake.requests == []  # nobody was sent anywhere, nothing was asked of Mockgram


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AWESOMESERVICE_CLIENT_SECRET", demo.CLIENT_SECRET),
        ("AWESOMESERVICE_DEMO_PASSWORD", demo.AWESOMESERVICE_PASSWORD),
        ("AWESOMESERVICE_DEBUGGER_CLIENT_SECRET", demo.DEBUGGER_CLIENT_SECRET),
        ("AWESOMESERVICE_LAB_MOCKGRAM_PASSWORD", demo.MOCKGRAM_PASSWORD),
    ],
)
def test_a_published_value_set_outside_demo_is_refused(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=f"{variable} is set to a demo secret"):
        AwesomeServiceSettings(database_url="sqlite://")
    monkeypatch.setenv("AWESOMESERVICE_DEMO", "true")
    assert AwesomeServiceSettings(database_url="sqlite://").demo


def test_demo_mode_fills_in_the_published_secrets() -> None:
    filled = AwesomeServiceSettings(demo=True, database_url="sqlite://")
    assert (filled.client_secret, filled.login_client_secret) == (demo.CLIENT_SECRET,) * 2
    assert filled.demo_password == demo.AWESOMESERVICE_PASSWORD
    assert filled.lab_mockgram_password == demo.MOCKGRAM_PASSWORD
    bare = AwesomeServiceSettings(database_url="sqlite://")
    assert not (bare.client_secret or bare.demo_password or bare.debugger_client_secret)


def test_lab_mode_without_demo_mode_is_refused() -> None:
    with pytest.raises(ValidationError, match="set AWESOMESERVICE_DEMO=true"):
        AwesomeServiceSettings(lab_mode=True, database_url="sqlite://")
    assert AwesomeServiceSettings(lab_mode=True, demo=True, database_url="sqlite://").lab_mode


def test_python_m_awesomeservice_with_lab_mode_and_no_demo_says_why_and_exits(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWESOMESERVICE_DEMO", raising=False)
    monkeypatch.setenv("AWESOMESERVICE_LAB_MODE", "true")
    monkeypatch.setattr(serve.uvicorn, "run", lambda *a, **k: pytest.fail("it started"))
    with pytest.raises(SystemExit) as exit_:
        cli.main([])
    assert exit_.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("awesomeservice cannot start: ")
    assert "AWESOMESERVICE_DEMO=true" in line
