"""Twenty people at once: whole stories against both apps as real servers, none may hang.

Each story is a browser of its own (its own cookies): sign up at the print shop, Connect
Mockgram, sign in there and consent, the callback's back-channel exchange, the photo grid and
one image, one print order. All twenty start together, on a SQLite file and on PostgreSQL.
A synchronous database call on the event loop, or a session held across an outbound call,
makes such a crowd deadlock on the connection pool; here that fails within the deadline
instead of hanging the run. Every order must exist exactly once.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.e2e.browser import Browser, find_form
from tests.e2e.servers import free_port, serve_process
from tests.postgres import Schemas

STORIES = 20
# Generous for twenty stories on two busy cores (each takes about a second alone), and far
# below forever: a deadlocked pool never finishes at all.
DEADLINE_SECONDS = 180
REQUEST_TIMEOUT_SECONDS = 60
MOCKGRAM_PASSWORD = "crowd-mockgram-password"
CLIENT_SECRET = "crowd-client-secret"


@dataclass
class Servers:
    awesome: str
    mockgram: str
    awesome_database_url: str


@contextmanager
def both_servers(tmp_path: Path, mockgram_db: str, awesome_db: str) -> Iterator[Servers]:
    """`python -m mockgram` and `python -m awesomeservice`, wired to each other by URL."""
    mockgram_port, awesome_port = free_port(), free_port()
    mockgram_url = f"http://127.0.0.1:{mockgram_port}"
    awesome_url = f"http://127.0.0.1:{awesome_port}"
    common = {
        "AWESOMESERVICE_URL": awesome_url,
        "AWESOMESERVICE_CLIENT_SECRET": CLIENT_SECRET,
        "MOCKGRAM_LOGIN_THROTTLE": "false",
    }
    mockgram_env = {
        **common,
        "MOCKGRAM_ISSUER": mockgram_url,
        "MOCKGRAM_DATABASE_URL": mockgram_db,
        "MOCKGRAM_DEMO_PASSWORD": MOCKGRAM_PASSWORD,
    }
    awesome_env = {
        **common,
        "AWESOMESERVICE_MOCKGRAM_URL": mockgram_url,
        "AWESOMESERVICE_DATABASE_URL": awesome_db,
        "AWESOMESERVICE_SEED_DEMO_DATA": "false",
        "AWESOMESERVICE_DOCTOR_ON_START": "false",
        "AWESOMESERVICE_TOUR_DEFAULT": "false",
    }
    with ExitStack() as stack:
        stack.enter_context(
            serve_process("mockgram", mockgram_env, log_dir=tmp_path, port=mockgram_port)
        )
        stack.enter_context(
            serve_process(
                "awesomeservice",
                awesome_env,
                log_dir=tmp_path,
                port=awesome_port,
                ready_path="/healthz",
            )
        )
        yield Servers(awesome_url, mockgram_url, awesome_db)


def _authorization_link(html: str, mockgram: str) -> str:
    match = re.search(r'href="(' + re.escape(mockgram) + r'/oauth/authorize\?[^"]+)"', html)
    assert match, "the connect page links to Mockgram's authorization endpoint"
    return match.group(1).replace("&amp;", "&")


def one_story(servers: Servers, index: int) -> int:
    """One person's whole story; returns the id of the order placed."""
    with (
        httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS) as awesome,
        httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS) as mockgram,
    ):
        browser = Browser({servers.awesome: awesome, servers.mockgram: mockgram})
        signup = browser.get(f"{servers.awesome}/signup")
        created = browser.submit(
            find_form(signup.text, "/signup"),
            username=f"reader-{index}",
            name=f"Reader {index}",
            password="a-workshop-password",
        )
        assert created.status_code == 303, created.text[:300]
        home = browser.follow(created)
        preview = browser.submit(find_form(home.text, "/connect"))
        assert preview.status_code == 200, preview.text[:300]
        login = browser.follow(browser.get(_authorization_link(preview.text, servers.mockgram)))
        assert urlsplit(browser.url).path == "/login", login.text[:300]
        signed_in = browser.submit(
            find_form(login.text, "/login"), username="john", password=MOCKGRAM_PASSWORD
        )
        answer = browser.follow(signed_in)
        if urlsplit(browser.url).path == "/consent" and answer.status_code == 200:
            redirect = browser.submit(
                find_form(answer.text, "/consent"), button=("decision", "allow")
            )
        else:  # John agreed in an earlier story: Mockgram remembers and redirects at once
            redirect = answer
        assert redirect.headers.get("location", "").startswith(servers.awesome), redirect.text[:300]
        callback = browser.follow(redirect)
        assert callback.status_code == 303, callback.text[:300]
        grid = browser.follow(callback)
        assert grid.status_code == 200 and "/orders/new" in grid.text, grid.text[:300]
        photo_ids = re.findall(r'name="photo_id" value="(\d+)"', grid.text)
        assert photo_ids, "the grid shows John's photos"
        image = browser.get(f"{servers.awesome}/photos/{photo_ids[0]}/image")
        assert image.status_code == 200 and image.headers["content-type"].startswith("image/")
        browser.url = f"{servers.awesome}/photos"
        order_form = browser.submit(find_form(grid.text, "/orders/new"), tick=[photo_ids[0]])
        assert order_form.status_code == 200, order_form.text[:300]
        placed = browser.submit(
            find_form(order_form.text, "/orders"),
            shipping_name=f"Reader {index}",
            shipping_address=f"{index} Workshop Lane",
        )
        assert placed.status_code == 303, placed.text[:300]
        location = placed.headers["location"]
        confirmation = browser.follow(placed)
        assert confirmation.status_code == 200 and f"Reader {index}" in confirmation.text
        return int(location.rstrip("/").rsplit("/", 1)[-1])


def run_crowd(servers: Servers) -> None:
    """Start every story at once; fail on any error, and on any story still running at the
    deadline (a hang), instead of waiting for ever."""
    start = threading.Barrier(STORIES)
    orders: dict[int, int] = {}
    errors: dict[int, BaseException] = {}

    def person(index: int) -> None:
        try:
            start.wait(timeout=DEADLINE_SECONDS)
            orders[index] = one_story(servers, index)
        except BaseException as exc:  # reported below, with the story it broke
            errors[index] = exc

    threads = [threading.Thread(target=person, args=(i,), daemon=True) for i in range(STORIES)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + DEADLINE_SECONDS
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    stuck = [i for i, thread in enumerate(threads) if thread.is_alive()]
    assert not stuck, f"stories {stuck} still running after {DEADLINE_SECONDS} s: a hang"
    assert not errors, "\n".join(f"story {i}: {exc!r}" for i, exc in sorted(errors.items()))
    assert len(orders) == STORIES

    # Every order placed exists exactly once, with its one photo, for its own reader.
    engine = create_engine(servers.awesome_database_url)
    try:
        with engine.connect() as db:
            rows = db.execute(
                text('SELECT o.id, u.username FROM printorder o JOIN "user" u ON u.id = o.user_id')
            ).all()
    finally:
        engine.dispose()
    assert sorted(row.id for row in rows) == sorted(orders.values())
    assert {row.id: row.username for row in rows} == {
        order: f"reader-{index}" for index, order in orders.items()
    }


def test_twenty_whole_stories_at_once_on_sqlite_files(tmp_path: Path) -> None:
    with both_servers(
        tmp_path,
        f"sqlite:///{tmp_path / 'mockgram.db'}",
        f"sqlite:///{tmp_path / 'awesomeservice.db'}",
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
    with both_servers(tmp_path, mockgram_db, awesome_db) as servers:
        run_crowd(servers)
