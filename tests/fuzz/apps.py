"""Both apps for fuzzing: built once per module on in-memory SQLite, Mockgram seeded, and a
snapshot of every table's rows to show that a refused request changed nothing."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import MetaData, func, select
from sqlalchemy.engine import Engine

from awesomeservice.app import create_app as create_awesomeservice
from mockgram.app import create_app as create_mockgram
from mockgram.settings import MockgramSettings
from tests.awesomeservice.conftest import FakeMockgram
from tests.awesomeservice.conftest import settings_for as awesome_settings_for

ISSUER = "http://mockgram.test"
CLIENT_ID = "awesomeservice"
CLIENT_SECRET = "fuzz-client-secret"
DEMO_PASSWORD = "fuzz-demo-password"
# What any request may leave behind and is not a change of state: records a refusal is meant
# to leave (its explanation page shows it), captured requests, the visitor's session.
RECORDERS = frozenset(
    {"failedrequest", "refusedrequest", "flowevent", "capturedrequest", "browser_session"}
)
# Hypothesis, fast and repeatable in CI: the same examples every run, no example database.
FAST = {"deadline": None, "derandomize": True, "database": None}


def mockgram_app() -> FastAPI:
    return create_mockgram(
        MockgramSettings(
            issuer=ISSUER,
            demo=True,
            database_url="sqlite://",
            seed_demo_data=True,
            demo_password=DEMO_PASSWORD,
            secret_key="fuzz-secret-key-for-sessions",
            awesomeservice_url="http://client.test",
            awesomeservice_client_secret=CLIENT_SECRET,
            login_throttle=False,
        )
    )


def awesomeservice_app() -> FastAPI:
    return create_awesomeservice(
        awesome_settings_for("sqlite://"),
        http_transport=httpx.MockTransport(FakeMockgram().handler),
    )


def snapshot(engine: Engine, metadata: MetaData) -> dict[str, int]:
    """Rows per table, recorders of refusals left out."""
    with engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
            if table.name not in RECORDERS
        }


def assert_no_server_error(response: Any, *, allowed: tuple[int, ...] = ()) -> None:
    """No 500 and no traceback, whatever was sent (images are bytes, not text)."""
    text = response.content.decode("utf-8", "replace")
    assert response.status_code < 500 or response.status_code in allowed, (
        f"{response.status_code}: {text[:300]}"
    )
    assert "Traceback" not in text
