"""Run the demo: `python3 scripts/demo.py` starts Mockgram (:8001) and AwesomeService (:8000).

Both apps run side by side with SQLite files under ./data and seeded demo data, in demo mode
(MOCKGRAM_DEMO=true, AWESOMESERVICE_DEMO=true): the demo passwords and secrets README publishes
work and are shown, so the demo listens on 127.0.0.1 (DEMO_HOST). Ctrl-C stops both.
`--lab` turns on lab mode in both apps: the attack lab may switch one defence off for one run.
Ports and URLs come from the same environment variables the apps read (see README).
The first start installs only what the apps need to run (no test tools); psycopg too when a
*_DATABASE_URL names PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bootstrap import PYTHON, ROOT, ensure_venv  # noqa: E402

MOCKGRAM_PORT = int(os.environ.get("MOCKGRAM_PORT", "8001"))
AWESOME_PORT = int(os.environ.get("AWESOMESERVICE_PORT", "8000"))
HOST = os.environ.get("DEMO_HOST", "127.0.0.1")


def _extras() -> tuple[str, ...]:
    """The `postgres` extra when either app is pointed at PostgreSQL; SQLite needs none."""
    urls = (os.environ.get(f"{app}_DATABASE_URL", "") for app in ("MOCKGRAM", "AWESOMESERVICE"))
    return ("postgres",) if any(url.startswith("postgresql") for url in urls) else ()


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((HOST, port)) != 0


def _wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own loopback server)
                return True
        except OSError:
            time.sleep(0.2)
    return False


def _stop_on_signals() -> None:
    """Ctrl-C and `kill` both end the demo cleanly (SIGINT may arrive ignored in the background)."""

    def _raise(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, _raise)
    signal.signal(signal.SIGTERM, _raise)


def main() -> int:
    ensure_venv(*_extras())
    _stop_on_signals()
    for name, port, variable in (
        ("Mockgram", MOCKGRAM_PORT, "MOCKGRAM_PORT"),
        ("AwesomeService", AWESOME_PORT, "AWESOMESERVICE_PORT"),
    ):
        if not _port_free(port):
            print(
                f"Port {port} (for {name}) is already in use. Stop what uses it, or pick another:\n"
                f"  {variable}=<port> python3 scripts/demo.py   (URLs follow the ports)"
            )
            return 1
    env = dict(os.environ)
    # Demo mode: the published demo secrets (shared/demo.py); `python -m <app>` alone has none.
    env["MOCKGRAM_DEMO"] = env["AWESOMESERVICE_DEMO"] = "true"
    lab = "--lab" in sys.argv[1:]
    if lab:
        env["MOCKGRAM_LAB_MODE"] = env["AWESOMESERVICE_LAB_MODE"] = "true"
    env.setdefault("MOCKGRAM_ISSUER", f"http://localhost:{MOCKGRAM_PORT}")
    env.setdefault("AWESOMESERVICE_URL", f"http://localhost:{AWESOME_PORT}")
    env.setdefault("AWESOMESERVICE_MOCKGRAM_URL", env["MOCKGRAM_ISSUER"])
    processes = [
        subprocess.Popen(  # noqa: S603
            [str(PYTHON), "-m", "mockgram", "--host", HOST, "--port", str(MOCKGRAM_PORT)],
            cwd=ROOT,
            env=env,
        )
    ]
    try:
        if not _wait_until_up(f"http://{HOST}:{MOCKGRAM_PORT}/", processes[0]):
            print("Mockgram did not start; see the messages above.")
            return 1
        processes.append(
            subprocess.Popen(  # noqa: S603
                [str(PYTHON), "-m", "awesomeservice", "--host", HOST, "--port", str(AWESOME_PORT)],
                cwd=ROOT,
                env=env,
            )
        )
        if not _wait_until_up(f"http://{HOST}:{AWESOME_PORT}/", processes[1]):
            print("AwesomeService did not start; see the messages above.")
            return 1
        mockgram_password = env.get("MOCKGRAM_DEMO_PASSWORD", "mockgram-demo")
        awesome_password = env.get("AWESOMESERVICE_DEMO_PASSWORD", "awesome-demo")
        print(
            "\n"
            f"  Open {env['AWESOMESERVICE_URL']}  ← start here (AwesomeService, the print shop)\n"
            f"       {env['MOCKGRAM_ISSUER']}  (Mockgram, the mock Instagram)\n\n"
            f"  Sign in to AwesomeService as john / {awesome_password}\n"
            f"  Mockgram will ask for John's Mockgram password: john / {mockgram_password}\n"
            "  (two accounts, two passwords: the print shop never sees the second one)\n\n"
            + (
                "  LAB MODE is on: the attack lab can switch a defence off for one run.\n\n"
                if lab
                else ""
            )
            + "  Ctrl-C stops both.\n",
            flush=True,
        )
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()  # uvicorn shuts down gracefully on SIGTERM
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    sys.exit(main())
