"""Issue 5: several copies of Mockgram behave as one, because everything lives in the database.

Two `python -m mockgram` processes on one PostgreSQL database (two replicas behind a load
balancer), and one `python -m mockgram --workers 2` on the SQLite default (a file): a code issued
through one copy is redeemed at the other, a token issued by one is accepted by the other's API,
and of 20 concurrent redemptions of one code exactly one gets a token.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.e2e.browser import Browser, find_form
from tests.e2e.servers import serve_process
from tests.postgres import Schemas

PASSWORD = "replica-demo-password"
CLIENT_ID = "awesomeservice"
CLIENT_SECRET = "replica-client-secret"
REDIRECT_URI = "http://127.0.0.1:9/connect/callback"  # never visited: the test reads the redirect
ISSUER = "http://mockgram.replicas.test"  # the load balancer's name, the same for every copy
RACERS = 20


def _env(database_url: str) -> dict[str, str]:
    return {
        "MOCKGRAM_ISSUER": ISSUER,
        "MOCKGRAM_DATABASE_URL": database_url,
        "MOCKGRAM_DEMO_PASSWORD": PASSWORD,
        "AWESOMESERVICE_URL": "http://127.0.0.1:9",
        "AWESOMESERVICE_CLIENT_ID": CLIENT_ID,
        "AWESOMESERVICE_CLIENT_SECRET": CLIENT_SECRET,
    }


def _john_gets_a_code(base_url: str) -> tuple[str, str]:
    """Authorize, sign in and consent through one copy; returns (code, PKCE verifier)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": "photos.read",
            "state": secrets.token_urlsafe(16),
            "code_challenge": challenge.decode(),
            "code_challenge_method": "S256",
        }
    )
    with httpx.Client(timeout=10) as http:
        browser = Browser({base_url: http})
        page = browser.follow(browser.get(f"{base_url}/oauth/authorize?{query}"))
        assert page.status_code == 200, page.text
        answer = browser.submit(find_form(page.text, "/login"), username="john", password=PASSWORD)
        while not answer.headers.get("location", "").startswith(REDIRECT_URI):
            if answer.status_code == 200:  # the consent page (asked once; then remembered)
                answer = browser.submit(
                    find_form(answer.text, "/consent"), button=("decision", "allow")
                )
            else:
                answer = browser.follow(answer)
    assert answer.status_code in (302, 303), answer.text
    location = answer.headers["location"]
    assert location.startswith(REDIRECT_URI), location
    return parse_qs(urlsplit(location).query)["code"][0], verifier


def _redeem(base_url: str, code: str, verifier: str) -> httpx.Response:
    return httpx.post(
        f"{base_url}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=30,
    )


def _photos(base_url: str, token: str) -> httpx.Response:
    return httpx.get(
        f"{base_url}/api/photos", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def _race(base_urls: list[str], code: str, verifier: str) -> list[httpx.Response]:
    """RACERS redemptions of one code at once, spread over the copies; each in its own thread."""
    start = threading.Barrier(RACERS)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def one(index: int) -> None:
        start.wait(timeout=30)
        answer = _redeem(base_urls[index % len(base_urls)], code, verifier)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def _behave_as_one(first: str, second: str) -> None:
    # A code issued through the first copy is redeemed at the second.
    code, verifier = _john_gets_a_code(first)
    answer = _redeem(second, code, verifier)
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    # The token issued by the second copy is accepted by both copies' API.
    for base_url in (first, second):
        photos = _photos(base_url, token)
        assert photos.status_code == 200, photos.text
        assert photos.json()["photos"]
    # The code is spent everywhere: the first copy refuses it too.
    replay = _redeem(first, code, verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"

    # Twenty redemptions of one fresh code at once, at both copies: exactly one token.
    code, verifier = _john_gets_a_code(second)
    answers = _race([first, second], code, verifier)
    assert len(answers) == RACERS
    winners = [a for a in answers if a.status_code == 200]
    losers = [a for a in answers if a.status_code != 200]
    assert len(winners) == 1, [a.text for a in winners]
    assert all(a.status_code == 400 and a.json()["error"] == "invalid_grant" for a in losers), [
        (a.status_code, a.text) for a in losers
    ]


@pytest.fixture
def pg_database(postgres_schemas: Schemas) -> Iterator[str]:
    with postgres_schemas.fresh("replicas") as url:
        yield url


def test_two_mockgram_processes_on_one_postgresql_database_behave_as_one(
    pg_database: str, tmp_path: Path
) -> None:
    with ExitStack() as stack:
        # Both start at once on the empty database: schema, keys, secret and seed race too.
        env = _env(pg_database)
        first = stack.enter_context(serve_process("mockgram", env, log_dir=tmp_path, wait=False))
        second = stack.enter_context(serve_process("mockgram", env, log_dir=tmp_path, wait=False))
        first.wait_until_ready()
        second.wait_until_ready()
        _behave_as_one(first.base_url, second.base_url)


def test_two_uvicorn_workers_on_the_default_sqlite_file_behave_as_one(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'mockgram.db'}"
    with serve_process("mockgram", _env(database_url), log_dir=tmp_path, workers=2) as server:
        # One address, two worker processes: the kernel hands each connection to either.
        _behave_as_one(server.base_url, server.base_url)


def test_two_mockgram_processes_on_one_sqlite_file_behave_as_one(tmp_path: Path) -> None:
    """Two processes for certain (the workers test cannot say which worker took a connection)."""
    env = _env(f"sqlite:///{tmp_path / 'mockgram.db'}")
    with ExitStack() as stack:
        # Both start at once on a missing file: creating it, its schema, keys and seed race too.
        first = stack.enter_context(serve_process("mockgram", env, log_dir=tmp_path, wait=False))
        second = stack.enter_context(serve_process("mockgram", env, log_dir=tmp_path, wait=False))
        first.wait_until_ready()
        second.wait_until_ready()
        assert first.process.pid != second.process.pid
        _behave_as_one(first.base_url, second.base_url)
