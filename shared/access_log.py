"""The access log without secrets: codes, tokens and states in logged URLs are masked.

A callback's URL carries a live authorization code (`/connect/callback?code=…`); uvicorn logs
every request line as it came. The filter rewrites the logged path before it is written, in
every worker (uvicorn applies the same log configuration in each process).
"""

from __future__ import annotations

import copy
import logging
from typing import Any
from urllib.parse import parse_qsl, quote

from uvicorn.config import LOGGING_CONFIG

# What an authorization answer or a token request may carry in its query (RFC 6749 §4.1.2, §4.2.2).
SECRET_PARAMS = frozenset(
    {
        "code",
        "state",
        "access_token",
        "id_token",
        "refresh_token",
        "token",
        "code_verifier",
        "client_secret",
        "password",
        "device_code",  # RFC 8628: the device's secret
        "user_code",  # …and what John types to approve it
    }
)


def redact_path(path: str) -> str:
    """`path` with the value of every secret query parameter replaced by '[redacted]'."""
    if "?" not in path:
        return path
    base, query = path.split("?", 1)
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(name in SECRET_PARAMS for name, _ in pairs):
        return path
    shown = "&".join(
        f"{quote(name, safe='')}="
        + ("[redacted]" if name in SECRET_PARAMS else quote(value, safe=""))
        for name, value in pairs
    )
    return f"{base}?{shown}"


class RedactSecrets(logging.Filter):
    """For uvicorn.access: its record's args are (client, method, path, http version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_path(args[2]), *args[3:])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration, with the access log passed through RedactSecrets."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {"()": f"{__name__}.RedactSecrets"}
    config["handlers"]["access"]["filters"] = ["redact_secrets"]
    return config
