"""The atomic claim and the persisted generated secret."""

from datetime import datetime

from sqlalchemy.orm import registry
from sqlmodel import Field, Session, SQLModel, col

from shared.db import create_schema, load_or_create_secret, make_engine, stamp_unset


class _Table(SQLModel, registry=registry()):
    pass


class Ticket(_Table, table=True):
    id: int = Field(primary_key=True)
    used_at: datetime | None = None


class Secret(_Table, table=True):
    name: str = Field(primary_key=True)
    value: str


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
