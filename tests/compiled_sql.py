"""Compiled SQL shared by every engine of a test run, instead of compiled anew for each.

SQLAlchemy keeps the SQL it compiled in a cache per engine (and one per ORM mapper for
flushes), keyed by the statement and the engine's dialect object. A test run builds an app, so
an engine, per test: every statement was compiled again for every test, a fifth of an app
test's time. Dialects of one kind with the same server answers compile alike, so here the key
names the dialect by those (its class, the server's version, the default schema, the style of
parameters) rather than by the object, and one cache serves every engine the apps make.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.util import LRUCache

# Room for every distinct statement of both apps on both databases, many times over.
CAPACITY = 20_000


def dialect_signature(dialect: Dialect) -> tuple[Any, ...]:
    """What a dialect's compiled SQL depends on, for engines made alike (shared.db.make_engine):
    the settings it is created with are the same, so only what it learnt from the server varies."""
    return (
        type(dialect),
        dialect.server_version_info,
        dialect.default_schema_name,
        dialect.paramstyle,
        dialect.label_length,
        dialect.max_identifier_length,
    )


class SharedCompiledCache(LRUCache):  # type: ignore[type-arg]
    """An LRU cache of compiled statements whose keys name the dialect by its signature."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        super().__init__(capacity)

    @staticmethod
    def _canonical(key: Any) -> Any:
        if isinstance(key, tuple) and key and isinstance(key[0], Dialect):
            return (dialect_signature(key[0]), *key[1:])
        return key

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(self._canonical(key), default)

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(self._canonical(key))

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(self._canonical(key), value)

    def __contains__(self, key: object) -> bool:
        return self._canonical(key) in self._data
