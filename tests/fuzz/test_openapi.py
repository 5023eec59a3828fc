"""Schemathesis against both apps' OpenAPI documents, in process (ASGI, no sockets).

Every operation each app documents gets generated requests, valid and not: none may be a 500
or show a traceback, and a refused one (4xx) must leave every table as it was. The examples
are few and fixed (derandomized), so this stays a quick part of every run.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awesomeservice.models import AwesomeTable
from mockgram.models import MockgramTable
from tests.awesomeservice.conftest import login
from tests.fuzz.apps import (
    FAST,
    assert_no_server_error,
    awesomeservice_app,
    mockgram_app,
    snapshot,
)

MOCKGRAM_EXAMPLES = 30
AWESOMESERVICE_EXAMPLES = 40
# AwesomeService's back channel reaches a fake Mockgram that may refuse; its pages then say
# so with 502/503/504, on purpose.
GATEWAY_PAGES = (502, 503, 504)


def operations(app: FastAPI) -> Any:
    """A strategy drawing a generated request for any documented operation, sent in process."""
    if app.openapi_url is None:  # AwesomeService publishes no document; the test serves it
        app.add_api_route("/openapi.json", app.openapi, include_in_schema=False)
    schema = schemathesis.openapi.from_asgi(app.openapi_url or "/openapi.json", app)
    strategies = [result.ok().as_strategy() for result in schema.get_all_operations()]
    assert strategies, "the app documents no operation"
    return st.one_of(strategies)


def send(client: TestClient, case: Any) -> Any:
    """The generated request through the ASGI app, with the client's cookies (its session)."""
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    headers = {"Cookie": cookie} if cookie else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # schemathesis' own transport
        return case.call(headers=headers, allow_redirects=False)


@pytest.fixture(scope="module")
def mockgram() -> Iterator[tuple[FastAPI, TestClient]]:
    app = mockgram_app()
    with TestClient(app, base_url="http://mockgram.test", follow_redirects=False) as client:
        yield app, client


@pytest.fixture(scope="module")
def awesomeservice() -> Iterator[tuple[FastAPI, TestClient]]:
    app = awesomeservice_app()
    with TestClient(app, base_url="http://awesome.test", follow_redirects=False) as client:
        login(client)  # signed in, so the pages behind sign-in are reached too
        yield app, client


def check(app: FastAPI, metadata: Any, client: TestClient, case: Any, allowed=()) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(app.state.engine, metadata)
    response = send(client, case)
    assert_no_server_error(response, allowed=allowed)
    if 400 <= response.status_code < 500:
        assert snapshot(app.state.engine, metadata) == before, f"{case.method} {case.path}"


def test_mockgram_openapi_operations_never_fail_and_refusals_change_nothing(
    mockgram: tuple[FastAPI, TestClient],
) -> None:
    app, client = mockgram

    @settings(
        max_examples=MOCKGRAM_EXAMPLES,
        suppress_health_check=list(HealthCheck),
        **FAST,  # type: ignore[arg-type]
    )
    @given(case=operations(app))
    def run(case: Any) -> None:
        check(app, MockgramTable.metadata, client, case)

    run()


def test_awesomeservice_openapi_operations_never_fail_and_refusals_change_nothing(
    awesomeservice: tuple[FastAPI, TestClient],
) -> None:
    app, client = awesomeservice

    @settings(
        max_examples=AWESOMESERVICE_EXAMPLES,
        suppress_health_check=list(HealthCheck),
        **FAST,  # type: ignore[arg-type]
    )
    @given(case=operations(app))
    def run(case: Any) -> None:
        check(app, AwesomeTable.metadata, client, case, allowed=GATEWAY_PAGES)

    run()
