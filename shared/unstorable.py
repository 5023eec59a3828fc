"""Input the database cannot store gets a clear 400, never a 500.

PostgreSQL text cannot hold a NUL character (SQLite can): a `state`, `client_id`, username or
client name carrying `%00` makes the driver refuse the statement with a DataError. That is bad
input, not a server fault: JSON `invalid_request` on protocol endpoints (RFC 6749 §5.2),
a friendly page for people. The statement never ran, so nothing is half-written.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError

from shared.web import render_error

_PROTOCOL_PREFIXES = ("/api/", "/oauth/", "/.well-known/")


async def unstorable_input(request: Request, _exc: Exception) -> Response:
    path = request.url.path
    if path.startswith(_PROTOCOL_PREFIXES) and not path.startswith("/oauth/authorize"):
        return JSONResponse(
            {
                "error": "invalid_request",
                "error_description": "The request contains characters that cannot be stored.",
            },
            status_code=400,
        )
    return render_error(
        request,
        status_code=400,
        title="That request was not understood",
        message="It contains characters (such as a NUL byte) that cannot be accepted.",
    )


def install(app: FastAPI) -> None:
    """Answer DataError (more specific than the apps' catch-all handler) with a 400."""
    app.add_exception_handler(DataError, unstorable_input)
