"""Demo mode (shared/demo.py): outside it, no secret README publishes opens anything on Mockgram.

`python -m mockgram` as is (no MOCKGRAM_DEMO) generates the seeded clients' secrets once, keeps
them in the database and prints them once; the seeded people get a generated password; a
published value set by hand, and lab mode, refuse to start.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session, select

from mockgram import __main__ as cli
from mockgram.app import create_app
from mockgram.models import Client, User
from mockgram.settings import MockgramSettings
from shared import demo, serve
from shared.hashing import hash_secret, verify_password
from tests.mockgram.oauth_helpers import login
from tests.mockgram.token_helpers import assert_oauth_error, introspect, post_form

ISSUER = "http://mockgram.test"
PUBLISHED_CLIENTS = [
    ("awesomeservice", demo.CLIENT_SECRET),
    ("oauth-debugger", demo.DEBUGGER_CLIENT_SECRET),
]
PRINTED = re.compile(r"(AWESOMESERVICE_(?:DEBUGGER_)?CLIENT_SECRET)=(\S+)")
PRINTED_PASSWORD = re.compile(r"Password of the Mockgram users john and jane:\s+(\S+)")


def settings(database_url: str = "sqlite://", **overrides: object) -> MockgramSettings:
    """Mockgram as `python -m mockgram` runs it: demo mode off, seeding on, nothing else set."""
    values: dict[str, object] = {
        "issuer": ISSUER,
        "database_url": database_url,
        "secret_key": "test-secret-key-for-sessions",
        "awesomeservice_url": "http://client.test",
    }
    return MockgramSettings(**{**values, **overrides})  # type: ignore[arg-type]


def start(database_url: str, capsys: pytest.CaptureFixture[str], **overrides: object):  # type: ignore[no-untyped-def]
    """Build the app (one start); returns it with what it printed."""
    app = create_app(settings(database_url, **overrides))
    return app, capsys.readouterr().err


@pytest.fixture
def outside_demo(
    mockgram_database_url: str, capsys: pytest.CaptureFixture[str]
) -> tuple[FastAPI, str]:
    return start(mockgram_database_url, capsys)


def test_outside_demo_the_published_client_secrets_open_nothing(
    outside_demo: tuple[FastAPI, str],
) -> None:
    app, printed = outside_demo
    generated = dict(PRINTED.findall(printed))
    with TestClient(app, base_url=ISSUER, follow_redirects=False) as client:
        for client_id, published in PUBLISHED_CLIENTS:
            refused = introspect(client, "any-token", auth=(client_id, published))
            assert_oauth_error(refused, "invalid_client", 401)
            token = post_form(
                client,
                "/oauth/token",
                {"grant_type": "authorization_code", "code": "x", "redirect_uri": "y"},
                (client_id, published),
            )
            assert_oauth_error(token, "invalid_client", 401)
        # The secrets it printed are the ones that work.
        for client_id, variable in (
            ("awesomeservice", "AWESOMESERVICE_CLIENT_SECRET"),
            ("oauth-debugger", "AWESOMESERVICE_DEBUGGER_CLIENT_SECRET"),
        ):
            answer = introspect(client, "any-token", auth=(client_id, generated[variable]))
            assert answer.status_code == 200 and answer.json() == {"active": False}


def test_in_demo_mode_the_published_client_secret_works(
    mockgram_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app, printed = start(mockgram_database_url, capsys, demo=True)
    assert printed == ""  # nothing generated, nothing to show
    with TestClient(app, base_url=ISSUER) as client:
        for client_id, published in PUBLISHED_CLIENTS:
            answer = introspect(client, "any-token", auth=(client_id, published))
            assert answer.json() == {"active": False}


def test_outside_demo_the_demo_password_does_not_sign_in(outside_demo: tuple[FastAPI, str]) -> None:
    app, printed = outside_demo
    (password,) = PRINTED_PASSWORD.findall(printed)
    assert password != demo.MOCKGRAM_PASSWORD
    with TestClient(app, base_url=ISSUER, follow_redirects=False) as client:
        for username in ("john", "jane"):
            assert login(client, username, demo.MOCKGRAM_PASSWORD).status_code == 401
        assert login(client, "john", password).status_code == 303


def test_the_debugger_secret_is_generated_not_the_published_one(
    outside_demo: tuple[FastAPI, str],
) -> None:
    app, printed = outside_demo
    generated = dict(PRINTED.findall(printed))["AWESOMESERVICE_DEBUGGER_CLIENT_SECRET"]
    assert generated != demo.DEBUGGER_CLIENT_SECRET and len(generated) >= 43  # 256 bits
    with Session(app.state.engine) as session:
        debugger = session.get(Client, "oauth-debugger")
        assert debugger is not None
        assert debugger.secret_hash == hash_secret(generated)
        assert debugger.secret_hash != hash_secret(demo.DEBUGGER_CLIENT_SECRET)


def test_the_debugger_secret_is_a_setting(mockgram_database_url: str) -> None:
    app = create_app(settings(mockgram_database_url, debugger_client_secret="chosen-one"))
    with Session(app.state.engine) as session:
        debugger = session.get(Client, "oauth-debugger")
        assert debugger is not None and debugger.secret_hash == hash_secret("chosen-one")


def test_what_is_printed_says_what_to_set_on_awesomeservice(
    outside_demo: tuple[FastAPI, str],
) -> None:
    _, printed = outside_demo
    assert "start AwesomeService with" in printed
    assert {name for name, _ in PRINTED.findall(printed)} == {
        "AWESOMESERVICE_CLIENT_SECRET",
        "AWESOMESERVICE_DEBUGGER_CLIENT_SECRET",
    }
    assert "shown only now" in printed


def test_generated_secrets_persist_across_a_restart_and_are_printed_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'mockgram.db'}"
    first, printed = start(url, capsys)
    with Session(first.state.engine) as session:
        before = {c.client_id: c.secret_hash for c in session.exec(select(Client)).all()}
        john = session.exec(select(User).where(User.username == "john")).one().password_hash
    first.state.engine.dispose()

    again, printed_again = start(url, capsys)
    assert PRINTED.findall(printed) and printed_again == ""
    with Session(again.state.engine) as session:
        after = {c.client_id: c.secret_hash for c in session.exec(select(Client)).all()}
        assert after == before
        assert session.exec(select(User).where(User.username == "john")).one().password_hash == john
    again.state.engine.dispose()
    # The database holds them: readable by its owner only.
    database = tmp_path / "data" / "mockgram.db"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert stat.S_IMODE(database.parent.stat().st_mode) == 0o700


def test_a_database_the_demo_made_loses_the_published_password_outside_demo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'mockgram.db'}"
    start(url, capsys, demo=True)[0].state.engine.dispose()
    app, printed = start(url, capsys)
    (password,) = PRINTED_PASSWORD.findall(printed)
    with Session(app.state.engine) as session:
        for user in session.exec(select(User)).all():
            assert not verify_password(user.password_hash, demo.MOCKGRAM_PASSWORD)
            assert verify_password(user.password_hash, password)
        for client_id, published in PUBLISHED_CLIENTS:
            row = session.get(Client, client_id)
            assert row is not None and row.secret_hash != hash_secret(published)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MOCKGRAM_DEMO_PASSWORD", demo.MOCKGRAM_PASSWORD),
        ("AWESOMESERVICE_CLIENT_SECRET", demo.CLIENT_SECRET),
        ("AWESOMESERVICE_DEBUGGER_CLIENT_SECRET", demo.DEBUGGER_CLIENT_SECRET),
    ],
)
def test_a_published_value_set_outside_demo_is_refused(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=f"{variable} is set to a demo secret"):
        MockgramSettings(database_url="sqlite://")
    monkeypatch.setenv("MOCKGRAM_DEMO", "true")
    assert MockgramSettings(database_url="sqlite://").demo


def test_lab_mode_without_demo_mode_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="set MOCKGRAM_DEMO=true"):
        MockgramSettings(lab_mode=True, database_url="sqlite://")
    assert MockgramSettings(lab_mode=True, demo=True, database_url="sqlite://").lab_mode


def test_python_m_mockgram_with_lab_mode_and_no_demo_says_why_and_exits(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MOCKGRAM_DEMO", raising=False)
    monkeypatch.setenv("MOCKGRAM_LAB_MODE", "true")
    monkeypatch.setattr(serve.uvicorn, "run", lambda *a, **k: pytest.fail("it started"))
    with pytest.raises(SystemExit) as exit_:
        cli.main([])
    assert exit_.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("mockgram cannot start: ")
    assert "MOCKGRAM_DEMO=true" in line and "Traceback" not in line
