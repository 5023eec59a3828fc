"""`GET /healthz`: is this app up and can it reach its database? For health checks, not people.

Both apps include this router; docker compose's health checks (and `python -m shared.healthcheck`)
call it. It answers 200 `{"status": "ok"}` after one round trip to the app's own database, and
503 `{"status": "unavailable", ...}` when the database does not answer. Nothing else: no
versions, no settings, nothing a stranger could use.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

HEALTH_PATH = "/healthz"
log = logging.getLogger("shared.health")
router = APIRouter()


def database_answers(engine: Engine) -> bool:
    """One `SELECT 1` through the app's engine; False when the database cannot be reached."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.warning("health check: the database did not answer", exc_info=True)
        return False
    return True


@router.get(HEALTH_PATH, include_in_schema=False)
def healthz(request: Request) -> JSONResponse:
    """200 when the app and its database answer, 503 otherwise; never cached."""
    headers = {"Cache-Control": "no-store"}
    if database_answers(request.app.state.engine):
        return JSONResponse({"status": "ok"}, headers=headers)
    return JSONResponse(
        {"status": "unavailable", "reason": "database"}, status_code=503, headers=headers
    )
