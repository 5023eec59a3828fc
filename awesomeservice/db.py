"""AwesomeService's database: the engine lives on the app, the session is a request dependency."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from awesomeservice import models  # noqa: F401  (registers the tables)
from shared.db import Database, request_session


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request, on the engine `create_app` built (see shared.db)."""
    async for session in request_session(request.app.state.engine):
        yield session


def get_database(request: Request) -> Database:
    """Database work for async endpoints: each `run` in a worker thread, its own session."""
    return request.app.state.database


SessionDep = Annotated[Session, Depends(get_session)]
DatabaseDep = Annotated[Database, Depends(get_database)]
