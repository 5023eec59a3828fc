"""Project-wide test settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from shared import hashing


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """argon2id with the smallest cost: the same code path, a fraction of the time."""
    monkeypatch.setattr(
        hashing, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    yield


@pytest.fixture
def mockgram_database_url() -> str:
    """Mockgram's database for one test (in-memory SQLite; PostgreSQL runs override it)."""
    return "sqlite://"


@pytest.fixture
def awesome_database_url() -> str:
    """AwesomeService's database for one test (its own, apart from Mockgram's)."""
    return "sqlite://"
