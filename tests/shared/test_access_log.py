"""The access log masks codes, states and tokens in request URLs, and keeps the rest."""

from __future__ import annotations

import importlib
import logging

from shared.access_log import RedactSecrets, log_config, redact_path


def test_a_callbacks_code_and_state_are_masked_and_the_rest_kept() -> None:
    path = (
        "/connect/callback?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz&iss=http%3A%2F%2Flocalhost%3A8001"
    )
    assert redact_path(path) == (
        "/connect/callback?code=[redacted]&state=[redacted]&iss=http%3A%2F%2Flocalhost%3A8001"
    )


def test_paths_without_secrets_are_logged_as_they_came() -> None:
    assert redact_path("/photos") == "/photos"
    assert redact_path("/debugger?response_type=code+id_token") == (
        "/debugger?response_type=code+id_token"
    )


def test_the_filter_rewrites_uvicorns_access_record() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/spa/pkce?code=abc&state=s", "1.1", 200),
        None,
    )
    assert RedactSecrets().filter(record) is True
    assert record.getMessage() == (
        '127.0.0.1:5000 - "GET /spa/pkce?code=[redacted]&state=[redacted] HTTP/1.1" 200'
    )


def test_the_log_configuration_installs_the_filter_on_the_access_handler() -> None:
    config = log_config()
    assert config["handlers"]["access"]["filters"] == ["redact_secrets"]
    # The factory path dictConfig resolves (in each uvicorn worker) names this very class.
    factory = config["filters"]["redact_secrets"]["()"]
    module, _, name = factory.rpartition(".")
    assert getattr(importlib.import_module(module), name) is RedactSecrets
