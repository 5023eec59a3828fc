"""The 127.0.0.1 trap: a browser opening a page under another host name is sent to the public
URL (same path and query) before any cookie is set; programs, the health check and the back
channel on an internal name keep working; a cross-host answer is named for what it is."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from awesomeservice.app import create_app as create_awesomeservice
from mockgram.app import create_app as create_mockgram
from tests.awesomeservice.conftest import (
    AWESOME_URL,
    ISSUER,
    FakeMockgram,
    login,
    settings_for,
    start_connect,
)
from tests.mockgram.conftest import ISSUER as MOCKGRAM_ISSUER
from tests.mockgram.conftest import settings_for as mockgram_settings_for

PAGE = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}  # what a browser sends


@pytest.fixture(scope="module")
def awesome_app() -> FastAPI:
    return create_awesomeservice(
        settings_for("sqlite://"), http_transport=httpx.MockTransport(FakeMockgram().handler)
    )


@pytest.fixture(scope="module")
def mockgram_app() -> FastAPI:
    return create_mockgram(mockgram_settings_for("sqlite://"))


def _on(app: FastAPI, base_url: str) -> Iterator[TestClient]:
    with TestClient(app, base_url=base_url, follow_redirects=False) as client:
        yield client


@pytest.fixture
def loopback(awesome_app: FastAPI) -> Iterator[TestClient]:
    """A browser on http://127.0.0.1:8000 while AwesomeService's public URL is another name."""
    yield from _on(awesome_app, "http://127.0.0.1:8000")


def test_a_page_on_another_host_goes_to_the_public_url_before_any_cookie(
    loopback: TestClient,
) -> None:
    response = loopback.get("/photos?sort=new&x=%2F", headers=PAGE)
    assert response.status_code == 307
    assert response.headers["location"] == f"{AWESOME_URL}/photos?sort=new&x=%2F"
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    assert loopback.head("/", headers=PAGE).status_code == 307


def test_programs_posts_and_the_health_check_are_served_where_they_arrive(
    loopback: TestClient,
) -> None:
    assert loopback.get("/healthz", headers=PAGE).status_code == 200
    assert loopback.get("/").status_code == 200  # no text/html asked for: not a browser's page
    assert loopback.post("/login", data={}, headers=PAGE).status_code != 307
    assert loopback.get("/static/shared/style.css", headers=PAGE).status_code == 200


def test_the_public_host_itself_is_served(awesome_app: FastAPI) -> None:
    for client in _on(awesome_app, AWESOME_URL):
        assert client.get("/", headers=PAGE).status_code == 200


def test_mockgram_pages_move_but_its_back_channel_stays_on_the_internal_name(
    mockgram_app: FastAPI,
) -> None:
    for internal in _on(mockgram_app, "http://mockgram:8001"):
        page = internal.get("/login?next=%2Fapps", headers=PAGE)
        assert page.status_code == 307
        assert page.headers["location"] == f"{MOCKGRAM_ISSUER}/login?next=%2Fapps"
        # Discovery, the key set and the API answer on the internal name, even to text/html.
        for path in ("/.well-known/openid-configuration", "/.well-known/jwks.json"):
            assert internal.get(path, headers=PAGE).status_code == 200
        assert internal.get("/api/photos", headers=PAGE).status_code == 401
        assert internal.get("/healthz").status_code == 200


def test_an_answer_to_a_request_begun_under_another_host_says_so(
    make_client: Callable[[], TestClient],
) -> None:
    started_there = make_client()
    login(started_there)
    _, params = start_connect(started_there)
    # The same person's browser on the public name: no session here at all.
    back_here = make_client()
    response = back_here.get(
        "/connect/callback", params={"code": "c", "state": params["state"], "iss": ISSUER}
    )
    assert response.status_code == 400
    assert "You started at another address" in response.text
    assert "Browsers keep cookies per host name" in response.text
    assert f"Open {AWESOME_URL} and start again" in response.text
