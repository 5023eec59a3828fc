"""Mockgram's database: the engine lives on the app, the session is a request dependency."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from mockgram import models  # noqa: F401  (registers the tables)
from shared.db import session_scope


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, on the engine `create_app` built."""
    yield from session_scope(request.app.state.engine)


SessionDep = Annotated[Session, Depends(get_session)]
