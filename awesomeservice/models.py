"""AwesomeService's tables: its own accounts, the Mockgram connection, pending requests, orders.

Tokens live here and only here: never in the browser, never in a cookie (checklist C7).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.clock import utcnow


class AwesomeTable(SQLModel, registry=registry()):
    """Base of AwesomeService's tables: its own metadata, apart from Mockgram's."""


class User(AwesomeTable, table=True):
    """An AwesomeService account — separate from any Mockgram account."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=32)
    name: str = Field(max_length=120)
    password_hash: str
    created_at: datetime = Field(default_factory=utcnow)


class MockgramConnection(AwesomeTable, table=True):
    """The tokens Mockgram issued for one user (step 5's result); one connection per user."""

    __table_args__ = (UniqueConstraint("user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    access_token: str
    token_type: str = "Bearer"
    scope: str = ""
    expires_at: datetime | None = None
    refresh_token: str | None = None
    connected_at: datetime = Field(default_factory=utcnow)


class PendingAuthorization(AwesomeTable, table=True):
    """One authorization request sent in step 1, waiting for its callback in step 4.

    `state` is stored only as its SHA-256; the callback looks it up by hash and consumes it once.
    """

    state_hash: str = Field(primary_key=True, max_length=64)
    browser_binding: str = Field(max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True)
    code_verifier: str = Field(max_length=128)
    redirect_uri: str
    scope: str
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class PrintOrder(AwesomeTable, table=True):
    """A print order: where to ship it, what it costs; its photos are PrintOrderItem rows."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    shipping_name: str = Field(max_length=120)
    shipping_address: str = Field(max_length=500)
    status: str = "received"
    total_cents: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class PrintOrderItem(AwesomeTable, table=True):
    """One photo in an order; the caption is a snapshot, the image stays at Mockgram."""

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="printorder.id", index=True)
    photo_id: int
    caption: str = Field(max_length=500)
    size: str = Field(max_length=16)
    copies: int
    unit_price_cents: int

    @property
    def line_total_cents(self) -> int:
        return self.copies * self.unit_price_cents


class AppSecret(AwesomeTable, table=True):
    """Generated secrets every worker must share (the session-cookie key when none is set)."""

    name: str = Field(primary_key=True, max_length=64)
    value: str
