"""Server-side sessions: the cookie carries only a random id; the data lives in the app's database.

A signed cookie holding the data cannot be taken back: a copy keeps working after sign-out until
it expires. Here the cookie is a 256-bit random id (OWASP Session Management Cheat Sheet,
"Session ID Entropy"), HttpOnly, SameSite=Lax and Secure over https (RFC 6265 §4.1.2.5–6); the
row it names is the session, so ending it ends every copy at once, on every replica:

- sign-out deletes this browser's row; "sign out everywhere" deletes all of a user's rows;
- a session ends after `idle` without a request and `absolute` after it began (OWASP: idle and
  absolute timeouts), whatever the browser does;
- `renew_session` gives the browser a new id at sign-in and sign-out (session fixation);
- expired rows are swept while new sessions are stored (at most once per `SWEEP_EVERY`).

`request.session` stays a plain dict (CSRF token, flash messages, tour choice, pending requests
all live in it as before). Database work runs in a worker thread, never on the event loop: a
request with a session cookie costs one read; a write only when the data changed, or at most
once per `TOUCH_EVERY` to keep an idle session alive (so the idle timeout is exact to that).
The table's key is an HMAC of the id with the app's secret: the database alone does not hold
ids a stolen copy of it could replay, and a new secret ends every session.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import clock
from shared.db import load_or_create_secret

# A request no later than this after the last recorded one does not move `last_seen_at`.
TOUCH_EVERY = timedelta(seconds=60)
SWEEP_EVERY = timedelta(minutes=5)
_STATE = "server_session"  # the scope key of this request's SessionState
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


class SessionFields(SQLModel):
    """The columns of an app's session table; each app declares its own table with them."""

    id: str = Field(primary_key=True, max_length=64)  # HMAC-SHA256 of the cookie's id
    user_id: int | None = Field(default=None, index=True)  # for "sign out everywhere"
    data: str = ""  # the session dict as JSON
    created_at: datetime = Field(default_factory=clock.utcnow, index=True)
    last_seen_at: datetime = Field(default_factory=clock.utcnow, index=True)


@dataclass
class SessionState:
    """This request's session: the browser's id (if it named a live session) and what it held."""

    session_id: str | None = None
    loaded: dict[str, Any] = field(default_factory=dict)
    last_seen_at: datetime | None = None
    renew: bool = False


class SessionStore:
    """One app's session table. Synchronous: the middleware calls it from a worker thread."""

    def __init__(
        self,
        engine: Engine,
        model: type[SessionFields],
        *,
        secret: str,
        idle: timedelta,
        absolute: timedelta,
        user_key: str = "user_id",
    ) -> None:
        self.engine = engine
        self.table = model.__table__  # type: ignore[attr-defined]
        self.model = model
        self.secret = secret.encode("utf-8")
        self.idle = idle
        self.absolute = absolute
        self.user_key = user_key
        self._last_sweep: datetime | None = None

    @classmethod
    def for_app(
        cls, engine: Engine, model: type[SessionFields], settings: Any, secrets_model: Any
    ) -> SessionStore:
        """The store an app's settings describe: its secret key (or one generated and kept in
        `secrets_model`, so every worker agrees) and its idle and absolute timeouts."""
        secret = settings.secret_key or load_or_create_secret(engine, secrets_model, "session-key")
        return cls(
            engine,
            model,
            secret=secret,
            idle=timedelta(seconds=settings.session_idle_seconds),
            absolute=timedelta(seconds=settings.session_absolute_seconds),
        )

    def key(self, session_id: str) -> str:
        """The row's key for a cookie's id."""
        return hmac.new(self.secret, session_id.encode("ascii"), hashlib.sha256).hexdigest()

    def expired(self, created_at: datetime, last_seen_at: datetime, now: datetime) -> bool:
        """True when the idle or the absolute timeout has passed."""
        return (
            clock.as_utc(last_seen_at) <= now - self.idle
            or clock.as_utc(created_at) <= now - self.absolute
        )

    def load(self, session_id: str) -> tuple[dict[str, Any], datetime] | None:
        """The live session's data and last-seen time; an expired one is deleted, None."""
        now = clock.utcnow()
        t = self.table
        with self.engine.connect() as connection:
            row = connection.execute(
                select(t.c.data, t.c.created_at, t.c.last_seen_at).where(
                    t.c.id == self.key(session_id)
                )
            ).first()
            if row is None:
                return None
            if self.expired(row.created_at, row.last_seen_at, now):
                connection.execute(delete(t).where(t.c.id == self.key(session_id)))
                connection.commit()
                return None
        return json.loads(row.data or "{}"), clock.as_utc(row.last_seen_at)

    def create(self, data: dict[str, Any]) -> str:
        """Store a new session; returns the id for the cookie. Sweeps expired ones now and then."""
        session_id = secrets.token_urlsafe(32)
        now = clock.utcnow()
        with self.engine.begin() as connection:
            if self._last_sweep is None or now - self._last_sweep >= SWEEP_EVERY:
                self._last_sweep = now
                connection.execute(self._expired_rows(now))
            connection.execute(
                insert(self.table).values(
                    id=self.key(session_id),
                    user_id=self._user_id(data),
                    data=json.dumps(data),
                    created_at=now,
                    last_seen_at=now,
                )
            )
        return session_id

    def save(self, session_id: str, data: dict[str, Any] | None) -> bool:
        """Write changed data (None: only mark it seen); False when the session has ended since."""
        values: dict[str, Any] = {"last_seen_at": clock.utcnow()}
        if data is not None:
            values |= {"data": json.dumps(data), "user_id": self._user_id(data)}
        with self.engine.begin() as connection:
            # An UPDATE only: a session ended meanwhile (sign-out elsewhere) is never re-created.
            changed = connection.execute(
                update(self.table).where(self.table.c.id == self.key(session_id)).values(values)
            ).rowcount
        return bool(changed)

    def delete(self, session_id: str) -> None:
        """End one session (sign-out, or the old id of a renewed one)."""
        with self.engine.begin() as connection:
            connection.execute(delete(self.table).where(self.table.c.id == self.key(session_id)))

    def end_user_sessions(self, db: Session, user_id: int) -> None:
        """End every session of `user_id`, on every browser (not committed: the caller commits)."""
        db.exec(delete(self.model).where(col(self.model.user_id) == user_id))  # type: ignore[call-overload]

    def sweep(self) -> None:
        """Delete every expired session."""
        with self.engine.begin() as connection:
            connection.execute(self._expired_rows(clock.utcnow()))

    def peek(self, session_id: str) -> dict[str, Any] | None:
        """A live session's data (for tests and tools; does not count as activity)."""
        loaded = self.load(session_id)
        return loaded[0] if loaded else None

    def _expired_rows(self, now: datetime) -> Any:
        t = self.table
        return delete(t).where(
            or_(t.c.last_seen_at <= now - self.idle, t.c.created_at <= now - self.absolute)
        )

    def _user_id(self, data: dict[str, Any]) -> int | None:
        user_id = data.get(self.user_key)
        return user_id if isinstance(user_id, int) else None


