"""The servers under test: each in its own process on a free loopback port, its output in a log.

Mockgram and AwesomeService run as `python -m mockgram` / `python -m awesomeservice` (their
real command, shared/serve.py), configured only through MOCKGRAM_* / AWESOMESERVICE_* variables,
each with a fresh SQLite file. The ceiling is uvicorn serving benchmarks/ceiling_app.py; node
oidc-provider runs benchmarks/node/provider.mjs.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

BENCHMARKS = Path(__file__).resolve().parent
ROOT = BENCHMARKS.parent
NODE_DIR = BENCHMARKS / "node"
# The apps' own settings: a stray one in this environment would change what is measured.
APP_PREFIXES = ("MOCKGRAM_", "AWESOMESERVICE_")
READY_DEADLINE_SECONDS = 90.0
POLL_SECONDS = 0.01


class ServerFailed(RuntimeError):
    """A server did not start, or stopped; the message carries the end of its log."""


def free_port() -> int:
    """A loopback port that was free a moment ago (the server binds it itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path
    started_in: float = 0.0  # seconds from spawning the process to the first 200

    def log_tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise ServerFailed(
                f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
            )

    def peak_rss_mib(self) -> float | None:
        """The process's peak resident set (VmHWM), read from /proc while it still runs."""
        return proc_status_mib(self.process.pid, "VmHWM")

    def rss_mib(self) -> float | None:
        """The process's resident set now (VmRSS)."""
        return proc_status_mib(self.process.pid, "VmRSS")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def proc_status_mib(pid: int, field: str) -> float | None:
    """A memory field of /proc/<pid>/status (Linux); psutil's current RSS where /proc is
    missing (psutil cannot tell the peak on Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import psutil  # optional: only where /proc is missing
    except ImportError:
        return None
    return float(psutil.Process(pid).memory_info().rss) / 2**20


def cpu_seconds(pids: list[int]) -> float | None:
    """CPU time (user + system, all threads) the processes have used so far; None without /proc.

    Read around a measurement, it gives the server's CPU per operation: unlike the rate, it
    hardly moves when other work on the machine takes cores away."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def wait_ready(server: Server, path: str, started: float) -> None:
    """Poll until `path` answers 200; record the time since `started` (the spawn)."""
    pause = threading.Event()
    deadline = started + READY_DEADLINE_SECONDS
    url = server.base_url + path
    with httpx.Client(timeout=2.0) as http:
        while time.perf_counter() < deadline:
            server.check_alive()
            try:
                if http.get(url).status_code == 200:
                    server.started_in = time.perf_counter() - started
                    return
            except httpx.TransportError:
                pass
            pause.wait(POLL_SECONDS)
    raise ServerFailed(
        f"{url} did not answer 200 within {READY_DEADLINE_SECONDS} s:\n{server.log_tail()}"
    )


def ready_or_stopped(server: Server, path: str, started: float) -> None:
    """Wait until the server is ready; stop it if it never gets there (or we are stopped)."""
    try:
        wait_ready(server, path, started)
    except BaseException:
        server.stop()
        raise


def spawn(
    name: str, command: list[str], *, env: dict[str, str], cwd: Path, log_dir: Path, port: int
) -> tuple[Server, float]:
    """Start `command` with this environment, less any app setting, plus `env`."""
    log = log_dir / f"{name}-{port}.log"
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(APP_PREFIXES)}
    started = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter, node and modules
            command, env=inherited | env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT
        )
    return Server(name, f"http://127.0.0.1:{port}", process, log), started


def start_app(
    package: str,
    env: dict[str, str],
    *,
    port: int,
    log_dir: Path,
    source: Path,
    name: str | None = None,
    ready_path: str = "/healthz",
) -> Server:
    """`python -m <package>` from `source`, as deployed (one uvicorn worker)."""
    command = [sys.executable, "-m", package, "--host", "127.0.0.1", "--port", str(port)]
    pythonpath = os.pathsep.join(filter(None, [str(source), os.environ.get("PYTHONPATH")]))
    server, started = spawn(
        name or package,
        command,
        env={**env, "PYTHONPATH": pythonpath},
        cwd=source,
        log_dir=log_dir,
        port=port,
    )
    ready_or_stopped(server, ready_path, started)
    return server


def start_ceiling(*, log_dir: Path) -> Server:
    """uvicorn with its defaults (uvloop, httptools, access log on, as the apps have)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "benchmarks.ceiling_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    server, started = spawn("ceiling", command, env={}, cwd=ROOT, log_dir=log_dir, port=port)
    ready_or_stopped(server, "/", started)
    return server


def node_missing() -> str | None:
    """Why node oidc-provider cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed (Debian: apt-get install -y nodejs npm)"
    if not (NODE_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        npm = shutil.which("npm")
        if npm is None:
            return "npm is not installed (Debian: apt-get install -y npm)"
        print("» npm install (oidc-provider, first run only) …", flush=True)
        done = subprocess.run(  # noqa: S603
            [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            return f"npm install failed: {(done.stderr or done.stdout).strip()[-500:]}"
    return None


def node_version() -> str | None:
    package = NODE_DIR / "node_modules" / "oidc-provider" / "package.json"
    if not package.exists():
        return None
    return str(json.loads(package.read_text())["version"])


def start_node(*, log_dir: Path, client_id: str, client_secret: str, redirect_uri: str) -> Server:
    node = shutil.which("node")
    if node is None:
        raise ServerFailed("node is not installed")
    port = free_port()
    env = {
        "PORT": str(port),
        "ISSUER": f"http://127.0.0.1:{port}",
        "CLIENT_ID": client_id,
        "CLIENT_SECRET": client_secret,
        "REDIRECT_URI": redirect_uri,
        "NODE_ENV": "production",
    }
    server, started = spawn(
        "node",
        [node, str(NODE_DIR / "provider.mjs")],
        env=env,
        cwd=NODE_DIR,
        log_dir=log_dir,
        port=port,
    )
    ready_or_stopped(server, "/.well-known/openid-configuration", started)
    return server
