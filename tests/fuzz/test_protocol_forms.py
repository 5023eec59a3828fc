"""Hypothesis on Mockgram's protocol endpoints: form bodies (and a JSON body for registration)
built from the parameters each endpoint reads, with values that are right, wrong or strange
(NUL bytes, control and non-ASCII characters, long strings), with or without the client's
credentials. Whatever arrives: no 500, no traceback, an RFC error code when refused, and a
refused request changes nothing in the database.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockgram.models import MockgramTable
from shared.limits import MAX_BODY_BYTES
from tests.fuzz.apps import (
    CLIENT_ID,
    CLIENT_SECRET,
    FAST,
    ISSUER,
    assert_no_server_error,
    mockgram_app,
    snapshot,
)

EXAMPLES = 40  # per endpoint
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
REDIRECT_URI = "http://client.test/connect/callback"
# RFC 6749 §5.2, RFC 7009 §2.2.1, RFC 7591 §3.2.2, RFC 6750 §3.1: what a refusal may say.
ERROR_CODES = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "invalid_target",  # RFC 8707 §2, RFC 8693 §2.2.2
        "unsupported_token_type",
        "invalid_redirect_uri",
        "invalid_client_metadata",
        "invalid_token",
        "access_denied",
    }
)

odd_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300)
values = st.one_of(
    st.sampled_from(
        [
            "",
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:token-exchange",
            "urn:ietf:params:oauth:token-type:access_token",
            "http://mockgram.test/api",
            "code",
            "token",
            "id_token",
            "code id_token",
            "photos.read",
            "openid profile email",
            "S256",
            "plain",
            CLIENT_ID,
            CLIENT_SECRET,
            REDIRECT_URI,
            "access_token",
            "none",
            "form_post",
            "0",
            "-1",
            "a\x00b",
            "x" * 5000,
        ]
    ),
    odd_text,
)
FIELDS = {
    "/oauth/token": [
        "grant_type",
        "code",
        "redirect_uri",
        "code_verifier",
        "refresh_token",
        "scope",
        "client_id",
        "client_secret",
        "resource",
        "audience",
        "subject_token",
        "subject_token_type",
        "actor_token",
        "requested_token_type",
    ],
    "/oauth/revoke": ["token", "token_type_hint", "client_id", "client_secret"],
    "/oauth/introspect": ["token", "token_type_hint", "client_id", "client_secret"],
    "/oauth/authorize": [
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "response_mode",
        "prompt",
        "max_age",
        "login_hint",
        "resource",
    ],
}


def form_bodies(fields: list[str]) -> Any:
    """Lists of (name, value) pairs: some fields, sometimes repeated, in any order."""
    return st.lists(st.tuples(st.sampled_from([*fields, "unknown"]), values), max_size=10)


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


credentials = st.sampled_from(
    [
        {},
        {"Authorization": basic(CLIENT_ID, CLIENT_SECRET)},
        {"Authorization": basic(CLIENT_ID, "wrong")},
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Bearer x"},
    ]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | odd_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(odd_text, inner, max_size=4),
    max_leaves=12,
)
registrations = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "redirect_uris": st.one_of(
                st.lists(st.one_of(st.just(REDIRECT_URI), odd_text), max_size=3), json_values
            ),
            "client_name": st.one_of(odd_text, json_values),
            "token_endpoint_auth_method": st.one_of(
                st.sampled_from(["none", "client_secret_basic", "client_secret_post"]), odd_text
            ),
            "grant_types": json_values,
            "response_types": json_values,
            "scope": st.one_of(values, json_values),
        },
    ),
)


@pytest.fixture(scope="module")
def mockgram() -> Iterator[tuple[FastAPI, TestClient]]:
    app = mockgram_app()
    with TestClient(app, base_url=ISSUER, follow_redirects=False) as client:
        yield app, client


def refused_changes_nothing(app: FastAPI, before: dict[str, int], response: Any) -> None:
    if 400 <= response.status_code < 500:
        assert snapshot(app.state.engine, MockgramTable.metadata) == before


def json_error_is_an_rfc_code(response: Any) -> None:
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/json"), response.text
        assert response.json()["error"] in ERROR_CODES


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_back_channel_endpoints_answer_any_form_with_an_rfc_error_or_success(
    mockgram: tuple[FastAPI, TestClient], path: str
) -> None:
    app, client = mockgram

    @settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck), **FAST)  # type: ignore[arg-type]
    @given(body=form_bodies(FIELDS[path]), headers=credentials)
    def run(body: list[tuple[str, str]], headers: dict[str, str]) -> None:
        before = snapshot(app.state.engine, MockgramTable.metadata)
        response = client.post(path, content=urlencode(body), headers={**FORM, **headers})
        assert_no_server_error(response)
        json_error_is_an_rfc_code(response)
        refused_changes_nothing(app, before, response)

    run()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_authorization_endpoint_answers_any_request_with_a_page_or_a_redirect(
    mockgram: tuple[FastAPI, TestClient], method: str
) -> None:
    app, client = mockgram

    @settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck), **FAST)  # type: ignore[arg-type]
    @given(body=form_bodies(FIELDS["/oauth/authorize"]))
    def run(body: list[tuple[str, str]]) -> None:
        before = snapshot(app.state.engine, MockgramTable.metadata)
        if method == "GET":
            response = client.get("/oauth/authorize", params=body)
        else:
            response = client.post("/oauth/authorize", content=urlencode(body), headers=FORM)
        assert_no_server_error(response)
        assert response.status_code in (200, 302, 303, 400), response.text[:300]
        if response.status_code == 400:
            assert response.headers["content-type"].startswith("text/html")
        refused_changes_nothing(app, before, response)

    run()


def test_registration_answers_any_json_with_an_rfc_error_or_a_client(
    mockgram: tuple[FastAPI, TestClient],
) -> None:
    app, client = mockgram

    @settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck), **FAST)  # type: ignore[arg-type]
    @given(body=registrations)
    def run(body: Any) -> None:
        before = snapshot(app.state.engine, MockgramTable.metadata)
        response = client.post("/oauth/register", json=body)
        assert_no_server_error(response)
        json_error_is_an_rfc_code(response)
        refused_changes_nothing(app, before, response)

    run()


def test_deeply_nested_json_at_registration_is_a_clear_refusal(
    mockgram: tuple[FastAPI, TestClient],
) -> None:
    app, client = mockgram
    before = snapshot(app.state.engine, MockgramTable.metadata)
    response = client.post(
        "/oauth/register",
        content=b"[" * 100_000 + b"]" * 100_000,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    json_error_is_an_rfc_code(response)
    assert snapshot(app.state.engine, MockgramTable.metadata) == before


def test_an_over_large_token_request_is_a_413_invalid_request_and_changes_nothing(
    mockgram: tuple[FastAPI, TestClient],
) -> None:
    app, client = mockgram
    before = snapshot(app.state.engine, MockgramTable.metadata)
    response = client.post(
        "/oauth/token", content="grant_type=" + "a" * (MAX_BODY_BYTES + 1), headers=FORM
    )
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"
    assert snapshot(app.state.engine, MockgramTable.metadata) == before


def test_an_over_large_sign_in_form_is_a_413_page(mockgram: tuple[FastAPI, TestClient]) -> None:
    _, client = mockgram
    response = client.post("/login", content="username=" + "a" * (MAX_BODY_BYTES + 1), headers=FORM)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "That request was too large" in response.text
