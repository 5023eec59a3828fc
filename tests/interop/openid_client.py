"""panva's openid-client (npm, certified), run with node against a real Mockgram.

`npm install` runs once per checkout (the first test that needs it; the xdist workers wait on
one file lock), into tests/interop/node/node_modules. Each test runs one script from that
folder: parameters go in as JSON, one JSON answer comes back (tests/interop/node/run.mjs `run`).
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NODE_DIR = Path(__file__).resolve().parent / "node"
INSTALLED = NODE_DIR / "node_modules" / "openid-client" / "package.json"
TIMEOUT_SECONDS = 60


class NodeUnavailable(RuntimeError):
    """node or npm is missing, or npm install failed: the message says which."""


def ensure_installed() -> None:
    """npm install the pinned client libraries, once; safe from several processes at once."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise NodeUnavailable("node and npm are needed (Debian: apt-get install -y nodejs npm)")
    with (NODE_DIR / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if INSTALLED.exists():
            return
        done = subprocess.run(  # noqa: S603
            [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            raise NodeUnavailable(f"npm install failed: {(done.stderr or done.stdout)[-500:]}")


@dataclass(frozen=True)
class NodeAnswer:
    """What a script printed: its JSON answer, and whether it exited cleanly."""

    ok: bool
    body: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.body[key]


def run_script(script: str, **params: Any) -> NodeAnswer:
    """Run tests/interop/node/<script> with `params`; its JSON answer (an error is one too)."""
    ensure_installed()
    done = subprocess.run(  # noqa: S603
        ["node", script, json.dumps(params)],  # noqa: S607
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    try:
        body = json.loads(done.stdout)
    except ValueError as exc:
        raise AssertionError(
            f"{script} printed no JSON (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
        ) from exc
    return NodeAnswer(ok=done.returncode == 0, body=body)


def start_script(script: str, **params: Any) -> subprocess.Popen[str]:
    """Start tests/interop/node/<script> without waiting: for a flow the test takes part in
    while the script runs (the device flow: the script polls while the test approves)."""
    ensure_installed()
    return subprocess.Popen(  # noqa: S603
        ["node", script, json.dumps(params)],  # noqa: S607
        cwd=NODE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_interactive(
    script: str, answer_first_line: Callable[[dict[str, Any]], str], **params: Any
) -> NodeAnswer:
    """Run a script that prints one JSON line, wants one line back on stdin, then answers.

    For flows with a person in the middle: the script prints, say, its authorization URL; the
    test plays John and writes back the redirect it ended on (tests/interop/node/dpop_*.mjs).
    """
    ensure_installed()
    with subprocess.Popen(  # noqa: S603
        ["node", script, json.dumps(params)],  # noqa: S607
        cwd=NODE_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        first = json.loads(process.stdout.readline() or "{}")
        if "error" in first:
            process.kill()
            return NodeAnswer(ok=False, body=first)
        reply = answer_first_line(first)
        try:
            out, err = process.communicate(reply + "\n", timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    try:
        body = json.loads(out)
    except ValueError as exc:
        raise AssertionError(
            f"{script} printed no JSON (exit {process.returncode}):\n{out}\n{err}"
        ) from exc
    return NodeAnswer(ok=process.returncode == 0, body=body)
