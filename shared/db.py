"""Engine and session helpers: SQLite by default, any SQLAlchemy URL (PostgreSQL) by setting."""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import anyio
import anyio.to_thread
from sqlalchemy import ColumnElement, MetaData, Table, delete, event, func, inspect, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from shared.clock import utcnow

P = ParamSpec("P")
T = TypeVar("T")

# Threads that may run database work at once in one process (anyio's limiter for the thread
# pool that runs synchronous endpoints and `Database.run`). Each holds at most one connection
# of its own, and a request may briefly hold a second (a helper's own session): the pool has
# room for both, so no thread ever waits on a connection that only a waiting thread can free.
DATABASE_THREADS = 16
POOL_SIZE = DATABASE_THREADS
POOL_OVERFLOW = DATABASE_THREADS


def make_engine(url: str) -> Engine:
    """Create an engine; for SQLite, make the folder and allow use from several threads."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1] if "///" in url else ""
        in_memory = path in ("", ":memory:") or "mode=memory" in url
        if not in_memory:
            _owner_only_file(Path(path.split("?", 1)[0]))
        pool: dict[str, Any] = (
            {"poolclass": StaticPool}
            if in_memory
            else {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW}
        )
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **pool
        )
        _sqlite_pragmas(engine, wal=not in_memory)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)


def _owner_only_file(path: Path) -> None:
    """Create the SQLite file readable by its owner alone (0600), or narrow an existing one.

    It holds the generated secrets, signing keys and password hashes; SQLite gives its -wal and
    -shm files the same permissions as the database file.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)


class DatabaseOnEventLoop(RuntimeError):
    """A database call was made on the event loop's own thread.

    A synchronous driver blocks the loop for the whole round trip, and while it waits for a
    pooled connection that another request holds across an outbound HTTP call, nothing runs:
    the other request can never finish, and the app hangs. So such a call is a bug, refused
    loudly: synchronous endpoints run in the thread pool, async ones go through `Database.run`.
    """


def forbid_on_event_loop(engine: Engine) -> None:
    """From now on, refuse any statement `engine` would run on a thread with a running loop.

    Each app calls this when its start-up work (schema, seed, keys) is done; tests then fail
    on any endpoint that does database work on the event loop.
    """

    @event.listens_for(engine, "before_cursor_execute")
    def _refuse(*_args: Any) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # a worker thread (or no loop at all): fine
        raise DatabaseOnEventLoop(
            "database work on the event loop: run it in a synchronous endpoint or through "
            "Database.run, never directly inside `async def`"
        )


def use_database_threads(limit: int = DATABASE_THREADS) -> None:
    """Size anyio's default thread limiter (running loop's) to what the pool can serve."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = limit


class Database:
    """Run synchronous database work from async code: in a worker thread, in a session of its
    own that is committed and closed before the coroutine goes on.

    So no connection is ever held across an `await` of an outbound HTTP call, and the event
    loop never waits for the database. Objects come back detached with their columns loaded
    (`expire_on_commit=False`): read them freely, change them only inside another `run`.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def run(
        self, work: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`work(session, *args, **kwargs)` in a thread; committed when it returns."""
        return await anyio.to_thread.run_sync(
            functools.partial(self.run_sync, work, *args, **kwargs)
        )

    def run_sync(
        self, work: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """The same, on the calling thread (for code already running in a worker thread)."""
        with Session(self.engine, expire_on_commit=False) as session:
            result = work(session, *args, **kwargs)
            session.commit()
            return result


def _sqlite_pragmas(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if wal:
            # Several workers share one file: WAL lets readers and one writer work at once.
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


# Any fixed number: the PostgreSQL advisory lock all app processes take to create tables.
SCHEMA_LOCK = 5_201_420_260


def create_schema(engine: Engine, metadata: MetaData) -> None:
    """Create every table of one app's metadata (idempotent, and safe for replicas starting
    together: one process creates the tables while the others wait, then see them; two
    concurrent CREATE TABLEs of one name would otherwise fail, "already exists")."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(SCHEMA_LOCK)))
        elif connection.dialect.name == "sqlite":
            # SQLite's write lock, taken before create_all looks for the tables; the driver
            # would begin no transaction for DDL. Others wait (the busy timeout), then see them.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        # One look at which tables exist (not one query per table): only the absent ones are
        # created, and only the ones that were there already can lack a column.
        existing = set(inspect(connection).get_table_names())
        tables = metadata.sorted_tables
        absent = [table for table in tables if table.name not in existing]
        metadata.create_all(connection, tables=absent, checkfirst=False)
        present = [table for table in tables if table.name in existing]
        missing = missing_columns(connection, metadata, present) if present else []
    if missing:
        raise OutdatedDatabase(engine.url.render_as_string(hide_password=True), missing)