def renew_session(connection: HTTPConnection) -> None:
    """Give this browser a new session id at the end of the request; the old one ends.

    Called at sign-in (OWASP: renew the session id after any privilege level change, so an id
    planted before sign-in is worthless after it) and at sign-out. The data is kept: the caller
    clears what must not survive.
    """
    state = connection.scope.get(_STATE)
    if isinstance(state, SessionState):
        state.renew = True


class ServerSessionMiddleware:
    """Starlette's SessionMiddleware, with the data on the server (pure ASGI).

    `skip_prefixes` (static files) get an empty session and never touch the database.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: SessionStore,
        cookie_name: str,
        secure: bool,
        skip_prefixes: tuple[str, ...] = ("/static/",),
    ) -> None:
        self.app = app
        self.store = store
        self.cookie_name = cookie_name
        self.skip_prefixes = skip_prefixes
        flags = "; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
        self.max_age = int(store.absolute.total_seconds())
        self.flags = flags

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(self.skip_prefixes):
            scope["session"] = {}
            await self.app(scope, receive, send)
            return

        state = SessionState()
        sent = HTTPConnection(scope).cookies.get(self.cookie_name)
        if sent is not None and _SESSION_ID.match(sent):
            loaded = await anyio.to_thread.run_sync(self.store.load, sent)
            if loaded is not None:
                state.session_id = sent
                state.loaded, state.last_seen_at = loaded
        scope[_STATE] = state
        scope["session"] = json.loads(json.dumps(state.loaded))  # a copy, compared at the end

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and self._has_work(scope["session"], state):
                cookie = await anyio.to_thread.run_sync(self._commit, scope["session"], state)
                if cookie is not None:
                    MutableHeaders(scope=message).append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _has_work(self, data: dict[str, Any], state: SessionState) -> bool:
        """Whether the database must hear of this request (most requests: no thread, no write)."""
        if state.session_id is None:
            return bool(data)
        return state.renew or not data or data != state.loaded or self._due_for_touch(state)

    def _due_for_touch(self, state: SessionState) -> bool:
        return state.last_seen_at is None or clock.utcnow() - state.last_seen_at >= TOUCH_EVERY

    def _commit(self, data: dict[str, Any], state: SessionState) -> str | None:
        """Store what the request did to its session; returns a Set-Cookie value, if any."""
        ended = False
        if state.renew and state.session_id is not None:
            self.store.delete(state.session_id)
            state.session_id, ended = None, True
        if not data:
            if state.session_id is not None:
                self.store.delete(state.session_id)  # sign-out: the row goes, so every copy
                ended = True
            # Only a session this request ended is cleared from the browser. An unknown or
            # expired id is left alone (it costs one read): a late answer to a request that
            # still carried it must not clear the new cookie a concurrent sign-in just set.
            return self._expired_cookie() if ended else None
        if state.session_id is None:
            return self._cookie(self.store.create(data))
        if data != state.loaded:
            self.store.save(state.session_id, data)
        elif self._due_for_touch(state):
            self.store.save(state.session_id, None)
        return None

    def _cookie(self, session_id: str) -> str:
        return f"{self.cookie_name}={session_id}; Path=/; Max-Age={self.max_age}{self.flags}"

    def _expired_cookie(self) -> str:
        return (
            f"{self.cookie_name}=; Path=/; Max-Age=0; "
            f"Expires=Thu, 01 Jan 1970 00:00:00 GMT{self.flags}"
        )


def install_sessions(app: Any, *, store: SessionStore, cookie_name: str, public_url: str) -> None:
    """Add the middleware; the cookie is Secure when the app's public URL is https."""
    app.state.sessions = store
    app.add_middleware(
        ServerSessionMiddleware,
        store=store,
        cookie_name=cookie_name,
        secure=public_url.startswith("https://"),
    )
