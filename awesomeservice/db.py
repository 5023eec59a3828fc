"""AwesomeService's database: the engine lives on the app, the session is a request dependency."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from awesomeservice import models  # noqa: F401  (registers the tables)
from shared.db import Database, session_scope


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, on the engine `create_app` built."""
    yield from session_scope(request.app.state.engine)


def get_database(request: Request) -> Database:
    """Database work for async endpoints: each `run` in a worker thread, its own session."""
    return request.app.state.database


SessionDep = Annotated[Session, Depends(get_session)]
DatabaseDep = Annotated[Database, Depends(get_database)]
