"""The control plane's tables: what a test queued, and the clock every worker reads.

In the database, like everything that must outlive a request, so every worker and replica of
one Mockgram agrees: a fault queued through one worker fires once, on whichever worker serves
the next matching request (consumed by an atomic UPDATE, shared.db.stamp_unset).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column
from sqlmodel import Field

from mockgram.models import MockgramTable
from shared.clock import utcnow

STATE_ID = 1  # the one row of ControlState


class ControlState(MockgramTable, table=True):
    """The clock's offset and the signing keys' version, read before each request."""

    id: int = Field(default=STATE_ID, primary_key=True)
    # Milliseconds (up to a century either way: wider than PostgreSQL's INTEGER).
    clock_offset_ms: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    # Bumped by a key rotation: a worker whose keys are older reloads them.
    keys_version: int = 0


class QueuedFault(MockgramTable, table=True):
    """One fault for the next matching request; `used_at` is stamped when it fires."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32, index=True)
    endpoint: str | None = Field(default=None, max_length=16)  # for "slow": jwks or token
    error: str | None = Field(default=None, max_length=64)  # for "token_error"
    error_description: str | None = Field(default=None, max_length=200)
    delay_ms: int | None = None  # for "slow"
    created_at: datetime = Field(default_factory=utcnow)
    used_at: datetime | None = None


class QueuedLogin(MockgramTable, table=True):
    """Who the next non-interactive sign-in is, with the claims to give them first."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64)
    claims: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    used_at: datetime | None = None
