"""PostgreSQL for tests: an empty schema per test and app on the server named by TEST_DATABASE_URL.

Each schema is a private place on a shared server: the app's URL gets
`options=-csearch_path=<schema>`, so its tables are created there and nowhere else, and
`application_name=<schema>`, so the schema's connections can be found and closed afterwards.

Creating an app's tables is most of a PostgreSQL test's set-up (dozens of DDL statements, and
as many to drop them), so the app fixtures reuse schemas: after a test its schema's rows are
deleted and its sequences reset, and the next test of that app gets it back, tables and all.
The app then finds its tables present and empty, as it would after creating them. `fresh()`
still gives a brand-new schema, dropped afterwards, for tests about creating tables.
"""

from __future__ import annotations

import os
import secrets
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import Pool

ENV = "TEST_DATABASE_URL"
EXAMPLE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SKIP_REASON = f"PostgreSQL runs need {ENV} (e.g. {ENV}={EXAMPLE}); not set, so skipped"

# For a test that builds an app but asks nothing of it a database could answer differently (an
# explanation page, a static script): it runs on SQLite only, not once more on PostgreSQL.
sqlite_only = pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)

# Every row of every table goes, with the foreign-key triggers off (they would only make the
# order of the deletes matter); numbering starts again at 1, as in a new table. One round trip.
_EMPTY = """
DO $$
DECLARE item record;
BEGIN
    SET LOCAL session_replication_role = replica;
    FOR item IN SELECT tablename FROM pg_tables WHERE schemaname = {schema} LOOP
        EXECUTE format('DELETE FROM %I.%I', {schema}, item.tablename);
    END LOOP;
    FOR item IN SELECT sequencename FROM pg_sequences WHERE schemaname = {schema} LOOP
        PERFORM setval(format('%I.%I', {schema}, item.sequencename), 1, false);
    END LOOP;
END $$
"""
# The same without superuser rights (session_replication_role needs them): slower, as
# TRUNCATE makes new files for every table and index.
_TRUNCATE = """
DO $$
DECLARE tables text;
BEGIN
    SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') INTO tables
        FROM pg_tables WHERE schemaname = {schema};
    IF tables IS NOT NULL THEN
        EXECUTE 'TRUNCATE ' || tables || ' RESTART IDENTITY CASCADE';
    END IF;
END $$
"""


def server_url() -> str | None:
    """The PostgreSQL server tests may use, or None when TEST_DATABASE_URL is not set."""
    return os.environ.get(ENV) or None


class Schemas:
    """Creates, empties and drops throwaway schemas through one administrative connection."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        libpq = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.admin = psycopg.connect(libpq, autocommit=True, connect_timeout=10)
        superuser = self.admin.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        self.empty_statement = _EMPTY if superuser and superuser[0] else _TRUNCATE
        self.idle: dict[str, list[str]] = defaultdict(list)

    def close(self) -> None:
        for names in self.idle.values():
            for name in names:
                self._drop(name)
        self.admin.close()

    @contextmanager
    def fresh(self, label: str) -> Iterator[str]:
        """A new empty schema for the block, dropped after it; yields the SQLAlchemy URL."""
        name = self._create(label)
        try:
            with self._opened(name) as url:
                yield url
        finally:
            self._drop(name)

    @contextmanager
    def emptied(self, label: str) -> Iterator[str]:
        """An empty schema for the block: one an earlier block of this label used (its tables
        kept, their rows gone), or a new one. Yields the SQLAlchemy URL."""
        name = self.idle[label].pop() if self.idle[label] else self._create(label)
        try:
            with self._opened(name) as url:
                yield url
        except BaseException:
            self._drop(name)
            raise
        try:
            self.admin.execute(sql.SQL(self.empty_statement).format(schema=sql.Literal(name)))
        except psycopg.Error:
            self._drop(name)
            raise
        self.idle[label].append(name)

    def _create(self, label: str) -> str:
        name = f"test_{label}_{secrets.token_hex(5)}"
        self.admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
        return name

    def _drop(self, name: str) -> None:
        self.admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))

    @contextmanager
    def _opened(self, name: str) -> Iterator[str]:
        """The URL that lands in the schema; afterwards, no connection to it is left open."""
        url = self.url.update_query_dict(
            {"options": f"-csearch_path={name}", "application_name": name}
        ).render_as_string(hide_password=False)
        opened: list[Any] = []

        def remember(dbapi_connection: Any, _record: Any) -> None:
            info = getattr(dbapi_connection, "info", None)  # psycopg only; not sqlite3
            if info is not None and info.parameter_status("application_name") == name:
                opened.append(dbapi_connection)

        event.listen(Pool, "connect", remember)
        try:
            yield url
        finally:
            event.remove(Pool, "connect", remember)
            # The test's engines may still hold pooled connections: close them here, so none
            # is left to the garbage collector, then end any other session (a server process).
            for connection in opened:
                connection.close()
            self.admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s AND pid <> pg_backend_pid()",
                (name,),
            )
