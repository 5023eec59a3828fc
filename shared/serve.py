"""The `python -m <app>` command both apps share: parse --host/--port/--workers, run uvicorn."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import uvicorn
from pydantic import ValidationError

from shared.access_log import log_config
from shared.limits import LimitedHttpTools

KEEP_ALIVE_SECONDS = 30


def make_parser(*, package: str, description: str, default_port: int) -> argparse.ArgumentParser:
    """The command line of `python -m <package>` (docker-compose.yml's commands use it too)."""
    parser = argparse.ArgumentParser(prog=f"python -m {package}", description=description)
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface (default 127.0.0.1; 0.0.0.0 in a container)"
    )
    parser.add_argument("--port", type=int, default=default_port, help=f"default {default_port}")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    return parser


def serve(
    *,
    package: str,
    description: str,
    default_port: int,
    argv: list[str] | None,
    settings: Callable[[], object] | None = None,
) -> None:
    """Serve `<package>.app:create_app` (a factory, so each worker builds its own app)."""
    parser = make_parser(package=package, description=description, default_port=default_port)
    args = parser.parse_args(argv)
    if settings is not None:
        check_settings(package, settings)
    run(package=package, args=args)


def run(*, package: str, args: argparse.Namespace) -> None:
    """Run uvicorn with parsed arguments (an app adding its own arguments calls this)."""
    uvicorn.run(
        f"{package}.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # X-Forwarded-For is believed inside the app, from its `forwarded_allow_ips` proxies only
        # (shared/proxies.py): one setting however the app is served, and what tests see.
        proxy_headers=False,
        # Over-long addresses and headers get a 414 or 431 answer, not a reset (shared/limits.py).
        http=LimitedHttpTools,
        # Idle keep-alive connections outlive any client's pool (httpx forgets them after 5 s):
        # with equal timeouts a client can reuse a connection the server is closing that very
        # moment, and the request fails as "server disconnected".
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        log_config=log_config(),  # codes and tokens in logged URLs masked
    )


def check_settings(package: str, settings: Callable[[], object]) -> None:
    """Read the settings once before any worker starts: a refusal is one message, not a trace."""
    try:
        settings()
    except ValidationError as exc:
        for error in exc.errors():
            reason = error.get("ctx", {}).get("error") or error["msg"]
            where = ".".join(str(part) for part in error["loc"])
            print(
                f"{package} cannot start: {where + ': ' if where else ''}{reason}", file=sys.stderr
            )
        raise SystemExit(2) from None
