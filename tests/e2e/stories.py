"""Whole stories against both apps as real servers: the driver the crowd tests, the fault tests
and the soak command (`python -m benchmarks.soak`) share.

Each `Story` is one person's browser (cookies of its own): sign up at the print shop, Connect
Mockgram, sign in there and consent, the callback's back-channel exchange, the photo grid and
one image, one print order. Its steps can be taken one by one, so a test can stop a crowd at
any point (say, just before the callback) and break something first.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from sqlalchemy import create_engine, text

from tests.e2e.browser import Browser, find_form
from tests.e2e.servers import ServerProcess, free_port, serve_process

MOCKGRAM_PASSWORD = "crowd-mockgram-password"
CLIENT_SECRET = "crowd-client-secret"
READER_PASSWORD = "a-workshop-password"


@dataclass
class Servers:
    awesome: str
    mockgram: str
    awesome_database_url: str
    mockgram_database_url: str = ""
    processes: dict[str, ServerProcess] = field(default_factory=dict)


def server_envs(
    mockgram_url: str, awesome_url: str, mockgram_db: str, awesome_db: str
) -> tuple[dict[str, str], dict[str, str]]:
    """The environments of `python -m mockgram` and `python -m awesomeservice`, wired by URL."""
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
    return mockgram_env, awesome_env


@contextmanager
def both_servers(
    log_dir: Path,
    mockgram_db: str,
    awesome_db: str,
    *,
    awesome_env: dict[str, str] | None = None,
    ports: tuple[int, int] | None = None,
) -> Iterator[Servers]:
    """`python -m mockgram` and `python -m awesomeservice`, wired to each other by URL."""
    mockgram_port, awesome_port = ports or (free_port(), free_port())
    mockgram_url = f"http://127.0.0.1:{mockgram_port}"
    awesome_url = f"http://127.0.0.1:{awesome_port}"
    mockgram_env, awesome_base = server_envs(mockgram_url, awesome_url, mockgram_db, awesome_db)
    with ExitStack() as stack:
        mockgram = stack.enter_context(
            serve_process("mockgram", mockgram_env, log_dir=log_dir, port=mockgram_port)
        )
        awesome = stack.enter_context(
            serve_process(
                "awesomeservice",
                {**awesome_base, **(awesome_env or {})},
                log_dir=log_dir,
                port=awesome_port,
                ready_path="/healthz",
            )
        )
        yield Servers(
            awesome_url,
            mockgram_url,
            awesome_db,
            mockgram_db,
            {"mockgram": mockgram, "awesomeservice": awesome},
        )


def _authorization_link(html: str, mockgram: str) -> str:
    match = re.search(r'href="(' + re.escape(mockgram) + r'/oauth/authorize\?[^"]+)"', html)
    assert match, "the connect page links to Mockgram's authorization endpoint"
    return match.group(1).replace("&amp;", "&")


class Story:
    """One person's browser going through the story, a step at a time.

    `timings` collects every request's duration (seconds), for the soak's percentiles.
    """

    def __init__(self, servers: Servers, index: int, *, timeout: float = 60.0) -> None:
        self.servers = servers
        self.index = index
        self.username = f"reader-{index}"
        self.timings: list[float] = []
        hooks: dict[str, list[Callable[..., Any]]] = {
            "request": [self._started],
            "response": [self._answered],
        }
        self._awesome = httpx.Client(timeout=timeout, event_hooks=hooks)
        self._mockgram = httpx.Client(timeout=timeout, event_hooks=hooks)
        self.browser = Browser({servers.awesome: self._awesome, servers.mockgram: self._mockgram})
        self.callback_redirect: httpx.Response | None = None
        self.grid: httpx.Response | None = None

    def _started(self, request: httpx.Request) -> None:
        request.extensions["started"] = time.perf_counter()

    def _answered(self, response: httpx.Response) -> None:
        self.timings.append(time.perf_counter() - response.request.extensions["started"])

    def close(self) -> None:
        self._awesome.close()
        self._mockgram.close()

    def sign_up(self) -> None:
        """Make an account at the print shop (signed in afterwards)."""
        browser = self.browser
        signup = browser.get(f"{self.servers.awesome}/signup")
        created = browser.submit(
            find_form(signup.text, "/signup"),
            username=self.username,
            name=f"Reader {self.index}",
            password=READER_PASSWORD,
        )
        assert created.status_code == 303, created.text[:300]
        self.home = browser.follow(created)

    def authorize(self) -> None:
        """Connect Mockgram: sign in there and consent, up to the redirect back (not followed)."""
        browser, servers = self.browser, self.servers
        preview = browser.submit(find_form(self.home.text, "/connect"))
        assert preview.status_code == 200, preview.text[:300]
        answer = browser.get(_authorization_link(preview.text, servers.mockgram))
        # Sign in and consent when asked; a browser already signed in to Mockgram, whose John
        # agreed before, goes straight back.
        for _ in range(6):
            location = answer.headers.get("location", "")
            if answer.is_redirect and urljoin(browser.url, location).startswith(servers.awesome):
                break
            if answer.is_redirect:
                answer = browser.follow(answer)
            elif urlsplit(browser.url).path == "/login" and answer.status_code == 200:
                answer = browser.submit(
                    find_form(answer.text, "/login"), username="john", password=MOCKGRAM_PASSWORD
                )
            elif urlsplit(browser.url).path == "/consent" and answer.status_code == 200:
                answer = browser.submit(
                    find_form(answer.text, "/consent"), button=("decision", "allow")
                )
            else:
                raise AssertionError(f"{browser.url}: {answer.status_code} {answer.text[:300]}")
        redirect = answer
        assert redirect.headers.get("location", "").startswith(servers.awesome), redirect.text[:300]
        self.callback_redirect = redirect

    def callback(self) -> httpx.Response:
        """Step 4–5: back at the print shop, which trades the code for tokens."""
        assert self.callback_redirect is not None, "authorize() first"
        return self.browser.follow(self.callback_redirect)

    def photos(self, callback: httpx.Response) -> None:
        """Step 6: the photo grid and one image."""
        assert callback.status_code == 303, callback.text[:300]
        grid = self.browser.follow(callback)
        assert grid.status_code == 200 and "/orders/new" in grid.text, grid.text[:300]
        self.grid = grid
        self.photo_ids = re.findall(r'name="photo_id" value="(\d+)"', grid.text)
        assert self.photo_ids, "the grid shows John's photos"
        image = self.browser.get(f"{self.servers.awesome}/photos/{self.photo_ids[0]}/image")
        assert image.status_code == 200 and image.headers["content-type"].startswith("image/")

    def order(self) -> int:
        """Print one photo; the id of the order placed."""
        assert self.grid is not None, "photos() first"
        browser = self.browser
        browser.url = f"{self.servers.awesome}/photos"
        chosen = [self.photo_ids[0]]
        order_form = browser.submit(find_form(self.grid.text, "/orders/new"), tick=chosen)
        assert order_form.status_code == 200, order_form.text[:300]
        placed = browser.submit(
            find_form(order_form.text, "/orders"),
            shipping_name=f"Reader {self.index}",
            shipping_address=f"{self.index} Workshop Lane",
        )
        assert placed.status_code == 303, placed.text[:300]
        location = placed.headers["location"]
        confirmation = browser.follow(placed)
        assert confirmation.status_code == 200 and f"Reader {self.index}" in confirmation.text
        return int(location.rstrip("/").rsplit("/", 1)[-1])

    def whole(self) -> int:
        """Every step; the id of the order placed."""
        self.sign_up()
        self.authorize()
        self.photos(self.callback())
        return self.order()


def one_story(servers: Servers, index: int, *, timeout: float = 60.0) -> int:
    """One person's whole story; returns the id of the order placed."""
    story = Story(servers, index, timeout=timeout)
    try:
        return story.whole()
    finally:
        story.close()


