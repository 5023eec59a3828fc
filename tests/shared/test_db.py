"""The atomic claim and the persisted generated secret."""

import stat
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import registry
from sqlmodel import Field, Session, SQLModel, col, select

from shared.clock import as_utc, utcnow
from shared.db import (
    OutdatedDatabase,
    create_schema,
    delete_older_than,
    keep_newest,
    load_or_create_secret,
    make_engine,
    stamp_unset,
)


class _Table(SQLModel, registry=registry()):
    pass


class Ticket(_Table, table=True):
    id: int = Field(primary_key=True)
    used_at: datetime | None = None


class Secret(_Table, table=True):
    name: str = Field(primary_key=True)
    value: str


class Leftover(_Table, table=True):
    id: int | None = Field(default=None, primary_key=True)
    expires_at: datetime


def test_stamp_unset_claims_each_row_once() -> None:
    engine = make_engine("sqlite://")
    create_schema(engine, _Table.metadata)
    with Session(engine) as session:
        session.add_all([Ticket(id=1), Ticket(id=2)])
        session.commit()
        assert stamp_unset(session, col(Ticket.used_at), col(Ticket.id) == 1) == 1
        assert stamp_unset(session, col(Ticket.used_at), col(Ticket.id) == 1) == 0
        session.commit()
        assert session.get(Ticket, 1).used_at is not None  # type: ignore[union-attr]
        assert session.get(Ticket, 2).used_at is None  # type: ignore[union-attr]


def test_generated_secret_is_created_once_and_then_read_back() -> None:
    engine = make_engine("sqlite://")
    create_schema(engine, _Table.metadata)
    first = load_or_create_secret(engine, Secret, "session-key")
    assert len(first) >= 43
    assert load_or_create_secret(engine, Secret, "session-key") == first


def test_a_database_from_an_older_version_is_named_with_its_missing_columns(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    with engine.begin() as connection:  # Ticket as an older version made it: no used_at yet
        connection.execute(text("CREATE TABLE ticket (id INTEGER PRIMARY KEY)"))
    with pytest.raises(OutdatedDatabase) as refused:
        create_schema(engine, _Table.metadata)
    assert refused.value.missing == ["ticket.used_at"]
    assert "old.db" in str(refused.value) and "Delete that database file" in str(refused.value)
    engine.dispose()


def test_delete_older_than_drops_only_the_old_rows() -> None:
    engine = make_engine("sqlite://")
    create_schema(engine, _Table.metadata)
    now = utcnow()
    with Session(engine) as session:
        session.add(Leftover(expires_at=now - timedelta(days=2)))
        session.add(Leftover(expires_at=now - timedelta(hours=1)))
        session.add(Leftover(expires_at=now + timedelta(minutes=5)))
        session.commit()
        delete_older_than(session, Leftover, Leftover.expires_at, timedelta(days=1))
        session.commit()
        kept = session.exec(select(Leftover)).all()
    assert len(kept) == 2
    assert all(as_utc(row.expires_at) > now - timedelta(days=1) for row in kept)


def test_only_the_call_that_creates_a_secret_is_told_it() -> None:
    engine = make_engine("sqlite://")
    create_schema(engine, _Table.metadata)
    told: list[str] = []
    first = load_or_create_secret(engine, Secret, "client", on_create=told.append)
    again = load_or_create_secret(engine, Secret, "client", on_create=told.append)
    assert told == [first] and again == first


def test_a_sqlite_file_is_readable_by_its_owner_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # It holds generated secrets, signing keys and password hashes.
    fresh = tmp_path / "new" / "app.db"
    engine = make_engine(f"sqlite:///{fresh}")
    create_schema(engine, _Table.metadata)
    load_or_create_secret(engine, Secret, "session-key")
    engine.dispose()
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    assert stat.S_IMODE(fresh.parent.stat().st_mode) == 0o700
    # A file an earlier version left readable by everyone is narrowed at the next start.
    old = tmp_path / "old.db"
    old.touch(mode=0o644)
    old.chmod(0o644)
    make_engine(f"sqlite:///{old}").dispose()
    assert stat.S_IMODE(old.stat().st_mode) == 0o600


def test_keep_newest_drops_all_but_the_newest_rows() -> None:
    engine = make_engine("sqlite://")
    create_schema(engine, _Table.metadata)
    now = utcnow()
    with Session(engine) as session:
        for minutes in range(10):
            session.add(Leftover(expires_at=now + timedelta(minutes=minutes)))
        session.commit()
        keep_newest(session, Leftover, Leftover.expires_at, 3)
        session.commit()
        kept = sorted(as_utc(row.expires_at) for row in session.exec(select(Leftover)).all())
        assert kept == [now + timedelta(minutes=m) for m in (7, 8, 9)]
        keep_newest(session, Leftover, Leftover.expires_at, 5)  # fewer than the limit: all stay
        session.commit()
        assert len(session.exec(select(Leftover)).all()) == 3


def test_a_sqlite_file_is_in_wal_mode_and_waits_for_the_write_lock(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        # Writers queue for the lock instead of failing with "database is locked".
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 30_000
    engine.dispose()


def test_concurrent_writers_on_a_sqlite_file_never_see_database_is_locked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    create_schema(engine, _Table.metadata)
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            start.wait(timeout=30)
            for _ in range(25):
                with Session(engine) as session:
                    session.add(Leftover(expires_at=utcnow()))
                    session.commit()
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    with Session(engine) as session:
        assert len(session.exec(select(Leftover)).all()) == 200
    engine.dispose()
