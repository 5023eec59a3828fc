"""Both apps as real servers (`python -m mockgram`, `python -m awesomeservice`) on free ports."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.servers import free_port, serve_process

IN_MEMORY = "sqlite://"


@dataclass(frozen=True)
class Apps:
    awesome: str  # AwesomeService's public URL
    mockgram: str  # Mockgram's public URL (the issuer): where browsers go
    mockgram_internal: str  # where AwesomeService's back end reaches Mockgram


@contextmanager
def both_apps(
    *,
    mockgram_database_url: str,
    awesome_database_url: str,
    log_dir: Path,
    mockgram_host: str = "127.0.0.1",
    awesome_host: str = "127.0.0.1",
    ports: tuple[int, int] | None = None,
) -> Iterator[Apps]:
    """Start both apps together and wait until each answers.

    `mockgram_host` is the name in Mockgram's public URL; AwesomeService's back channel always
    uses 127.0.0.1, so a name only the browser can resolve proves the two URLs are kept apart.
    `ports` is (Mockgram's, AwesomeService's); free ones are picked when not given.
    """
    # A server answers several requests at once, each on its own thread: in-memory SQLite is one
    # connection they would share, transactions interleaved. A real server gets a file, as in
    # production (WAL, a connection per thread).
    if mockgram_database_url == IN_MEMORY:
        mockgram_database_url = f"sqlite:///{log_dir / 'mockgram.db'}"
    if awesome_database_url == IN_MEMORY:
        awesome_database_url = f"sqlite:///{log_dir / 'awesomeservice.db'}"
    mockgram_port, awesome_port = ports or (free_port(), free_port())
    apps = Apps(
        awesome=f"http://{awesome_host}:{awesome_port}",
        mockgram=f"http://{mockgram_host}:{mockgram_port}",
        mockgram_internal=f"http://127.0.0.1:{mockgram_port}",
    )
    both = {
        "AWESOMESERVICE_URL": apps.awesome,  # Mockgram seeds the client's redirect URIs
        # The story signs in with the published demo passwords (tests/browser/story.py).
        "MOCKGRAM_DEMO": "true",
        "AWESOMESERVICE_DEMO": "true",
    }
    with ExitStack() as stack:
        mockgram = stack.enter_context(
            serve_process(
                "mockgram",
                {
                    **both,
                    "MOCKGRAM_ISSUER": apps.mockgram,
                    "MOCKGRAM_DATABASE_URL": mockgram_database_url,
                },
                port=mockgram_port,
                log_dir=log_dir,
                wait=False,
            )
        )
        awesome = stack.enter_context(
            serve_process(
                "awesomeservice",
                {
                    **both,
                    "AWESOMESERVICE_DATABASE_URL": awesome_database_url,
                    "AWESOMESERVICE_MOCKGRAM_URL": apps.mockgram,
                    "AWESOMESERVICE_MOCKGRAM_INTERNAL_URL": apps.mockgram_internal,
                },
                port=awesome_port,
                log_dir=log_dir,
                wait=False,
            )
        )
        mockgram.wait_until_ready()
        awesome.wait_until_ready("/")
        yield apps
