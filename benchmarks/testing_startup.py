"""How long a fresh Mockgram takes in someone else's test suite (not run as a test).

    .venv/bin/python -m benchmarks.testing_startup [--runs 20]

Measures, with the pytest plugin's own pieces (mockgram/testing/): the template database made
once per test session; a fresh in-process Mockgram from it (what the `mockgram` fixture costs
each test); a fresh real server on a loopback port from it, up and answering (`mockgram_server`);
one `token_for` (authorize → sign-in → consent → token, over HTTP); and, for comparison, a
Mockgram built from nothing (`create_app` on an empty in-memory database, demo data seeded).
Prints the median and the slowest run of each, in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from mockgram.app import create_app
from mockgram.settings import MockgramSettings
from mockgram.testing.instances import InProcessMockgram, ServedMockgram, Templates


def settings() -> MockgramSettings:
    return MockgramSettings(
        issuer="http://mockgram.test",
        database_url="sqlite://",
        control_secret="benchmark-control-secret",
        non_interactive=True,
        login_throttle=False,
        seed_demo_data=True,
        secret_key="benchmark-session-key",
    )


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return (time.perf_counter() - started) * 1000


def report(name: str, runs: list[float]) -> None:
    print(f"{name:<46} median {statistics.median(runs):8.1f} ms   slowest {max(runs):8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    base = settings()
    templates = Templates()
    report("template database (once per session)", [timed(lambda: templates.for_settings(base))])
    template = templates.for_settings(base)

    def in_process() -> None:
        InProcessMockgram(base, template).close()

    report("in-process Mockgram from the template", [timed(in_process) for _ in range(runs)])

    def served() -> None:
        with (
            tempfile.TemporaryDirectory() as folder,
            ServedMockgram(base, template, Path(folder)).running() as server,
        ):
            httpx.get(f"{server.url}/.well-known/openid-configuration").raise_for_status()

    report("real server from the template, answering", [timed(served) for _ in range(runs)])

    instance = InProcessMockgram(base, template)
    instance.token_for("warm-up")
    report(
        "token_for (in-process)",
        [timed(lambda: instance.token_for("alice", "openid photos.read")) for _ in range(runs)],
    )
    instance.close()

    def from_nothing() -> None:
        create_app(base).state.engine.dispose()

    report("create_app from nothing (for comparison)", [timed(from_nothing) for _ in range(3)])


if __name__ == "__main__":
    main()
