"""The benchmark run: start the servers, measure each row, print the table, write the JSON.

Sections (the row numbers of benchmarks/README.md):
 1 the ceiling: a bare FastAPI hello on uvicorn, by wrk and by the flow driver
 2 discovery document and JWKS (Mockgram vs node oidc-provider)
 3 photos API list and userinfo with a bearer token from a real code flow
 4 the token endpoint alone: code redemption, refresh, client credentials if advertised
 5 whole code flows, sign-in and consent remembered, one after another and N at once
 6 the same with a fresh sign-in each time, beside the cost of one argon2 verify
 7 AwesomeService's photo grid (page and images) for a connected user
 8 start-up to the first 200, and in-process create_app() as the tests build apps
 9 peak RSS of each server after the load of sections 1–7
"""

from __future__ import annotations

import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from benchmarks.flows import FlowError, Provider
from benchmarks.loadgen import GetLoad, LoadFailed, Sample, get_load, run_driver, wrk_version
from benchmarks.report import FAILED, LEGEND, SKIPPED, Row, add_ratios, table, write_json
from benchmarks.servers import (
    BENCHMARKS,
    ROOT,
    Server,
    ServerFailed,
    free_port,
    node_missing,
    node_version,
    start_app,
    start_ceiling,
    start_node,
)

SECTIONS = frozenset(range(1, 10))
MOCKGRAM_PASSWORD = "mockgram-demo"  # shared/demo.py MOCKGRAM_PASSWORD (demo mode)
AWESOME_PASSWORD = "awesome-demo"  # shared/demo.py AWESOMESERVICE_PASSWORD (demo mode)
CLIENT_ID = "awesomeservice"  # the client Mockgram seeds for AwesomeService
CLIENT_SECRET = "awesomeservice-demo-secret"
NODE_CLIENT_ID = "bench"
NODE_CLIENT_SECRET = "bench-secret"
NODE_REDIRECT_URI = "http://127.0.0.1:9/callback"  # never visited: the driver reads the redirect
APP_FOLDERS = ("mockgram", "awesomeservice", "shared")
Measure = Callable[[], Sample]


@dataclass(frozen=True)
class Config:
    seconds: int = 5
    rounds: int = 3
    warmup: int = 1
    threads: int = 2
    connections: int = 32
    concurrency: int = 16
    token_count: int = 300
    startup_rounds: int = 3
    python_load: bool = False
    source: Path = ROOT
    output: Path = BENCHMARKS / "results" / "latest.json"
    sections: frozenset[int] = SECTIONS


@dataclass
class Running:
    """The long-lived servers of sections 1–7, and why any of them is missing."""

    ceiling: Server | None = None
    mockgram: Server | None = None
    awesome: Server | None = None
    node: Server | None = None
    mockgram_metadata: dict[str, Any] = field(default_factory=dict)
    node_metadata: dict[str, Any] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)

    def all(self) -> list[Server]:
        return [s for s in (self.ceiling, self.mockgram, self.awesome, self.node) if s is not None]


