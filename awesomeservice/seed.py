"""Demo data: John's AwesomeService account (his Mockgram account is a different one)."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from awesomeservice.models import User
from awesomeservice.settings import AwesomeServiceSettings
from shared.hashing import hash_password

DEMO_USERNAME = "john"
DEMO_NAME = "John Appleseed"


def seed_demo_data(engine: Engine, settings: AwesomeServiceSettings) -> None:
    """Create the account `john` with settings.demo_password, once (idempotent)."""
    with Session(engine) as session:
        if session.exec(select(User).where(User.username == DEMO_USERNAME)).first():
            return
        session.add(
            User(
                username=DEMO_USERNAME,
                name=DEMO_NAME,
                password_hash=hash_password(settings.demo_password),
            )
        )
        try:
            session.commit()
        except IntegrityError:
            # Another worker seeded it at the same moment.
            session.rollback()
