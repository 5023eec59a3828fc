"""The control plane's view of request capture: list, clear, and a client's report card.

Not mounted by create_app: the control plane mounts `control_router(auth)` with its own guard,
so these routes are exactly as protected as the rest of it. Plain `def` routes: FastAPI runs
them in the thread pool, off the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response

from mockgram import capture
from mockgram.db import SessionDep
from mockgram.report_card import UnknownClient, report_card


def control_router(auth: Callable[..., Any] | None = None) -> APIRouter:
    """GET/DELETE /_control/requests and GET /_control/clients/{client_id}/report, each behind
    the dependency `auth` (None: unguarded, for tests only)."""
    router = APIRouter(
        prefix="/_control", dependencies=[Depends(auth)] if auth else [], include_in_schema=False
    )

    @router.get("/requests")
    def list_requests(
        session: SessionDep, client_id: str | None = None, limit: int = 200
    ) -> JSONResponse:
        """The captured requests, newest first; one client's with ?client_id=."""
        found = capture.recent(session, client_id=client_id or None, limit=limit)
        return JSONResponse({"requests": found}, headers={"Cache-Control": "no-store"})

    @router.delete("/requests")
    def clear_requests(session: SessionDep) -> JSONResponse:
        """Forget every captured request: the next test run starts clean."""
        return JSONResponse({"cleared": capture.clear(session)})

    @router.get("/clients/{client_id}/report")
    def client_report(client_id: str, session: SessionDep) -> Response:
        """One client's report card as JSON; 404 for a client nobody registered."""
        try:
            card = report_card(session, client_id)
        except UnknownClient:
            return JSONResponse(
                {"error": "not_found", "error_description": "No client with that client_id."},
                status_code=404,
            )
        return JSONResponse(card, headers={"Cache-Control": "no-store"})

    return router
