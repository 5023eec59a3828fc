"""Mockgram for a test: in-process (the ASGI app on an in-memory database) or a real server on
a free loopback port. Both start from a template database — schema, signing keys, demo people
and clients made once per test session — copied afresh for every test, which is what makes a
fresh Mockgram cost milliseconds rather than the second or more a first start takes.
"""

from __future__ import annotations

import socket
import sqlite3
import tempfile
import threading
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from mockgram.settings import MockgramSettings
from mockgram.testing.control import Control
from mockgram.testing.flows import Tokens, authorize_in_browser, token_for

if TYPE_CHECKING:
    from fastapi import FastAPI

# Settings a template may be shared across: everything but where the database is and the URL.
_PER_INSTANCE = {"database_url", "issuer"}
# A copy of the template already holds what seeding would add: no need to look again.
_SEEDED = {"seed_demo_data": False}


class Templates:
    """Template databases, one per distinct settings, each made once per test session."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="mockgram-templates-"))
        self.made: dict[str, Path] = {}
        self.lock = threading.Lock()

    def for_settings(self, settings: MockgramSettings) -> Path:
        """The template file for these settings (made now if new)."""
        key = settings.model_dump_json(exclude=_PER_INSTANCE)
        with self.lock:
            if key not in self.made:
                path = self.folder / f"template-{len(self.made)}.db"
                self._make(settings, path)
                self.made[key] = path
            return self.made[key]

    @staticmethod
    def _make(settings: MockgramSettings, path: Path) -> None:
        from mockgram.app import create_app

        app = create_app(settings.model_copy(update={"database_url": f"sqlite:///{path}"}))
        app.state.engine.dispose()
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def copy_database(template: Path, target: sqlite3.Connection) -> None:
    """The template's rows into `target` (SQLite's online backup: consistent, and fast)."""
    with sqlite3.connect(template) as source:
        source.backup(target)
    source.close()


class Mockgram:
    """One Mockgram for one test: its URL, its control plane, and tokens on demand."""

    url: str
    settings: MockgramSettings

    def http(self, **options: Any) -> httpx.Client:
        """A new client bound to this Mockgram (its own cookies, redirects not followed)."""
        raise NotImplementedError

    @property
    def client(self) -> httpx.Client:
        """One httpx client bound to this Mockgram for the whole test (redirects not followed)."""
        if getattr(self, "_client", None) is None:
            self._client = self.http().__enter__()
        return self._client

    @property
    def control(self) -> Control:
        return Control(self._control_http, self.settings.control_secret or "")

    def authorize(self, authorization_url: str) -> str:
        """Walk a browser through Mockgram from `authorization_url` (sign-in and consent, both
        non-interactive) and return where Mockgram sends it back: the client's redirect URI
        with its code (or error), state and iss."""
        with self.http() as browser:
            return authorize_in_browser(browser, authorization_url, issuer=self.url)

    def token_for(self, user: str, scopes: str = "openid", **options: Any) -> Tokens:
        """Real tokens for `user`, earned through authorize → sign-in → consent → token."""
        return token_for(self, user, scopes, **options)

    @property
    def _control_http(self) -> httpx.Client:
        if getattr(self, "_control_client", None) is None:
            # Entered once: an in-process client then keeps one event loop for all its calls.
            self._control_client = self.http().__enter__()
        return self._control_client

    def close(self) -> None:
        for name in ("_control_client", "_client"):
            client = getattr(self, name, None)
            if client is not None:
                client.__exit__(None, None, None)
                setattr(self, name, None)


class InProcessMockgram(Mockgram):
    """The ASGI app itself, on an in-memory SQLite database of its own."""

    def __init__(self, settings: MockgramSettings, template: Path) -> None:
        from mockgram.app import create_app

        name = f"mockgram-{uuid.uuid4().hex}"
        uri = f"file:{name}?mode=memory&cache=shared"
        # Holds the in-memory database open (it lives while one connection does).
        self._keeper = sqlite3.connect(uri, uri=True, check_same_thread=False)
        copy_database(template, self._keeper)
        url = f"sqlite:///{uri}&uri=true"
        self.settings = settings.model_copy(update={"database_url": url, **_SEEDED})
        self.url = self.settings.issuer
        self.app: FastAPI = create_app(self.settings)
        self._control_client = None

    @property
    def transport(self) -> httpx.ASGITransport:
        """For an httpx.AsyncClient (yours, or your app's) that should reach this Mockgram."""
        return httpx.ASGITransport(app=self.app)

    def http(self, **options: Any) -> httpx.Client:
        with warnings.catch_warnings():
            # Starlette announces a future move away from httpx on import: not the caller's
            # concern, and an error in suites that turn warnings into errors.
            warnings.simplefilter("ignore", DeprecationWarning)
            from starlette.testclient import TestClient

        options.setdefault("follow_redirects", False)
        return TestClient(self.app, base_url=self.url, **options)

    def close(self) -> None:
        super().close()
        self.app.state.engine.dispose()
        self._keeper.close()


class ServedMockgram(Mockgram):
    """The app served by uvicorn on 127.0.0.1 and a free port, in a thread of this process."""

    def __init__(self, settings: MockgramSettings, template: Path, folder: Path) -> None:
        self._control_client = None
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        path = folder / "mockgram.db"
        target = sqlite3.connect(path)
        copy_database(template, target)
        target.close()
        self.settings = settings.model_copy(
            update={"database_url": f"sqlite:///{path}", "issuer": self.url, **_SEEDED}
        )

    @contextmanager
    def running(self) -> Iterator[ServedMockgram]:
        import uvicorn

        from mockgram.app import create_app

        self.app = create_app(self.settings)
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [self._sock]}, daemon=True)
        thread.start()
        ready = threading.Event()
        while not server.started and thread.is_alive():
            ready.wait(0.01)  # polling uvicorn's own flag, not guessing a duration
        if not server.started:
            raise RuntimeError("Mockgram's server did not start")
        try:
            yield self
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            self._sock.close()
            self.close()
            self.app.state.engine.dispose()

    def http(self, **options: Any) -> httpx.Client:
        options.setdefault("follow_redirects", False)
        options.setdefault("timeout", 30)
        return httpx.Client(base_url=self.url, **options)
