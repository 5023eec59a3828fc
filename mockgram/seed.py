"""Placeholder: demo data seeding."""

from sqlalchemy.engine import Engine

from mockgram.settings import MockgramSettings


def seed_demo_data(engine: Engine, settings: MockgramSettings) -> None:
    """Seed John, Jane, their photos and the AwesomeService client (idempotent)."""
