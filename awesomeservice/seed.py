"""Demo data: John's AwesomeService account (his Mockgram account is a different one).

His password is settings.demo_password (the published demo one in demo mode). Outside demo mode,
when none is set, one is generated when the account is made, or when it still has the published
demo password (a database the demo made), and printed once (shared/demo.py).
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from awesomeservice.models import User
from awesomeservice.settings import AwesomeServiceSettings
from shared import demo
from shared.hashing import hash_password, verify_password

DEMO_USERNAME = "john"
DEMO_NAME = "John Appleseed"


def seed_demo_data(engine: Engine, settings: AwesomeServiceSettings) -> None:
    """Create the account `john` once (idempotent); outside demo mode never with a public one."""
    password = settings.demo_password or demo.new_password()
    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == DEMO_USERNAME)).first()
        if user is None:
            session.add(
                User(username=DEMO_USERNAME, name=DEMO_NAME, password_hash=hash_password(password))
            )
        elif settings.demo or not verify_password(user.password_hash, demo.AWESOMESERVICE_PASSWORD):
            return  # an existing account keeps its password
        else:
            user.password_hash = hash_password(password)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # another worker seeded it at the same moment
            return
    if not settings.demo_password:
        line = f"  Password of the AwesomeService account {DEMO_USERNAME}:  {password}"
        demo.announce("AwesomeService", [line])