class Bench:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.rows: list[Row] = []
        self.load: GetLoad = get_load(
            threads=config.threads, connections=config.connections, prefer_python=config.python_load
        )
        self.work = Path(tempfile.mkdtemp(prefix="mockgram-bench-"))
        self.logs = config.output.parent / "logs"
        self.running = Running()
        self.mockgram_port = free_port()
        self.awesome_port = free_port()

    # --- servers ------------------------------------------------------------------------------

    def mockgram_env(self, database: Path, *, seed: bool = True) -> dict[str, str]:
        return {
            "MOCKGRAM_ISSUER": f"http://127.0.0.1:{self.mockgram_port}",
            "MOCKGRAM_DATABASE_URL": f"sqlite:///{database}",
            "MOCKGRAM_SEED_DEMO_DATA": str(seed).lower(),
            "MOCKGRAM_DEMO": "true",  # the flows sign in with the published demo secrets
            # Every flow comes from 127.0.0.1: the per-address limits would stop the load.
            "MOCKGRAM_AUTHORIZATION_REQUESTS_PER_HOUR": "0",
            "MOCKGRAM_REGISTRATIONS_PER_HOUR": "0",
            "AWESOMESERVICE_URL": f"http://127.0.0.1:{self.awesome_port}",
        }

    def awesome_env(self, database: Path, port: int, *, seed: bool = True) -> dict[str, str]:
        return {
            "AWESOMESERVICE_URL": f"http://127.0.0.1:{port}",
            "AWESOMESERVICE_MOCKGRAM_URL": f"http://127.0.0.1:{self.mockgram_port}",
            "AWESOMESERVICE_DATABASE_URL": f"sqlite:///{database}",
            "AWESOMESERVICE_SEED_DEMO_DATA": str(seed).lower(),
            "AWESOMESERVICE_DEMO": "true",
        }

    def start_servers(self) -> None:
        if self.logs.exists():
            shutil.rmtree(self.logs)
        self.logs.mkdir(parents=True)
        running = self.running
        source = self.config.source
        try:
            running.ceiling = start_ceiling(log_dir=self.logs)
        except ServerFailed as exc:
            running.missing["ceiling"] = str(exc)
        try:
            running.mockgram = start_app(
                "mockgram",
                self.mockgram_env(self.work / "mockgram.db"),
                port=self.mockgram_port,
                log_dir=self.logs,
                source=source,
            )
            running.mockgram_metadata = fetch_metadata(running.mockgram.base_url)
        except (ServerFailed, httpx.HTTPError, ValueError) as exc:
            running.missing["mockgram"] = str(exc)
        try:
            running.awesome = start_app(
                "awesomeservice",
                self.awesome_env(self.work / "awesomeservice.db", self.awesome_port),
                port=self.awesome_port,
                log_dir=self.logs,
                source=source,
            )
        except ServerFailed as exc:
            running.missing["awesomeservice"] = str(exc)
        why_not = node_missing()
        if why_not is not None:
            running.missing["node"] = why_not
        else:
            try:
                running.node = start_node(
                    log_dir=self.logs,
                    client_id=NODE_CLIENT_ID,
                    client_secret=NODE_CLIENT_SECRET,
                    redirect_uri=NODE_REDIRECT_URI,
                )
                running.node_metadata = fetch_metadata(running.node.base_url)
            except (ServerFailed, httpx.HTTPError, ValueError) as exc:
                running.missing["node"] = str(exc)
        for name, why in running.missing.items():
            print(f"» {name} is not running: {why}", flush=True)

    def stop_servers(self) -> None:
        for server in self.running.all():
            server.stop()

    # --- providers ----------------------------------------------------------------------------

    def mockgram_provider(self) -> Provider:
        metadata = self.running.mockgram_metadata
        return Provider(
            name="mockgram",
            authorization_endpoint=metadata["authorization_endpoint"],
            token_endpoint=metadata["token_endpoint"],
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            redirect_uri=f"http://127.0.0.1:{self.awesome_port}/connect/callback",
            scope="openid profile photos.read",
            username="john",
            password=MOCKGRAM_PASSWORD,
            consent_marker="/consent",
        )

    def node_provider(self) -> Provider:
        metadata = self.running.node_metadata
        return Provider(
            name="node",
            authorization_endpoint=metadata["authorization_endpoint"],
            token_endpoint=metadata["token_endpoint"],
            client_id=NODE_CLIENT_ID,
            client_secret=NODE_CLIENT_SECRET,
            redirect_uri=NODE_REDIRECT_URI,
            scope="openid profile",
            username="john",
            password="devInteractions-checks-no-password",
            consent_marker="/interaction/",
        )

    def why_missing(self, *names: str) -> str | None:
        for name in names:
            if name in self.running.missing:
                return f"{name} is not running: {self.running.missing[name].splitlines()[0]}"
        return None

    # --- measuring ----------------------------------------------------------------------------

    def measure(
        self,
        *,
        section: int,
        label: str,
        key: str,
        unit: str,
        generator: str,
        concurrency: int | None,
        targets: list[tuple[str, Measure | str]],
        note: str = "",
    ) -> None:
        """Measure each target `rounds` times, alternating targets within a round, and add
        one row per target with the medians. A target given as a string is skipped (why)."""
        samples: dict[str, list[Sample]] = {name: [] for name, _ in targets}
        problems = {name: how for name, how in targets if isinstance(how, str)}
        skipped = set(problems)
        for _ in range(self.config.rounds):
            for name, how in targets:
                if name in problems or isinstance(how, str):
                    continue
                try:
                    sample = how()
                except (LoadFailed, ServerFailed, FlowError, httpx.HTTPError) as exc:
                    problems[name] = str(exc)
                    continue
                samples[name].append(sample)
                if sample.ops == 0 or sample.errors > max(2, sample.ops // 100):
                    problems[name] = (
                        f"{sample.errors} errors, {sample.ops} done: {sample.first_error}"
                    )
        for name, _ in targets:
            row = Row(section, label, name, generator, concurrency, unit, key=key, note=note)
            taken = samples[name]
            row.rounds = [asdict(sample) for sample in taken]
            if name in problems:
                row.status = SKIPPED if name in skipped else FAILED
                row.note = one_line(problems[name])
            else:
                row.value = statistics.median(s.rate for s in taken)
                row.p50_ms = median_of(s.p50_ms for s in taken)
                row.p99_ms = median_of(s.p99_ms for s in taken)
                row.cpu_ms_per_op = median_of(s.server_cpu_ms_per_op for s in taken)
                row.requests_per_op = statistics.median(
                    s.requests_per_s / s.rate for s in taken if s.rate
                )
                errors = sum(s.errors for s in taken)
                row.note = "; ".join(
                    filter(
                        None,
                        [
                            f"{row.requests_per_op:.0f} requests each" if unit != "req/s" else "",
                            note,
                            f"{errors} errors" if errors else "",
                        ],
                    )
                )
            self.add(row)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        shown = f"{row.value:,.1f} {row.unit}" if row.value is not None else row.status.upper()
        concurrency = "" if row.concurrency is None else f" ×{row.concurrency}"
        extra = f"  ({row.note})" if row.note else ""
        print(
            f"  {row.section} {row.label} — {row.target}{concurrency}: {shown}{extra}", flush=True
        )

    def pids_of(self, target: str) -> list[int]:
        """The processes whose CPU a target's measurement uses (the grid uses both apps)."""
        running = self.running
        servers = {
            "ceiling": [running.ceiling],
            "mockgram": [running.mockgram],
            "node": [running.node],
            "awesomeservice": [running.awesome, running.mockgram],
        }[target]
        return [server.process.pid for server in servers if server is not None]

    def get_target(self, target: str, url: str, headers: dict[str, str] | None = None) -> Measure:
        """A GET row's measurement: check the answer is a 200 once, then load it."""
        sent = headers or {}

        def measure() -> Sample:
            answer = httpx.get(url, headers=sent, timeout=10)
            if answer.status_code != 200:
                raise LoadFailed(f"GET {url} → {answer.status_code}: {answer.text[:200]}")
            return self.load.get(
                url,
                headers=sent,
                seconds=self.config.seconds,
                warmup=self.config.warmup,
                server_pids=self.pids_of(target),
            )

        return measure

    def driver_target(self, target: str, job: dict[str, Any]) -> Measure:
        full = {
            "seconds": self.config.seconds,
            "warmup": self.config.warmup,
            "server_pids": self.pids_of(target),
            **job,
        }
        return lambda: Sample.from_driver(run_driver(full))

    def levels(self) -> list[int]:
        """'One after another' and 'N at once'."""
        return sorted({1, self.config.concurrency})

    # --- sections -----------------------------------------------------------------------------

    def section_1_ceiling(self) -> None:
        why = self.why_missing("ceiling")
        base = self.running.ceiling.base_url if self.running.ceiling else ""
        for label, path, key in (
            ("FastAPI hello, async def", "/", "ceiling"),
            ("FastAPI hello, def (thread pool)", "/sync", "ceiling-sync"),
        ):
            self.measure(
                section=1,
                label=label,
                key=key,
                unit="req/s",
                generator=self.load.name,
                concurrency=self.load.connections,
                targets=[("ceiling", why or self.get_target("ceiling", base + path))],
            )
        for level in self.levels():
            job = {"kind": "get", "url": base + "/", "concurrency": level}
            self.measure(
                section=1,
                label="FastAPI hello, by the flow driver",
                key="ceiling",
                unit="req/s",
                generator="driver",
                concurrency=level,
                targets=[("ceiling", why or self.driver_target("ceiling", job))],
            )

    def pair(
        self, mockgram: Callable[[], Measure], node: Callable[[], Measure]
    ) -> list[tuple[str, Measure | str]]:
        """The (mockgram, node) targets of a row, or why each cannot run."""
        return [
            ("mockgram", self.why_missing("mockgram") or mockgram()),
            ("node", self.why_missing("node") or node()),
        ]

    def endpoint(self, target: str, name: str) -> str:
        """An address from a provider's discovery document (or the document's own)."""
        server = self.running.mockgram if target == "mockgram" else self.running.node
        metadata = (
            self.running.mockgram_metadata if target == "mockgram" else self.running.node_metadata
        )
        if name == "discovery" and server is not None:
            return f"{server.base_url}/.well-known/openid-configuration"
        return str(metadata[name])

    def section_2_discovery(self) -> None:
        for label, key, name in (
            ("discovery document", "discovery", "discovery"),
            ("JWKS", "jwks", "jwks_uri"),
        ):
            self.measure(
                section=2,
                label=label,
                key=key,
                unit="req/s",
                generator=self.load.name,
                concurrency=self.load.connections,
                targets=self.pair(
                    partial(self.get_endpoint, "mockgram", name),
                    partial(self.get_endpoint, "node", name),
                ),
            )

    def get_endpoint(self, target: str, name: str) -> Measure:
        return self.get_target(target, self.endpoint(target, name))

    def bearer(self, provider: Provider) -> dict[str, str]:
        """A bearer token from one real code flow (the flow driver, in its own process)."""
        tokens = run_driver({"kind": "tokens", "provider": provider.as_dict()})
        return {"Authorization": f"Bearer {tokens['access_token']}"}

    def with_bearer(
        self, target: str, provider: Callable[[], Provider], url: Callable[[], str]
    ) -> Measure:
        """A GET row with a fresh bearer token for each round."""

        def measure() -> Sample:
            return self.get_target(target, url(), self.bearer(provider()))()

        return measure

    def section_3_api(self) -> None:
        mockgram = self.running.mockgram
        photos = self.with_bearer(
            "mockgram",
            self.mockgram_provider,
            lambda: f"{mockgram.base_url}/api/photos" if mockgram else "",
        )
        self.measure(
            section=3,
            label="photos API: list John's photos",
            key="photos",
            unit="req/s",
            generator=self.load.name,
            concurrency=self.load.connections,
            targets=[("mockgram", self.why_missing("mockgram") or photos)],
        )
        self.measure(
            section=3,
            label="userinfo with a bearer token",
            key="userinfo",
            unit="req/s",
            generator=self.load.name,
            concurrency=self.load.connections,
            targets=self.pair(
                lambda: self.with_bearer(
                    "mockgram",
                    self.mockgram_provider,
                    partial(self.endpoint, "mockgram", "userinfo_endpoint"),
                ),
                lambda: self.with_bearer(
                    "node", self.node_provider, partial(self.endpoint, "node", "userinfo_endpoint")
                ),
            ),
        )

    def driver_pair(self, job: dict[str, Any]) -> list[tuple[str, Measure | str]]:
        return self.pair(
            lambda: self.driver_target(
                "mockgram", {**job, "provider": self.mockgram_provider().as_dict()}
            ),
            lambda: self.driver_target("node", {**job, "provider": self.node_provider().as_dict()}),
        )

    def section_4_token(self) -> None:
        for level in self.levels():
            self.measure(
                section=4,
                label="token: redeem a code (codes issued first)",
                key="redeem",
                unit="req/s",
                generator="driver",
                concurrency=level,
                targets=self.driver_pair(
                    {"kind": "redeem", "count": self.config.token_count, "concurrency": level}
                ),
                note=f"{self.config.token_count} codes",
            )
        for level in self.levels():
            self.measure(
                section=4,
                label="token: refresh (each token used once)",
                key="refresh",
                unit="req/s",
                generator="driver",
                concurrency=level,
                targets=self.driver_pair({"kind": "refresh", "concurrency": level}),
                note="rotating chains",
            )
        grants = self.running.mockgram_metadata.get("grant_types_supported", [])
        if "client_credentials" not in grants:
            self.add(
                Row(
                    4,
                    "token: client credentials",
                    "mockgram",
                    "driver",
                    None,
                    "req/s",
                    status=SKIPPED,
                    key="client_credentials",
                    note="SKIP: Mockgram does not advertise client_credentials "
                    "(grant_types_supported); measured once it does",
                )
            )
            return
        for level in self.levels():
            self.measure(
                section=4,
                label="token: client credentials",
                key="client_credentials",
                unit="req/s",
                generator="driver",
                concurrency=level,
                targets=self.driver_pair({"kind": "client_credentials", "concurrency": level}),
            )

    def section_flows(self, *, fresh_login: bool) -> None:
        section = 6 if fresh_login else 5
        label = (
            "code flow, fresh sign-in each time"
            if fresh_login
            else "code flow, sign-in and consent remembered"
        )
        for level in self.levels():
            self.measure(
                section=section,
                label=label,
                key="flow-fresh" if fresh_login else "flow-remembered",
                unit="flows/s",
                generator="driver",
                concurrency=level,
                targets=self.driver_pair(
                    {"kind": "flows", "concurrency": level, "fresh_login": fresh_login}
                ),
            )
        if fresh_login:
            self.argon2_row()

    def argon2_row(self) -> None:
        row = Row(6, "argon2id verify alone (shared/hashing.py)", "argon2", "-", 1, "ms")
        try:
            result = run_driver({"kind": "argon2", "count": 20, "source": str(self.config.source)})
        except LoadFailed as exc:
            row.status, row.note = FAILED, one_line(str(exc))
        else:
            row.value = row.p50_ms = result["p50_ms"]
            row.p99_ms = result["p99_ms"]
            per_core = 1000 / result["p50_ms"]
            row.note = (
                f"t={result['time_cost']} m={result['memory_cost_kib'] // 1024} MiB "
                f"p={result['parallelism']}: ≤{per_core:.0f} sign-ins/s per core; "
                "node's devInteractions checks no password"
            )
        self.add(row)

    def section_7_grid(self) -> None:
        awesome = self.running.awesome
        why = self.why_missing("awesomeservice", "mockgram")
        for level in self.levels():
            job = {
                "kind": "grid",
                "concurrency": level,
                "shop": {
                    "base_url": awesome.base_url if awesome else "",
                    "username": "john",
                    "password": AWESOME_PASSWORD,
                    "mockgram_url": f"http://127.0.0.1:{self.mockgram_port}",
                    "mockgram_username": "john",
                    "mockgram_password": MOCKGRAM_PASSWORD,
                },
            }
            self.measure(
                section=7,
                label="AwesomeService photo grid + its images",
                key="grid",
                unit="pages/s",
                generator="driver",
                concurrency=level,
                targets=[("awesomeservice", why or self.driver_target("awesomeservice", job))],
                note="each image is fetched from Mockgram's API",
            )

    def section_9_rss(self) -> None:
        for server in self.running.all():
            row = Row(9, "peak RSS (VmHWM) after the load", server.name, "-", None, "MiB")
            row.value = server.peak_rss_mib()
            if row.value is None:
                row.status, row.note = FAILED, "neither /proc nor psutil can tell"
            elif (now := server.rss_mib()) is not None:
                row.note = f"{now:,.0f} MiB resident at the end"
            self.add(row)

    def section_8_startup(self) -> None:
        cases: list[tuple[str, str, bool]] = [
            ("mockgram", "mockgram", True),
            ("mockgram", "mockgram", False),
            ("awesomeservice", "awesomeservice", True),
            ("awesomeservice", "awesomeservice", False),
        ]
        for target, package, seed in cases:
            times: list[float] = []
            problem = None
            for index in range(self.config.startup_rounds):
                folder = self.work / f"startup-{package}-{seed}-{index}"
                folder.mkdir()
                database = folder / f"{package}.db"
                port = free_port()
                env = (
                    self.mockgram_env(database, seed=seed)
                    if package == "mockgram"
                    else self.awesome_env(database, port, seed=seed)
                )
                try:
                    server = start_app(
                        package,
                        env,
                        port=port,
                        log_dir=self.logs,
                        source=self.config.source,
                        name=f"startup-{package}",
                    )
                except ServerFailed as exc:
                    problem = str(exc)
                    break
                server.stop()
                times.append(server.started_in * 1000)
            self.startup_row(
                f"start-up to first 200, new SQLite, seed {'on' if seed else 'off'}",
                target,
                times,
                problem,
            )
        for name, start in (
            ("node", self.start_node_once),
            ("ceiling", lambda: start_ceiling(log_dir=self.logs)),
        ):
            times, problem = [], self.why_missing(name) if name == "node" else None
            for _ in range(self.config.startup_rounds if problem is None else 0):
                try:
                    server = start()
                except ServerFailed as exc:
                    problem = str(exc)
                    break
                server.stop()
                times.append(server.started_in * 1000)
            self.startup_row("start-up to first 200 (for reference)", name, times, problem)
        self.in_process_rows()

    def start_node_once(self) -> Server:
        return start_node(
            log_dir=self.logs,
            client_id=NODE_CLIENT_ID,
            client_secret=NODE_CLIENT_SECRET,
            redirect_uri=NODE_REDIRECT_URI,
        )

    def startup_row(self, label: str, target: str, times: list[float], problem: str | None) -> None:
        row = Row(8, label, target, "-", None, "ms", rounds=[{"ms": ms} for ms in times])
        if problem is not None or not times:
            row.status, row.note = FAILED, one_line(problem or "no measurement")
        else:
            row.value = statistics.median(times)
            row.note = f"min {min(times):,.0f}, max {max(times):,.0f} ms"
        self.add(row)

    def in_process_rows(self) -> None:
        for app in ("mockgram", "awesomeservice"):
            for profile in ("production", "tests"):
                for seed in (False, True):
                    self.in_process_row(app, profile, seed)

    def in_process_row(self, app: str, profile: str, seed: bool) -> None:
        what = "tests' argon2, keys" if profile == "tests" else "real settings"
        label = f"create_app() seed {'on' if seed else 'off'}, {what}"
        row = Row(8, label, app, "-", None, "ms")
        results: list[dict[str, Any]] = []
        try:
            for _ in range(self.config.startup_rounds):
                job = {
                    "kind": "in_process",
                    "app": app,
                    "seed": seed,
                    "profile": profile,
                    "repeats": 3,
                    "source": str(self.config.source),
                }
                results.append(run_driver(job))
        except LoadFailed as exc:
            row.status, row.note = FAILED, one_line(str(exc))
        else:
            row.rounds = results
            row.value = statistics.median(r["again_ms"] for r in results)
            first = statistics.median(r["first_ms"] for r in results)
            imports = statistics.median(r["imports_ms"] for r in results)
            row.note = (
                f"value: a later build; the first: {first:,.0f} ms, after {imports:,.0f} ms "
                "of imports"
            )
        self.add(row)

    # --- the run ------------------------------------------------------------------------------

    def run(self) -> list[Row]:
        wanted = self.config.sections
        started = time.perf_counter()
        print(f"» starting the servers (logs in {self.logs}) …", flush=True)
        self.start_servers()
        try:
            steps: list[tuple[int, Callable[[], None]]] = [
                (1, self.section_1_ceiling),
                (2, self.section_2_discovery),
                (3, self.section_3_api),
                (4, self.section_4_token),
                (5, lambda: self.section_flows(fresh_login=False)),
                (6, lambda: self.section_flows(fresh_login=True)),
                (7, self.section_7_grid),
                (9, self.section_9_rss),
                (8, self.section_8_startup),
            ]
            for number, step in steps:
                if number in wanted:
                    print(f"» section {number}", flush=True)
                    step()
        finally:
            self.stop_servers()
            shutil.rmtree(self.work, ignore_errors=True)
        self.rows.sort(key=lambda row: row.section)  # stable: each section keeps its order
        add_ratios(self.rows)
        print(f"» done in {time.perf_counter() - started:,.0f} s", flush=True)
        return self.rows

    def meta(self) -> dict[str, Any]:
        config: dict[str, Any] = asdict(self.config)
        config |= {
            "source": str(self.config.source),
            "output": str(self.config.output),
            "sections": sorted(self.config.sections),
        }
        return {
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "config": config,
            "source": source_version(self.config.source),
            "machine": {
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
                "node": command_version(["node", "--version"]),
                "oidc_provider": node_version(),
                "wrk": wrk_version(),
            },
            "get_generator": self.load.name,
            "not_running": self.running.missing,
            "legend": LEGEND,
        }


def fetch_metadata(base_url: str) -> dict[str, Any]:
    answer = httpx.get(f"{base_url}/.well-known/openid-configuration", timeout=10)
    answer.raise_for_status()
    metadata: dict[str, Any] = answer.json()
    return metadata


def median_of(values: Any) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def command_version(command: list[str]) -> str | None:
    executable = shutil.which(command[0])
    if executable is None:
        return None
    done = subprocess.run(  # noqa: S603
        [executable, *command[1:]], capture_output=True, text=True, timeout=10, check=False
    )
    return done.stdout.strip() or None


def source_version(source: Path) -> dict[str, Any]:
    """Which code was measured: the commit, and whether the work tree had changes."""
    git = shutil.which("git")
    found: dict[str, Any] = {"path": str(source), "commit": None, "dirty": None}
    if git is None:
        return found
    head = subprocess.run(  # noqa: S603
        [git, "-C", str(source), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    if head.returncode == 0:
        found["commit"] = head.stdout.strip()
        status = subprocess.run(  # noqa: S603
            [git, "-C", str(source), "status", "--porcelain", "--", *APP_FOLDERS],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        found["dirty"] = bool(status.stdout.strip())
    return found


def run(config: Config) -> int:
    # A terminated run still stops its servers (the `finally` in Bench.run).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bench = Bench(config)
    rows = bench.run()
    print()
    print(table(rows))
    print()
    print(LEGEND)
    write_json(config.output, bench.meta(), rows)
    print(f"\n» written to {config.output}")
    return 0 if all(row.status != FAILED for row in rows) else 1