class OutdatedDatabase(RuntimeError):
    """The database was made by an older version: tables exist but lack today's columns.

    create_all never alters a table, so without this check the app would start and then fail
    on its first query; saying so at start, with the fix, is kinder.
    """

    def __init__(self, url: str, missing: list[str]) -> None:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        super().__init__(
            f"The database {url} was created by an older version of this app and lacks the "
            f"columns {shown}. Delete that database file (the demo data is seeded again on "
            "start) or point the app's DATABASE_URL setting at a new database."
        )
        self.missing = missing


def missing_columns(
    connection: Any, metadata: MetaData, tables: list[Table] | None = None
) -> list[str]:
    """`table.column` for each column the metadata (or `tables` of it) has and the database
    lacks; the columns of all tables are read in one query."""
    tables = metadata.sorted_tables if tables is None else tables
    found = inspect(connection).get_multi_columns(filter_names=[table.name for table in tables])
    missing: list[str] = []
    for table in tables:
        present = {column["name"] for column in found.get((None, table.name), [])}
        missing += [f"{table.name}.{c.name}" for c in table.columns if c.name not in present]
    return missing


# Closing a request's session returns its connection; a limiter of its own, so a close never
# waits behind the threads that are themselves waiting for a connection (FastAPI gives the
# exits of its dependencies a limiter of their own for the same reason).
_CLOSING = anyio.CapacityLimiter(DATABASE_THREADS)


async def request_session(engine: Engine) -> AsyncIterator[Session]:
    """Yield a request's session, bound to `engine`; each app's session dependency.

    Opening a session touches no database, so it happens on the event loop rather than costing
    a trip to the thread pool; the synchronous endpoint that uses it runs in a worker thread.
    Closing gives back a connection only when a transaction is still open (an endpoint that
    committed holds none): then it is done in a worker thread, otherwise at once.
    """
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():
            await anyio.to_thread.run_sync(session.close, limiter=_CLOSING)
        else:
            session.close()


def load_or_create_secret(
    engine: Engine,
    model: type[SQLModel],
    name: str,
    *,
    on_create: Callable[[str], None] | None = None,
) -> str:
    """A generated secret kept in the app's database, so every worker and restart agrees on it.

    `model` is the app's table with columns `name` (primary key) and `value`; of two workers
    racing to create it, the primary key lets exactly one insert win and both read that one.
    `on_create` is told the value by the one call that created it (to show it once).
    """
    with Session(engine) as session:
        row = session.get(model, name)
        if row is None:
            value = secrets.token_urlsafe(32)
            session.add(model(name=name, value=value))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
            else:
                if on_create is not None:
                    on_create(value)
            row = session.get(model, name)
        if row is None:  # pragma: no cover - the insert above or a concurrent one succeeded
            raise RuntimeError(f"could not create the shared secret {name!r}")
        return str(row.value)  # type: ignore[attr-defined]


# Expired pending requests are kept this long, so a late answer is told "expired", then go.
KEEP_EXPIRED = timedelta(days=1)


def delete_older_than(session: Session, model: type[SQLModel], column: Any, age: timedelta) -> None:
    """Drop the rows of `model` whose time `column` is more than `age` ago (not committed).

    What requests leave behind (pending requests, recorded flows) would otherwise pile up for
    ever, a stranger's requests included; each insert of such a row first sweeps the old ones.
    """
    session.exec(delete(model).where(column < utcnow() - age))  # type: ignore[call-overload]


def keep_newest(session: Session, model: type[SQLModel], column: Any, limit: int) -> None:
    """Drop all but the `limit` newest rows of `model` by `column` (not committed).

    An hour's retention alone does not bound a record of refusals: a flood of bad requests
    writes as many rows as it sends. With this, the table never holds much more than `limit`.
    """
    cutoff = select(column).order_by(column.desc()).offset(limit).limit(1).scalar_subquery()
    session.exec(delete(model).where(column <= cutoff))  # type: ignore[call-overload]


def stamp_unset(
    session: Session, column: Any, *where: ColumnElement[bool], at: datetime | None = None
) -> int:
    """UPDATE … SET column = now WHERE … AND column IS NULL; returns how many rows changed.

    The atomic claim behind every "only once": one statement, so of racing callers exactly
    one sees the column still empty (never read-then-write). The caller commits.
    """
    statement = (
        update(column.class_)
        .where(*where, column.is_(None))
        .values({column.key: at or utcnow()})
        .execution_options(synchronize_session=False)
    )
    return session.exec(statement).rowcount  # type: ignore[attr-defined]
