"""Load generators: wrk for single-URL rows (or a Python fallback), and the flow driver process.

Both run outside the harness's process. A row's Mockgram and node measurements always use the
same generator with the same settings, so their ratio compares the servers, not the tools.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, Protocol

from benchmarks.servers import BENCHMARKS, ROOT, cpu_seconds

WRK_INSTALL_HINT = "wrk is not installed: apt-get install -y wrk (Debian/Ubuntu), brew install wrk"


WRK_ERRORS = ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")


class LoadFailed(RuntimeError):
    """The measurement could not be taken, or the server answered with errors."""


@dataclass
class Sample:
    """One measurement: completed operations per second and their latency."""

    rate: float
    p50_ms: float | None
    p99_ms: float | None
    requests_per_s: float
    ops: int
    errors: int = 0
    first_error: str | None = None
    server_cpu_ms_per_op: float | None = None  # CPU the server(s) spent per operation

    @classmethod
    def from_driver(cls, result: dict[str, Any]) -> Sample:
        return cls(
            rate=float(result["rate"]),
            p50_ms=result["p50_ms"],
            p99_ms=result["p99_ms"],
            requests_per_s=float(result["requests_per_s"]),
            ops=int(result["ops"]),
            errors=int(result["errors"]),
            first_error=result.get("first_error"),
            server_cpu_ms_per_op=result.get("server_cpu_ms_per_op"),
        )


def run_driver(job: dict[str, Any], *, timeout: float = 900.0) -> dict[str, Any]:
    """Run one job in a fresh driver process; its result, or LoadFailed with the reason."""
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "benchmarks.driver"],
            input=json.dumps(job),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise LoadFailed(f"the driver's {job['kind']} job took over {timeout:.0f} s") from exc
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise LoadFailed(f"the driver failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    if "error" in result:
        raise LoadFailed(result["error"])
    return result


class GetLoad(Protocol):
    """Something that hammers one URL with GETs for a while."""

    name: str
    connections: int

    def get(
        self,
        url: str,
        *,
        headers: dict[str, str],
        seconds: int,
        warmup: int,
        server_pids: list[int],
    ) -> Sample: ...


class Wrk:
    """wrk with `threads` threads and `connections` keep-alive connections."""

    name = "wrk"

    def __init__(self, executable: str, *, threads: int, connections: int) -> None:
        self.executable = executable
        self.threads = threads
        self.connections = connections

    def _run(self, url: str, headers: dict[str, str], seconds: int) -> dict[str, Any]:
        command = [
            self.executable,
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(BENCHMARKS / "wrk_report.lua"),
        ]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        try:
            done = subprocess.run(  # noqa: S603 - wrk, found on PATH by shutil.which
                [*command, url],
                capture_output=True,
                text=True,
                timeout=seconds + 60,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise LoadFailed(f"wrk did not finish within {seconds + 60} s") from exc
        found = re.search(r"^BENCH-JSON (\{.*\})$", done.stdout, re.MULTILINE)
        if done.returncode != 0 or found is None:
            raise LoadFailed(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
        report: dict[str, Any] = json.loads(found.group(1))
        return report

    def get(
        self,
        url: str,
        *,
        headers: dict[str, str],
        seconds: int,
        warmup: int,
        server_pids: list[int],
    ) -> Sample:
        if warmup > 0:
            self._run(url, headers, warmup)
        cpu_before = cpu_seconds(server_pids)
        report = self._run(url, headers, seconds)
        cpu_after = cpu_seconds(server_pids)
        errors = sum(report[key] for key in WRK_ERRORS)
        duration = report["duration_us"] / 1e6
        requests = report["requests"]
        return Sample(
            rate=requests / duration,
            p50_ms=report["p50_us"] / 1000,
            p99_ms=report["p99_us"] / 1000,
            requests_per_s=requests / duration,
            ops=requests,
            errors=errors,
            first_error=f"{report['status_errors']} answers were not 2xx/3xx" if errors else None,
            server_cpu_ms_per_op=(cpu_after - cpu_before) * 1000 / requests
            if cpu_before is not None and cpu_after is not None and requests
            else None,
        )


class PythonGet:
    """The fallback: the driver process's asyncio + httpx GET loop, one client per connection."""

    name = "python"

    def __init__(self, *, connections: int) -> None:
        self.connections = connections

    def get(
        self,
        url: str,
        *,
        headers: dict[str, str],
        seconds: int,
        warmup: int,
        server_pids: list[int],
    ) -> Sample:
        job = {
            "kind": "get",
            "url": url,
            "headers": headers,
            "concurrency": self.connections,
            "seconds": seconds,
            "warmup": warmup,
            "server_pids": server_pids,
        }
        return Sample.from_driver(run_driver(job))


def get_load(*, threads: int, connections: int, prefer_python: bool) -> GetLoad:
    """wrk when it is installed (and not declined), else the Python fallback, saying so."""
    executable = None if prefer_python else shutil.which("wrk")
    if executable is not None:
        return Wrk(executable, threads=threads, connections=connections)
    if not prefer_python:
        print(f"» {WRK_INSTALL_HINT}; using the slower Python load generator instead", flush=True)
    return PythonGet(connections=connections)


def wrk_version() -> str | None:
    executable = shutil.which("wrk")
    if executable is None:
        return None
    done = subprocess.run(  # noqa: S603
        [executable, "--version"], capture_output=True, text=True, timeout=10, check=False
    )
    first = (done.stdout or done.stderr).strip().splitlines()
    return first[0] if first else "wrk"
