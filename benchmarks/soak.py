"""The soak: many whole stories at once against both apps as real servers, not part of the tests.

    python -m benchmarks.soak --stories 200                       # SQLite files
    python -m benchmarks.soak --stories 200 --database postgres   # PostgreSQL (TEST_DATABASE_URL)

Each story is one person (tests/e2e/stories.py, the driver the crowd tests use): sign up at the
print shop, Connect Mockgram, sign in there and consent, the code exchange, the photo grid and
one image, one print order. All start together. It reports the errors (there must be none),
the p50/p99 of every request and of whole stories, and whether every order exists exactly once;
it exits 1 when any of that fails.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.stories import Story, at_once, both_servers, orders_by_reader
from tests.postgres import ENV, EXAMPLE, Schemas

DEADLINE_SECONDS = 1800


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@contextmanager
def databases(kind: str, workdir: Path) -> Iterator[tuple[str, str]]:
    """(Mockgram's, AwesomeService's) database URLs: new SQLite files or new PostgreSQL schemas."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'mockgram.db'}", f"sqlite:///{workdir / 'awesomeservice.db'}"
        return
    schemas = Schemas(os.environ.get(ENV) or EXAMPLE)
    try:
        with schemas.fresh("soak-mockgram") as mockgram, schemas.fresh("soak-awesome") as awesome:
            yield mockgram, awesome
    finally:
        schemas.close()


def soak(stories: int, kind: str, timeout: float) -> bool:
    """Run the soak once and print its report; whether it passed."""
    # AwesomeService's wait for Mockgram: past it, a person gets the friendly 504 page, which
    # here counts as an error. Its default (5 s) is for one person; a crowd queues longer.
    awesome_env = {"AWESOMESERVICE_HTTP_TIMEOUT_SECONDS": str(timeout)}
    with (
        tempfile.TemporaryDirectory(prefix="soak-") as tmp,
        databases(kind, Path(tmp)) as dbs,
        both_servers(Path(tmp), *dbs, awesome_env=awesome_env) as servers,
    ):
        people = [Story(servers, i, timeout=DEADLINE_SECONDS) for i in range(stories)]
        crowd = at_once(stories, lambda i: people[i].whole(), deadline_seconds=DEADLINE_SECONDS)
        for person in people:
            person.close()
        rows = orders_by_reader(servers.awesome_database_url)
    requests = [t for person in people for t in person.timings]
    story_seconds = [sum(person.timings) for i, person in enumerate(people) if i in crowd.orders]
    expected = {order: f"reader-{i}" for i, order in crowd.orders.items()}
    once = sorted(order for order, _ in rows) == sorted(expected) and dict(rows) == expected

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"soak: {stories} whole stories at once on {kind}, {os.cpu_count()} CPU cores")
    print(f"  machine load       {load} (1, 5, 15 min) at the end")
    print(f"  back-channel wait  {timeout} s (AwesomeService waiting for Mockgram)")
    print(f"  finished           {len(crowd.orders)} of {stories} in {crowd.seconds:.1f} s")
    print(f"  errors             {len(crowd.errors)}, still running {len(crowd.stuck)}")
    for index, error in sorted(crowd.errors.items())[:5]:
        print(f"    story {index}: {str(error)[:200]!r}")
    if requests:
        print(
            f"  requests           {len(requests)}: p50 {percentile(requests, 0.5) * 1000:.0f} ms,"
            f" p99 {percentile(requests, 0.99) * 1000:.0f} ms,"
            f" max {max(requests) * 1000:.0f} ms"
        )
    if story_seconds:
        print(
            f"  whole stories      p50 {statistics.median(story_seconds):.1f} s,"
            f" p99 {percentile(story_seconds, 0.99):.1f} s"
        )
    print(f"  orders             {len(rows)} in the database; each exactly once: {once}")
    return not crowd.errors and not crowd.stuck and once and len(crowd.orders) == stories


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--stories", type=int, default=200, help="stories at once (200)")
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help=f"SQLite files, or PostgreSQL at ${ENV} (default {EXAMPLE})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="AwesomeService's back-channel timeout in seconds (60; the app's default is 5)",
    )
    args = parser.parse_args(argv)
    return 0 if soak(args.stories, args.database, args.timeout) else 1


if __name__ == "__main__":
    sys.exit(main())
