"""shared.db on PostgreSQL: timestamps survive a server far from UTC; the atomic claim."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import registry
from sqlmodel import Field, Session, SQLModel, col

from shared.clock import as_utc, utcnow
from shared.db import create_schema, make_engine, stamp_unset
from tests.postgres import Schemas


class _Table(SQLModel, registry=registry()):
    pass


class Stamp(_Table, table=True):
    id: int = Field(primary_key=True)
    at: datetime | None = None


@pytest.fixture
def pg_url(postgres_schemas: Schemas) -> Iterator[str]:
    with postgres_schemas.fresh("db") as url:
        yield url


def test_timestamps_read_back_as_written_even_on_a_server_far_from_utc(pg_url: str) -> None:
    url = make_url(pg_url)
    # A server (or role) whose time zone is not UTC: typed binds keep the stored UTC unshifted.
    options = url.query["options"] + " -ctimezone=Pacific/Kiritimati"
    engine = make_engine(url.update_query_dict({"options": options}).render_as_string(False))
    create_schema(engine, _Table.metadata)
    written = utcnow().replace(microsecond=0)
    with Session(engine) as session:
        session.add(Stamp(id=1, at=written))
        session.commit()
    with Session(engine) as session:
        row = session.get(Stamp, 1)
        assert row is not None and row.at is not None
        assert as_utc(row.at) == written
    engine.dispose()


def test_stamp_unset_claims_a_row_once_on_postgresql(pg_url: str) -> None:
    engine = make_engine(pg_url)
    create_schema(engine, _Table.metadata)
    with Session(engine) as session:
        session.add(Stamp(id=1))
        session.commit()
    with Session(engine) as first, Session(engine) as second:
        assert stamp_unset(first, col(Stamp.at), col(Stamp.id) == 1) == 1
        first.commit()
        assert stamp_unset(second, col(Stamp.at), col(Stamp.id) == 1) == 0
        second.commit()
    engine.dispose()
