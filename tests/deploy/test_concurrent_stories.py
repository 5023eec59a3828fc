"""Twenty people at once: whole stories against both apps as real servers, none may hang.

All twenty start together, on a SQLite file and on PostgreSQL (the story: tests/e2e/stories.py).
A synchronous database call on the event loop, or a session held across an outbound call,
makes such a crowd deadlock on the connection pool; here that fails within the deadline
instead of hanging the run. Every order must exist exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.stories import Servers, at_once, both_servers, one_story, orders_by_reader
from tests.postgres import Schemas

STORIES = 20
# Generous for twenty stories on two busy cores (each takes about a second alone), and far
# below forever: a deadlocked pool never finishes at all.
DEADLINE_SECONDS = 180
# This test is about hangs and lost orders; a back channel slower than the app's 5-s default on
# a busy machine would give someone the friendly 504 page (tests/deploy/test_faults.py).
PATIENT = {"AWESOMESERVICE_HTTP_TIMEOUT_SECONDS": "30"}


def run_crowd(servers: Servers) -> None:
    """Start every story at once; fail on any error, and on any story still running at the
    deadline (a hang), instead of waiting for ever."""
    crowd = at_once(STORIES, lambda i: one_story(servers, i), deadline_seconds=DEADLINE_SECONDS)
    assert not crowd.stuck, f"stories {crowd.stuck} still running after {DEADLINE_SECONDS} s"
    assert not crowd.errors, "\n".join(f"story {i}: {e!r}" for i, e in sorted(crowd.errors.items()))
    assert len(crowd.orders) == STORIES

    # Every order placed exists exactly once, with its one photo, for its own reader.
    rows = orders_by_reader(servers.awesome_database_url)
    assert sorted(order for order, _ in rows) == sorted(crowd.orders.values())
    assert dict(rows) == {order: f"reader-{index}" for index, order in crowd.orders.items()}


def test_twenty_whole_stories_at_once_on_sqlite_files(tmp_path: Path) -> None:
    with both_servers(
        tmp_path,
        f"sqlite:///{tmp_path / 'mockgram.db'}",
        f"sqlite:///{tmp_path / 'awesomeservice.db'}",
        awesome_env=PATIENT,
    ) as servers:
        run_crowd(servers)


@pytest.fixture
def pg_databases(postgres_schemas: Schemas) -> Iterator[tuple[str, str]]:
    with (
        postgres_schemas.fresh("crowd-mockgram") as mockgram,
        postgres_schemas.fresh("crowd-awesome") as awesome,
    ):
        yield mockgram, awesome


def test_twenty_whole_stories_at_once_on_postgresql(
    tmp_path: Path, pg_databases: tuple[str, str]
) -> None:
    mockgram_db, awesome_db = pg_databases
    with both_servers(tmp_path, mockgram_db, awesome_db, awesome_env=PATIENT) as servers:
        run_crowd(servers)
