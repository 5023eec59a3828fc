"""AwesomeService's tables: its own accounts, the Mockgram connection, pending requests, orders.

Tokens live here and only here: never in the browser, never in a cookie (SECURITY.md, C7).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.clock import utcnow
from shared.login_throttle import FailedSignInFields, TrustedSignInAddressFields
from shared.sessions import SessionFields


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
    # Who the tokens are about (the id_token's sub, when one came): a refreshed id_token must
    # name the same user (SECURITY.md, C9).
    subject: str | None = Field(default=None, max_length=255)
    refreshed_at: datetime | None = None
    # Set while one request refreshes (RFC 6749 §6): a rotated refresh token works once only.
    refresh_claimed_at: datetime | None = None


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


class FlowEvent(AwesomeTable, table=True):
    """One recorded moment of a flow, for the flow inspector; secrets are redacted before saving.

    Keyed by the browser's inspector id (its own cookie), grouped into flows by `flow_no`.
    """

    id: int | None = Field(default=None, primary_key=True)
    inspector_id: str = Field(index=True, max_length=64)
    flow_no: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    step: int | None = None
    kind: str = Field(max_length=40)
    title: str = Field(max_length=200)
    rfc_label: str = Field(default="", max_length=120)
    rfc_url: str = Field(default="", max_length=300)
    actor_from: str = Field(max_length=20)
    actor_to: str = Field(max_length=20)
    method: str = Field(default="", max_length=10)
    url: str = ""
    status: int | None = None
    summary: str = ""
    details: str = "{}"
    duration_ms: float | None = None
    # Repeated alike calls folded into this row (a device's polls, RFC 8628 §3.4): how many.
    repeats: int = 1


class KioskSession(AwesomeTable, table=True):
    """One run of the print kiosk's device flow (RFC 8628), kept server side.

    The device_code is the kiosk's secret and never reaches the browser; the browser's session
    holds only this row's random id. Each poll's answer is appended to `answers` (for the page).
    """

    __tablename__ = "kiosk_session"

    id: str = Field(primary_key=True, max_length=64)
    device_code: str = Field(max_length=512)
    user_code: str = Field(max_length=32)
    verification_uri: str = Field(max_length=2000)
    verification_uri_complete: str = Field(default="", max_length=2000)
    interval: int = 5
    expires_at: datetime
    next_poll_at: datetime | None = None
    status: str = Field(default="pending", max_length=16)  # pending/approved/denied/expired/failed
    answers: str = ""  # one poll's answer a line, newest last
    polls: int = 0
    access_token: str | None = None
    scope: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class InspectorPrefs(AwesomeTable, table=True):
    """Per inspector id: whether step-through mode is on."""

    inspector_id: str = Field(primary_key=True, max_length=64)
    stepping: bool = False
    # The paused step, if any: what kind, where "Send" goes (fixed here, never from the form),
    # and the parameters as they were about to be sent (JSON; public values only).
    paused_kind: str = Field(default="", max_length=20)
    paused_target: str = ""
    paused_params: str = "[]"
    skip_next_pause: bool = False


class DebuggerRequest(AwesomeTable, table=True):
    """An authorization request composed in the OAuth debugger, kept until its answer arrives.

    Found again by the SHA-256 of its `state`; the optional client secret never leaves the server.
    """

    id: int | None = Field(default=None, primary_key=True)
    inspector_id: str = Field(index=True, max_length=64)
    state_hash: str = Field(index=True, max_length=64)
    state: str = ""
    issuer: str = ""
    authorization_endpoint: str
    token_endpoint: str = ""
    jwks_uri: str = ""
    client_id: str
    client_secret: str = ""
    redirect_uri: str
    scope: str = ""
    response_type: str
    response_mode: str = ""
    nonce: str = ""
    code_verifier: str = ""
    url: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    exchanged_at: datetime | None = None


class FederatedIdentity(AwesomeTable, table=True):
    """A login provider's account linked to an AwesomeService account ("Log in with Mockgram").

    Keyed by (issuer, sub) — OIDC Core §5.7: the only stable, unique identifier of a person at a
    provider. Never by email or username, which another account could claim.
    """

    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    issuer: str = Field(max_length=300)
    subject: str = Field(max_length=255)
    linked_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None


class PendingLogin(AwesomeTable, table=True):
    """One "Log in with Mockgram" request waiting for its callback: state, nonce and PKCE.

    Found by the SHA-256 of `state`; used once. `user_id` is set when a signed-in user links.
    """

    state_hash: str = Field(primary_key=True, max_length=64)
    browser_binding: str = Field(max_length=64)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    issuer: str = Field(max_length=300)
    nonce: str = Field(max_length=128)
    code_verifier: str = Field(max_length=128)
    redirect_uri: str
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class LoginRecord(AwesomeTable, table=True):
    """What the last logins received, decoded, for the "claims received" page (no raw tokens)."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    issuer: str = Field(max_length=300)
    id_token_header: str = "{}"
    id_token_claims: str = "{}"
    userinfo: str = "{}"
    outcome: str = Field(default="", max_length=20)  # "signed_in", "linked" or "created"
    created_at: datetime = Field(default_factory=utcnow)


class BrowserSession(SessionFields, AwesomeTable, table=True):
    """A browser's session with the print shop; the cookie holds only its random id."""

    __tablename__ = "browser_session"


class FailedSignIn(FailedSignInFields, AwesomeTable, table=True):
    """One wrong password at the print shop's sign-in (shared/login_throttle.py, SECURITY.md A6)."""


class TrustedSignInAddress(TrustedSignInAddressFields, AwesomeTable, table=True):
    """An address someone signed in to AwesomeService from (shared/login_throttle.py)."""

    __table_args__ = (UniqueConstraint("username_hash", "address_hash"),)


class ConsoleTokens(AwesomeTable, table=True):
    """Tokens the request console may use that the connection does not keep.

    `owner` is "user:<id>" (John's connection: only the refresh token the console's own refresh
    rotated away, kept so the reader can replay it) or "browser:<binding>" (tokens the OAuth
    debugger obtained in that browser session, with the client they were issued to). Server side
    only; the client secret is never stored here (settings hold the seeded clients' secrets).
    """

    owner: str = Field(primary_key=True, max_length=80)
    client_id: str = ""
    access_token: str = ""
    refresh_token: str = ""
    old_refresh_token: str = ""
    updated_at: datetime = Field(default_factory=utcnow)


class ResponseTypeRun(AwesomeTable, table=True):
    """What one response type's last run showed this browser (the "Which response type?" page):
    the answer's parameters as they came through the browser, and the token endpoint's answer.

    Values are shortened before they are kept (JSON lists of [name, shortened value])."""

    inspector_id: str = Field(primary_key=True, max_length=64)
    response_type: str = Field(primary_key=True, max_length=40)
    mode: str = Field(default="", max_length=20)
    front: str = "[]"
    back: str = "[]"
    updated_at: datetime = Field(default_factory=utcnow)
