"""Project-wide test settings, and the two databases every app test runs on.

Each test that builds an app asks for `mockgram_database_url` / `awesome_database_url`. Both
follow one parameter, `database_kind`, so such a test runs twice: on in-memory SQLite (`sqlite`)
and on PostgreSQL (`pg`), in an empty schema per test and app on the server named by
TEST_DATABASE_URL (tests/postgres.py). Without that variable the `pg` runs are skipped, with the
reason shown. Tests that use neither fixture run once; a test whose app answers nothing from
its database (an explanation page, a static script) is marked `tests.postgres.sqlite_only` and
runs on SQLite alone, and pages that no request changes are read from one app per module
(`page_reader` in tests/awesomeservice and tests/mockgram).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import timedelta
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapper

from mockgram import keys
from shared import clock, db, hashing
from tests import postgres
from tests.compiled_sql import SharedCompiledCache

# The plugin other projects get from the package's pytest11 entry point; an install made before
# that entry point existed does not load it, so load it by name then (never twice).
PLUGIN = "mockgram.testing.plugin"
if not any(ep.value == PLUGIN for ep in entry_points(group="pytest11")):
    pytest_plugins = [PLUGIN]


# Session-wide, so that apps a module's tests share (built before any test's own fixtures)
# are built under them too.
@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """argon2id with the smallest cost: the same code path, a fraction of the time."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            hashing, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        )
        yield


class SigningKeyPool:
    """Mockgram's key generator, made thrifty: a few real keys per algorithm, handed out in turn.

    Making an RSA key is most of an app's start-up; a test run builds thousands of apps. Handing
    the keys out in turn gives apps built one after another (two Mockgrams in one test) different
    keys. The real generator still runs to fill the pool, and in every server subprocess.
    """

    SIZE = 4

    def __init__(self) -> None:
        self.made: dict[str, list[keys.PrivateKey]] = defaultdict(list)
        self.handed: dict[str, int] = defaultdict(int)
        self.real = keys._generate

    def generate(self, alg: str) -> keys.PrivateKey:
        made = self.made[alg]
        turn = self.handed[alg] % self.SIZE
        self.handed[alg] += 1
        if turn == len(made):
            made.append(self.real(alg))
        return made[turn]


_KEY_POOL = SigningKeyPool()


@pytest.fixture(autouse=True, scope="session")
def pooled_signing_keys() -> Iterator[None]:
    """Mockgram apps take their signing keys from the pool (see SigningKeyPool)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(keys, "_generate", _KEY_POOL.generate)
        yield


_COMPILED_SQL = SharedCompiledCache()


@pytest.fixture(autouse=True, scope="session")
def shared_compiled_sql() -> Iterator[None]:
    """Engines the apps make (shared.db) and ORM flushes share one cache of compiled SQL
    (see tests/compiled_sql.py): a statement is compiled once per run, not once per test."""

    def make(*args: Any, **kwargs: Any) -> Engine:
        engine = real_create_engine(*args, **kwargs)
        engine._compiled_cache = _COMPILED_SQL
        return engine

    real_create_engine = db.create_engine
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db, "create_engine", make)
        # A data descriptor: it wins over a cache a mapper may have memoized already.
        patch.setattr(Mapper, "_compiled_cache", property(lambda _mapper: _COMPILED_SQL))
        yield


# Skips that come from the environment, not from a test: one summary line each, with the count,
# instead of one line per skipped test.
FOLDED_SKIPS = (postgres.SKIP_REASON, "real-browser test skipped")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    report: pytest.TestReport = yield
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = report.longrepr[2]
        if reason.removeprefix("Skipped: ").startswith(FOLDED_SKIPS):
            here = Path(__file__).relative_to(item.config.rootpath)
            report.longrepr = (str(here), None, reason)  # type: ignore[assignment]
    return report


@pytest.fixture(scope="session")
def postgres_schemas() -> Iterator[postgres.Schemas]:
    """The PostgreSQL server of TEST_DATABASE_URL (skips the test when it is not set)."""
    url = postgres.server_url()
    if url is None:
        pytest.skip(postgres.SKIP_REASON)
    schemas = postgres.Schemas(url)
    yield schemas
    schemas.close()


@pytest.fixture(params=["sqlite", "pg"])
def database_kind(request: pytest.FixtureRequest) -> str:
    """Which database this run of the test uses: `sqlite` or `pg`."""
    if request.param == "pg" and postgres.server_url() is None:
        pytest.skip(postgres.SKIP_REASON)
    return str(request.param)


def _database_url(request: pytest.FixtureRequest, kind: str, label: str) -> Iterator[str]:
    if kind == "sqlite":
        yield "sqlite://"
        return
    schemas: postgres.Schemas = request.getfixturevalue("postgres_schemas")
    with schemas.emptied(label) as url:
        yield url


@pytest.fixture
def mockgram_database_url(request: pytest.FixtureRequest, database_kind: str) -> Iterator[str]:
    """Mockgram's database for one test: in-memory SQLite, or an empty PostgreSQL schema."""
    yield from _database_url(request, database_kind, "mockgram")


@pytest.fixture
def awesome_database_url(request: pytest.FixtureRequest, database_kind: str) -> Iterator[str]:
    """AwesomeService's database for one test (its own, apart from Mockgram's)."""
    yield from _database_url(request, database_kind, "awesome")


@pytest.fixture
def move_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[timedelta], None]:
    """Move `shared.clock.utcnow` forward, no sleeping: code that asks the clock module for the
    time at each call (session timeouts) sees the future; `move_clock(timedelta(minutes=31))`."""
    real = clock.utcnow
    offset = [timedelta()]
    monkeypatch.setattr(clock, "utcnow", lambda: real() + offset[0])

    def forward(delta: timedelta) -> None:
        offset[0] += delta

    return forward


# Tests that drive real servers, a real browser or node run on SQLite alone, except the whole
# story in Chromium (tests/browser/test_story.py), which still runs on both: every step they
# exercise also runs on PostgreSQL in process (tests/e2e, tests/mockgram, tests/awesomeservice),
# and starting two servers and a browser once more per test is most of CI's time.
ONE_DATABASE_PATHS = (
    "tests/browser/",
    "tests/e2e/test_spa_browser.py",
    "tests/interop/",
)
BOTH_DATABASES_STILL = ("tests/browser/test_story.py",)
# The longest files first, so that neither worker is left alone with one at the end.
SLOW_FIRST = ("tests/deploy/", "tests/browser/", "tests/interop/", "tests/e2e/", "tests/fuzz/")


def _runs_on_one_database(path: str, item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return (
        callspec is not None
        and callspec.params.get("database_kind") == "pg"
        and path.startswith(ONE_DATABASE_PATHS)
        and not path.startswith(BOTH_DATABASES_STILL)
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = config.rootpath
    paths = {id(item): item.path.relative_to(root).as_posix() for item in items}
    dropped = [item for item in items if _runs_on_one_database(paths[id(item)], item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        gone = {id(item) for item in dropped}
        items[:] = [item for item in items if id(item) not in gone]

    def rank(item: pytest.Item) -> int:
        path = paths[id(item)]
        return next((n for n, p in enumerate(SLOW_FIRST) if path.startswith(p)), len(SLOW_FIRST))

    items.sort(key=rank)  # stable: a file's tests stay together and in order
