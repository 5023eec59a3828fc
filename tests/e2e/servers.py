"""Real servers on free loopback ports: an ASGI app in a background thread (`serve`), or an
app's own command `python -m <app>` in a subprocess, with workers if asked (`serve_process`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI


def bind_free_port() -> socket.socket:
    """A listening-ready socket on 127.0.0.1 with a port the OS picked."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve(make_app: Callable[[str], FastAPI], **options: Any) -> Iterator[str]:
    """Serve `make_app(base_url)` until the block ends; yields the base URL.

    `options` go to uvicorn's Config (say, `http=` the protocol `python -m <app>` uses)."""
    sock = bind_free_port()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(
        uvicorn.Config(
            make_app(base_url), log_level="warning", lifespan="on", access_log=False, **options
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    started = threading.Event()
    # Poll the server's own flag; no sleeping on a guess.
    while not server.started and thread.is_alive():
        started.wait(0.02)
    if not server.started:
        raise RuntimeError("the server did not start")
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def free_port() -> int:
    """A loopback port that was free a moment ago (for servers that bind it themselves)."""
    with bind_free_port() as sock:
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A `python -m <app>` server running in its own process (or processes, with workers)."""

    base_url: str
    process: subprocess.Popen[bytes]
    log: Path
    workers: int = 1

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until_ready(self, ready_path: str = "/.well-known/oauth-authorization-server") -> None:
        wait_until_ready(
            self.base_url + ready_path, process=self.process, log=self.log, workers=self.workers
        )


READY_PATH = "/.well-known/oauth-authorization-server"


def wait_until_ready(
    url: str,
    *,
    process: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
    workers: int = 1,
    deadline_seconds: float = 60.0,
) -> None:
    """Poll `url` until it answers 200 (and, with workers, until each announced its start).

    Polling with a deadline: no sleep stands in for "it is probably up by now".
    """
    pause = threading.Event()
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            detail = log.read_text(errors="replace") if log else ""
            raise RuntimeError(f"the server exited with {process.returncode}:\n{detail}")
        started = log is None or (
            log.read_text(errors="replace").count("Application startup complete") >= workers
        )
        try:
            if started and httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        pause.wait(0.05)
    detail = log.read_text(errors="replace") if log else ""
    raise RuntimeError(f"{url} was not ready within {deadline_seconds} s:\n{detail}")


@contextmanager
def serve_process(
    package: str,
    env: dict[str, str],
    *,
    log_dir: Path,
    port: int | None = None,
    workers: int = 1,
    ready_path: str = READY_PATH,
    wait: bool = True,
) -> Iterator[ServerProcess]:
    """Run `python -m <package> --port P [--workers N]` with `env` added; stop it afterwards.

    With `wait=False` it yields at once (to start several together); call `wait_until_ready`.
    """
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = log_dir / f"{package}-{port}.log"
    command = [sys.executable, "-m", package, "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command,
            env={**os.environ, **env},
            cwd=Path(__file__).resolve().parents[2],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(base_url, process, log, workers)
    try:
        if wait:
            server.wait_until_ready(ready_path)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