@dataclass
class CrowdResult:
    orders: dict[int, Any]
    errors: dict[int, BaseException]
    stuck: list[int]
    seconds: float


def at_once(count: int, work: Callable[[int], Any], *, deadline_seconds: float) -> CrowdResult:
    """Run `work(i)` for i in range(count) in threads released together; never wait past the
    deadline (a story still running then is reported as stuck: a hang)."""
    start = threading.Barrier(count)
    results: dict[int, Any] = {}
    errors: dict[int, BaseException] = {}

    def person(index: int) -> None:
        try:
            start.wait(timeout=deadline_seconds)
            results[index] = work(index)
        except BaseException as exc:  # reported by the caller, with the story it broke
            errors[index] = exc

    threads = [threading.Thread(target=person, args=(i,), daemon=True) for i in range(count)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    deadline = began + deadline_seconds
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    stuck = [i for i, thread in enumerate(threads) if thread.is_alive()]
    return CrowdResult(results, errors, stuck, time.monotonic() - began)


def orders_by_reader(awesome_database_url: str) -> list[tuple[int, str]]:
    """(order id, username) of every order in AwesomeService's database."""
    engine = create_engine(awesome_database_url)
    try:
        with engine.connect() as db:
            rows = db.execute(
                text('SELECT o.id, u.username FROM printorder o JOIN "user" u ON u.id = o.user_id')
            ).all()
    finally:
        engine.dispose()
    return [(row.id, row.username) for row in rows]
