"""The request console's rules, without any server: where it may send (SSRF), which tokens it
may send with the client's credentials, how the request is shown and copied as curl."""

from __future__ import annotations

import httpx
import pytest

from awesomeservice.console import (
    Composed,
    ConsoleRefused,
    Sent,
    TokenSource,
    check_destination,
    parse_headers,
    refresh_outcome,
    send_composed,
)
from awesomeservice.settings import AwesomeServiceSettings

SETTINGS = AwesomeServiceSettings(
    mockgram_url="http://mockgram.test",
    mockgram_internal_url="http://mockgram.internal:8001",
    client_secret="the-secret",
    database_url="sqlite://",
)
SOURCE = TokenSource("connection", "awesomeservice", "the-secret", "at-123456789012345", "rt-1", "")


@pytest.mark.parametrize(
    "url",
    [
        "http://mockgram.test/api/photos",
        "http://mockgram.test",
        "http://mockgram.test?x=1",
    ],
)
def test_mockgrams_origin_is_allowed(url: str) -> None:
    check_destination(url, SETTINGS)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:8001/api/photos",
        "http://mockgram.internal:8001/api/photos",  # the internal URL is ours, not the reader's
        "http://mockgram.test.evil.example/",
        "http://mockgram.test@evil.example/",
        "http://evil.example/#@mockgram.test",
        "https://mockgram.test/",
        "http://mockgram.test:8080/",
        "http://MOCKGRAM.test:80/oauth/token",  # the same origin, but spelt as configured only
        "http://mockgram.test:notaport/",
        "http://mockgram.test\\@evil.example/",
        "file:///etc/passwd",
        "",
    ],
)
def test_any_other_destination_is_refused(url: str) -> None:
    with pytest.raises(ConsoleRefused):
        check_destination(url, SETTINGS)


def test_headers_are_lines_and_host_is_not_the_readers() -> None:
    assert parse_headers("Accept: application/json\n\nHost: evil.example\nX-A:  b ") == [
        ("Accept", "application/json"),
        ("X-A", "b"),
    ]
    with pytest.raises(ConsoleRefused):
        parse_headers("not a header")


@pytest.mark.anyio
async def test_the_secret_is_sent_but_never_shown_and_only_own_tokens_go_with_it() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"active": True})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer), timeout=1) as http:
        composed = Composed(
            "POST",
            "http://mockgram.test/oauth/introspect",
            "Authorization: Basic {client_credentials}",
            "token={access_token}",
        )
        sent = await send_composed(http, SETTINGS, SOURCE, composed)
        assert str(seen[0].url) == "http://mockgram.internal:8001/oauth/introspect"
        assert seen[0].headers["authorization"].startswith("Basic ")
        assert seen[0].content == b"token=at-123456789012345"
        shown = sent.raw_request + sent.curl + sent.raw_response
        assert "the-secret" not in shown and "Basic ****" in sent.raw_request
        assert "at-123456789…" in sent.raw_request and '"active": true' in sent.raw_response

        stolen = Composed("POST", composed.url, composed.headers, "token=someone-elses")
        with pytest.raises(ConsoleRefused, match="only your own tokens"):
            await send_composed(http, SETTINGS, SOURCE, stolen)
        assert len(seen) == 1


def test_a_refresh_answer_is_read_as_rotation_or_replay() -> None:
    rotated = Sent("", "", status=200, json={"refresh_token": "rt-2"})
    assert refresh_outcome("grant_type=refresh_token&refresh_token=rt-1", SOURCE, rotated) == (
        "rotated",
        "rt-2",
    )
    old = TokenSource("connection", "c", "s", "at", "rt-2", "rt-1")
    refused = Sent("", "", status=400, json={"error": "invalid_grant"})
    body = "grant_type=refresh_token&refresh_token=rt-1"
    assert refresh_outcome(body, old, refused) == ("replayed", "")
    assert refresh_outcome("token=rt-1", old, refused) is None
