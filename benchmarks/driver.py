"""The Python load driver: runs in its own process, apart from the servers and the harness.

`python -m benchmarks.driver` reads one job (JSON) on standard input and prints one result
(JSON) on standard output. Jobs: `get` (the fallback load generator, and the driver's own
ceiling), `flows`, `redeem`, `refresh`, `client_credentials`, `grid`, and two that time code
instead of a server: `argon2` and `in_process`. Each virtual user is one browser or client
with its own httpx client (its own connection and cookies); every request has a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from benchmarks.flows import (
    Code,
    FlowError,
    PrintShop,
    Provider,
    client_credentials,
    connect_print_shop,
    get_code,
    load_photo_grid,
    redeem,
    refresh,
    sign_in_to_print_shop,
    whole_flow,
)
from benchmarks.servers import cpu_seconds

TIMEOUT = httpx.Timeout(30.0)
# The processes of the servers a job loads (the job's "server_pids"), metered in each timed part.
SERVER_PIDS: list[int] = []
GIVE_UP_AFTER = 5  # consecutive failures of one virtual user: the server is broken, not slow

T = TypeVar("T")
Job = dict[str, Any]
Operation = Callable[[int], Awaitable[int]]  # virtual user index → HTTP requests it made


@dataclass
class Measured:
    """Completed operations, their latencies, and what went wrong."""

    latencies: list[float] = field(default_factory=list)  # seconds, one per completed op
    requests: int = 0
    errors: int = 0
    first_error: str | None = None
    elapsed: float = 0.0
    server_cpu: float | None = None  # CPU seconds the watched servers used meanwhile

    def failed(self, exc: Exception) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = describe(exc)

    def summary(self) -> dict[str, Any]:
        ops = len(self.latencies)
        ordered = sorted(self.latencies)
        return {
            "ops": ops,
            "requests": self.requests,
            "errors": self.errors,
            "first_error": self.first_error,
            "elapsed_s": self.elapsed,
            "rate": ops / self.elapsed if self.elapsed and ops else 0.0,
            "requests_per_s": self.requests / self.elapsed if self.elapsed else 0.0,
            "p50_ms": percentile(ordered, 50) * 1000 if ordered else None,
            "p99_ms": percentile(ordered, 99) * 1000 if ordered else None,
            "server_cpu_ms_per_op": self.server_cpu * 1000 / ops
            if self.server_cpu is not None and ops
            else None,
        }


def describe(exc: Exception) -> str:
    """An exception in one line, with the request it happened to (httpx's timeouts say nothing)."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, httpx.RequestError):
        with contextlib.suppress(RuntimeError):  # raised when no request is attached
            text += f" ({exc.request.method} {exc.request.url})"
    return text[:600]


@contextlib.contextmanager
def metered(measured: Measured) -> Iterator[None]:
    """Time the block, and the CPU the servers under test (SERVER_PIDS) spent in it."""
    cpu_before = cpu_seconds(SERVER_PIDS) if SERVER_PIDS else None
    started = time.perf_counter()
    yield
    measured.elapsed = time.perf_counter() - started
    cpu_after = cpu_seconds(SERVER_PIDS) if SERVER_PIDS else None
    if cpu_before is not None and cpu_after is not None:
        measured.server_cpu = cpu_after - cpu_before


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def clients(count: int) -> list[httpx.AsyncClient]:
    """One client per virtual user: its own connection and cookie jar, like a browser."""
    return [
        httpx.AsyncClient(timeout=TIMEOUT, limits=httpx.Limits(max_connections=8))
        for _ in range(count)
    ]


async def close_all(users: list[httpx.AsyncClient]) -> None:
    await asyncio.gather(*(user.aclose() for user in users))


async def run_for(concurrency: int, seconds: float, operation: Operation) -> Measured:
    """Each virtual user repeats `operation` until the time is up; latencies per operation."""
    measured = Measured()
    deadline = time.perf_counter() + seconds

    async def user(index: int) -> None:
        failures = 0
        while time.perf_counter() < deadline and failures < GIVE_UP_AFTER:
            start = time.perf_counter()
            try:
                requests = await operation(index)
            except (FlowError, httpx.HTTPError, KeyError, ValueError) as exc:
                measured.failed(exc)
                failures += 1
                continue
            measured.latencies.append(time.perf_counter() - start)
            measured.requests += requests
            failures = 0

    with metered(measured):
        await asyncio.gather(*(user(index) for index in range(concurrency)))
    return measured


async def run_each(
    concurrency: int, items: list[Any], operation: Callable[[int, Any], Awaitable[int]]
) -> Measured:
    """The virtual users share out `items`, one operation per item, until none is left."""
    measured = Measured()
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def user(index: int) -> None:
        while not queue.empty():
            item = queue.get_nowait()
            start = time.perf_counter()
            try:
                requests = await operation(index, item)
            except (FlowError, httpx.HTTPError, KeyError, ValueError) as exc:
                measured.failed(exc)
                continue
            measured.latencies.append(time.perf_counter() - start)
            measured.requests += requests

    with metered(measured):
        await asyncio.gather(*(user(index) for index in range(concurrency)))
    return measured


async def warmed(concurrency: int, warmup: float, seconds: float, operation: Operation) -> Measured:
    """Run untimed for `warmup` seconds, then measure for `seconds`."""
    if warmup > 0:
        await run_for(concurrency, warmup, operation)
    return await run_for(concurrency, seconds, operation)


# --- jobs -------------------------------------------------------------------------------------


async def job_get(job: Job) -> Measured:
    users = clients(job["concurrency"])
    headers = job.get("headers", {})

    async def get(index: int) -> int:
        answer = await users[index].get(job["url"], headers=headers)
        if answer.status_code != 200:
            raise FlowError(f"GET {job['url']} → {answer.status_code}")
        return 1

    try:
        return await warmed(job["concurrency"], job["warmup"], job["seconds"], get)
    finally:
        await close_all(users)


async def job_flows(job: Job) -> Measured:
    """Whole code flows; with `fresh_login` every flow starts from an empty cookie jar."""
    provider = Provider(**job["provider"])
    users = clients(job["concurrency"])
    fresh = bool(job["fresh_login"])

    async def flow(index: int) -> int:
        if fresh:
            users[index].cookies.clear()
        return await whole_flow(users[index], provider)

    try:
        # Every browser signs in (and consents, the first time) before anything is timed.
        await asyncio.gather(*(whole_flow(user, provider) for user in users))
        return await warmed(job["concurrency"], job["warmup"], job["seconds"], flow)
    finally:
        await close_all(users)


async def issue_codes(users: list[httpx.AsyncClient], provider: Provider, count: int) -> list[Code]:
    """`count` codes, issued by signed-in browsers (consent remembered) before any is redeemed."""
    await asyncio.gather(*(whole_flow(user, provider) for user in users))
    codes: list[Code] = []

    async def issue(index: int, _: int) -> int:
        codes.append(await get_code(users[index], provider))
        return 1

    measured = await run_each(len(users), list(range(count)), issue)
    if measured.errors:
        raise FlowError(f"issuing codes: {measured.first_error}")
    return codes


async def job_redeem(job: Job) -> Measured:
    """Code redemption alone: the codes are issued first, then redeemed one each."""
    provider = Provider(**job["provider"])
    issuers = clients(min(16, job["count"]))
    users = clients(job["concurrency"])
    warmup = min(job["count"], 2 * job["concurrency"])
    try:
        codes = await issue_codes(issuers, provider, job["count"] + warmup)

        async def redeem_one(index: int, code: Code) -> int:
            await redeem(users[index], provider, code)
            return 1

        await run_each(job["concurrency"], codes[:warmup], redeem_one)
        return await run_each(job["concurrency"], codes[warmup:], redeem_one)
    finally:
        await close_all(issuers + users)


async def job_refresh(job: Job) -> Measured:
    """Refresh chains: each virtual user holds one refresh token and trades it, again and
    again, for the next one (rotation: a refresh token is good for one use)."""
    provider = Provider(**job["provider"])
    users = clients(job["concurrency"])
    tokens: list[str] = []
    try:
        for user in users:
            code = await get_code(user, provider)
            first = await redeem(user, provider, code)
            if first.refresh_token is None:
                raise FlowError(f"{provider.name} gave no refresh token with the code")
            tokens.append(first.refresh_token)

        async def refresh_one(index: int) -> int:
            answer = await refresh(users[index], provider, tokens[index])
            if answer.refresh_token is None:
                raise FlowError(f"{provider.name} gave no new refresh token")
            tokens[index] = answer.refresh_token
            return 1

        return await warmed(job["concurrency"], job["warmup"], job["seconds"], refresh_one)
    finally:
        await close_all(users)


async def job_client_credentials(job: Job) -> Measured:
    provider = Provider(**job["provider"])
    users = clients(job["concurrency"])

    async def one(index: int) -> int:
        await client_credentials(users[index], provider)
        return 1

    try:
        return await warmed(job["concurrency"], job["warmup"], job["seconds"], one)
    finally:
        await close_all(users)


async def job_grid(job: Job) -> Measured:
    """AwesomeService's photo grid: one browser connects Mockgram for John's account, then
    every browser (each signed in to AwesomeService as John) loads the grid and its images."""
    shop = PrintShop(**job["shop"])
    users = clients(job["concurrency"])

    async def page(index: int) -> int:
        return await load_photo_grid(users[index], shop)

    try:
        await sign_in_to_print_shop(users[0], shop)
        await connect_print_shop(users[0], shop)
        await asyncio.gather(*(sign_in_to_print_shop(user, shop) for user in users[1:]))
        return await warmed(job["concurrency"], job["warmup"], job["seconds"], page)
    finally:
        await close_all(users)


async def job_tokens(job: Job) -> dict[str, Any]:
    """One real code flow and redemption: the bearer token the API rows send."""
    provider = Provider(**job["provider"])
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        tokens = await redeem(http, provider, await get_code(http, provider))
    return {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token}


def job_argon2(job: Job) -> dict[str, Any]:
    """The app's own password check alone (shared/hashing.py), with its parameters."""
    hashing = importlib.import_module("shared.hashing")
    hasher = hashing.hasher
    stored = hashing.hash_password("benchmark password")
    timings: list[float] = []
    for _ in range(job["count"]):
        start = time.perf_counter()
        if not hashing.verify_password(stored, "benchmark password"):
            raise RuntimeError("argon2 verify failed on its own hash")
        timings.append(time.perf_counter() - start)
    return {
        "p50_ms": statistics.median(timings) * 1000,
        "p99_ms": percentile(sorted(timings), 99) * 1000,
        "time_cost": hasher.time_cost,
        "memory_cost_kib": hasher.memory_cost,
        "parallelism": hasher.parallelism,
    }


def job_in_process(job: Job) -> dict[str, Any]:
    """`create_app(settings)` on in-memory SQLite, as the tests build apps, in this fresh
    process: the imports, the first build, and later builds (median)."""
    app_name: str = job["app"]
    start = time.perf_counter()
    app_module = importlib.import_module(f"{app_name}.app")
    settings_module = importlib.import_module(f"{app_name}.settings")
    imports = time.perf_counter() - start
    if job["profile"] == "tests":
        tests_profile(app_name)
    settings_class = (
        settings_module.MockgramSettings
        if app_name == "mockgram"
        else settings_module.AwesomeServiceSettings
    )
    extra = {} if app_name == "mockgram" else {"doctor_on_start": False}

    def build() -> float:
        settings = settings_class(
            database_url="sqlite://", seed_demo_data=job["seed"], demo=True, **extra
        )
        began = time.perf_counter()
        app_module.create_app(settings)
        return time.perf_counter() - began

    first = build()
    again = [build() for _ in range(job["repeats"])]
    return {
        "imports_ms": imports * 1000,
        "first_ms": first * 1000,
        "again_ms": statistics.median(again) * 1000,
    }


def tests_profile(app_name: str) -> None:
    """What tests/conftest.py changes: the cheapest argon2id, and signing keys made once."""
    argon2 = importlib.import_module("argon2")
    hashing = importlib.import_module("shared.hashing")
    hashing.hasher = argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    if app_name == "mockgram":
        keys = importlib.import_module("mockgram.keys")
        made: dict[str, Any] = {}
        real = keys._generate

        def pooled(alg: str) -> Any:
            if alg not in made:
                made[alg] = real(alg)
            return made[alg]

        keys._generate = pooled


ASYNC_JOBS: dict[str, Callable[[Job], Awaitable[Measured]]] = {
    "get": job_get,
    "flows": job_flows,
    "redeem": job_redeem,
    "refresh": job_refresh,
    "client_credentials": job_client_credentials,
    "grid": job_grid,
}
SYNC_JOBS: dict[str, Callable[[Job], dict[str, Any]]] = {
    "argon2": job_argon2,
    "in_process": job_in_process,
}


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when it is installed (as uvicorn does): the driver should be the cheaper
    side of every measurement."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def main() -> None:
    job: Job = json.loads(sys.stdin.read())
    SERVER_PIDS[:] = job.get("server_pids", [])
    if job.get("source"):
        sys.path.insert(0, job["source"])  # the checkout being measured comes first
    kind = job["kind"]
    try:
        if kind in SYNC_JOBS:
            result = SYNC_JOBS[kind](job)
        elif kind == "tokens":
            result = run_async(job_tokens(job))
        else:
            measured = run_async(ASYNC_JOBS[kind](job))
            result = measured.summary()
    except Exception as exc:  # reported to the harness, which marks the row failed
        result = {"error": describe(exc)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
