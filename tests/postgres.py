"""PostgreSQL for tests: a fresh schema per test and app on the server named by TEST_DATABASE_URL.

Each schema is a private place on a shared server: the app's URL gets
`options=-csearch_path=<schema>`, so its tables are created there and nowhere else, and
`application_name=<schema>`, so the schema's connections can be found and closed afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import Pool

ENV = "TEST_DATABASE_URL"
EXAMPLE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SKIP_REASON = f"PostgreSQL runs need {ENV} (e.g. {ENV}={EXAMPLE}); not set, so skipped"


def server_url() -> str | None:
    """The PostgreSQL server tests may use, or None when TEST_DATABASE_URL is not set."""
    return os.environ.get(ENV) or None


class Schemas:
    """Creates and drops throwaway schemas through one administrative connection."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        libpq = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.admin = psycopg.connect(libpq, autocommit=True, connect_timeout=10)

    def close(self) -> None:
        self.admin.close()

    @contextmanager
    def fresh(self, label: str) -> Iterator[str]:
        """A new empty schema for the block; yields the SQLAlchemy URL that lands in it."""
        name = f"test_{label}_{secrets.token_hex(5)}"
        self.admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
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
            self.admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
