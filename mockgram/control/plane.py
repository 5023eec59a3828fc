"""Switching the control plane on: its routes, its fault source and its middleware.

Only when MOCKGRAM_CONTROL_SECRET is set (and MOCKGRAM_CONTROL is not false). Otherwise nothing
is installed: /_control/ answers 404 and no request looks at the control tables.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from mockgram.capture_routes import control_router
from mockgram.control import router
from mockgram.control.faults import take_queued
from mockgram.control.middleware import ControlMiddleware
from mockgram.control.models import STATE_ID, ControlState


def install(app: FastAPI) -> None:
    """Mount /_control/ and let queued faults and the shared clock reach requests."""
    if not app.state.settings.control_enabled:
        return
    engine = app.state.engine
    with Session(engine) as session:
        state = session.get(ControlState, STATE_ID)
        if state is None:
            session.add(ControlState())
            try:
                session.commit()
            except IntegrityError:  # another worker made it first
                session.rollback()
            state = session.get(ControlState, STATE_ID) or ControlState()
        app.state.keys_version = state.keys_version
    app.include_router(router.router)
    # What reached Mockgram and each client's report card: the request capture's own routes.
    app.include_router(control_router(router.require_control_secret))

    async def unauthorized(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, router.Unauthorized)
        return exc.answer()

    app.add_exception_handler(router.Unauthorized, unauthorized)
    app.state.faults.use(take_queued)
    app.add_middleware(ControlMiddleware, database=app.state.database, state=app.state)
