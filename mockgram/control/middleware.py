"""Around every request while the control plane is on: the shared clock, fresh keys after a
rotation, and a queued `slow` fault (what reached Mockgram is the request capture's, capture.py).

One trip to a worker thread before the request reads the control state (and claims a `slow`
fault for the JWKS or the token endpoint); the wait itself is `asyncio.sleep`, so a slow answer
never holds up the event loop or anyone else's request. None of this is installed when the
control plane is off.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import anyio.to_thread
from sqlmodel import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from mockgram import keys as signing_keys
from mockgram.control.faults import SLOW, take_queued
from mockgram.control.models import STATE_ID, ControlState
from shared.clock import skewed
from shared.db import Database
from shared.oauth_spec import JWKS_PATH

SLOW_PATHS = {JWKS_PATH: "jwks", "/oauth/token": "token"}


@dataclass(frozen=True)
class Before:
    """What the database says about the request about to run."""

    clock_offset_ms: int
    keys_version: int
    delay_ms: int


def read_before(session: Session, path: str) -> Before:
    """The control state, and the `slow` fault this request claims (if any)."""
    state = session.get(ControlState, STATE_ID) or ControlState()
    delay = 0
    endpoint = SLOW_PATHS.get(path)
    if endpoint is not None:
        fault = take_queued(session, SLOW, endpoint)
        delay = fault.delay_ms or 0 if fault is not None else 0
    return Before(state.clock_offset_ms, state.keys_version, delay)


class ControlMiddleware:
    """Pure ASGI, so the clock's context variable reaches the endpoint and its threads."""

    def __init__(self, app: ASGIApp, *, database: Database, state: object) -> None:
        self.app = app
        self.database = database
        self.app_state = state  # the FastAPI app's state: keys are swapped there

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        before = await self.database.run(read_before, path)
        await self._keys_at(before.keys_version)
        if before.delay_ms:
            await asyncio.sleep(before.delay_ms / 1000)
        with skewed(timedelta(milliseconds=before.clock_offset_ms)):
            await self.app(scope, receive, send)

    async def _keys_at(self, version: int) -> None:
        """After a rotation through any worker, this one loads the keys from the database."""
        if getattr(self.app_state, "keys_version", 0) != version:
            engine = self.database.engine
            pinned = signing_keys.pinned_key(self.app_state.settings)
            self.app_state.keys = await anyio.to_thread.run_sync(
                signing_keys.load_or_create, engine, pinned
            )
            self.app_state.keys_version = version
