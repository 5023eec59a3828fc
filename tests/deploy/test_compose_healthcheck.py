"""GET /healthz in both apps and `python -m shared.healthcheck`, the compose health checks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from awesomeservice.app import create_app as create_awesomeservice
from awesomeservice.settings import AwesomeServiceSettings
from mockgram.app import create_app as create_mockgram
from mockgram.settings import MockgramSettings
from shared import healthcheck
from shared.health import HEALTH_PATH


@pytest.fixture(params=["mockgram", "awesomeservice"])
def app(
    request: pytest.FixtureRequest, mockgram_database_url: str, awesome_database_url: str
) -> FastAPI:
    if request.param == "mockgram":
        return create_mockgram(MockgramSettings(database_url=mockgram_database_url))
    return create_awesomeservice(
        AwesomeServiceSettings(database_url=awesome_database_url, doctor_on_start=False)
    )


def test_healthz_answers_after_a_database_round_trip(app: FastAPI) -> None:
    response = TestClient(app).get(HEALTH_PATH)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


def test_healthz_says_unavailable_when_the_database_is_gone(
    app: FastAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A SQLite file in a folder that does not exist: every connection attempt fails.
    app.state.engine = create_engine(f"sqlite:///{tmp_path / 'missing' / 'db.sqlite'}")
    response = TestClient(app).get(HEALTH_PATH)
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "database"}
    assert "the database did not answer" in caplog.text


def _answering(status: int) -> Callable[..., httpx.Response]:
    def fake_get(url: str, **kwargs: object) -> httpx.Response:
        return httpx.Response(status, request=httpx.Request("GET", url))

    return fake_get


def test_healthcheck_command_exit_codes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(healthcheck.httpx, "get", _answering(200))
    assert healthcheck.main(["http://127.0.0.1:8001/healthz"]) == 0
    monkeypatch.setattr(healthcheck.httpx, "get", _answering(503))
    assert healthcheck.main(["http://127.0.0.1:8001/healthz"]) == 1
    assert "answered HTTP 503" in capsys.readouterr().err


def test_healthcheck_without_a_url_accepts_either_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """The image's own check names no URL: healthy when the app it runs, either one, answers."""
    asked: list[str] = []

    def only_mockgram_listens(url: str, **_: object) -> httpx.Response:
        asked.append(url)
        if ":8001/" not in url:
            raise httpx.ConnectError("refused")
        return httpx.Response(200, json={"status": "ok"})

    monkeypatch.setattr(healthcheck.httpx, "get", only_mockgram_listens)
    assert healthcheck.main([]) == 0
    assert asked == list(healthcheck.DEFAULT_URLS)
    monkeypatch.setattr(healthcheck.httpx, "get", _answering(503))
    assert healthcheck.main([]) == 1


def test_healthcheck_command_when_nothing_listens(capsys: pytest.CaptureFixture[str]) -> None:
    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    assert healthcheck.check("http://127.0.0.1:1/healthz", timeout=2.0) == 1
    assert "unhealthy: http://127.0.0.1:1/healthz: ConnectError" in capsys.readouterr().err
