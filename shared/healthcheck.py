"""`python -m shared.healthcheck [URL]`: exit 0 when the app answers 200, else 1 (health checks).

The images are python:*-slim, which have no curl; this is the Dockerfile's and docker-compose.yml's
HEALTHCHECK command. docker-compose.yml names each service's URL. The Dockerfile names none: one
image runs either app, so without a URL the check passes when either app's default address
(AwesomeService on :8000, Mockgram on :8001) answers.
"""

from __future__ import annotations

import sys

import httpx

DEFAULT_URLS = ("http://127.0.0.1:8000/healthz", "http://127.0.0.1:8001/healthz")


def check(url: str, *, timeout: float = 3.0) -> int:
    """0 if `url` answers 200 within `timeout` seconds, 1 otherwise (with the reason on stderr)."""
    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        print(f"unhealthy: {url}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if response.status_code != 200:
        print(f"unhealthy: {url} answered HTTP {response.status_code}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args:
        return check(args[0])
    # Either app will do: whichever this container runs.
    return 0 if any(check(url) == 0 for url in DEFAULT_URLS) else 1


if __name__ == "__main__":
    raise SystemExit(main())
