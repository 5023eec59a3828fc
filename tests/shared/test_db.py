"""The atomic claim and the persisted generated secret."""

import stat
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
