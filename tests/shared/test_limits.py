"""Requests too big to take get a 414, 431 or 413 answer, never a reset connection.

The protocol's limits are tested on a real uvicorn server on loopback, served the way
`python -m <app>` serves (shared/serve.py), with raw sockets: only a socket shows a reset.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from shared import serve as serve_command
from shared.limits import (
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    MAX_HEADERS,
    MAX_URL_BYTES,
    BodyLimit,
    LimitedHttpTools,
)
from tests.e2e.servers import serve


def _app(_base_url: str = "") -> FastAPI:
    app = FastAPI()
    app.add_middleware(BodyLimit, larger={"/upload": 4 * MAX_BODY_BYTES}, json_prefixes=("/api",))

    @app.get("/")
    def home() -> PlainTextResponse:
        return PlainTextResponse("hello")

    @app.post("/form")
    async def form(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(len(await request.body())))

    @app.post("/api/token")
    async def token(request: Request) -> JSONResponse:
        return JSONResponse({"read": len(await request.body())})

    @app.post("/upload")
    async def upload(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(len(await request.body())))

    @app.post("/early")
    def early() -> PlainTextResponse:  # answers without reading the body
        return PlainTextResponse("no thanks", status_code=400)

    return app


@pytest.fixture(scope="module")
def address() -> Iterator[tuple[str, int]]:
    with serve(_app, http=LimitedHttpTools) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        yield host, int(port)


def exchange(address: tuple[str, int], request: bytes) -> bytes:
    """Send the whole request as a client does, then read the whole answer.

    A server that closes while bytes are still unread makes the kernel reset the connection:
    the send or the read then fails with ConnectionResetError / BrokenPipeError.
    """
    with socket.create_connection(address, timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def _get(target: bytes, headers: bytes = b"") -> bytes:
    return b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n" + headers + b"Connection: close\r\n\r\n"


def _post(path: bytes, body: bytes, content_type: bytes = b"application/x-www-form-urlencoded"):  # type: ignore[no-untyped-def]
    return (
        b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: " + content_type + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )


@pytest.mark.parametrize("size", [MAX_URL_BYTES + 1, 1024 * 1024])
def test_an_over_long_address_is_a_414_page_not_a_reset(
    address: tuple[str, int], size: int
) -> None:
    answer = exchange(address, _get(b"/?state=" + b"s" * size))
    assert status_of(answer) == 414
    assert b"That address was too long" in answer and b"Traceback" not in answer


def test_a_long_address_within_the_limit_is_served(address: tuple[str, int]) -> None:
    answer = exchange(address, _get(b"/?state=" + b"s" * (MAX_URL_BYTES - 100)))
    assert status_of(answer) == 200


@pytest.mark.parametrize(
    "headers",
    [
        b"X-Big: " + b"a" * (MAX_HEADER_BYTES + 1) + b"\r\n",
        b"X-Big: " + b"a" * (1024 * 1024) + b"\r\n",
        b"".join(b"X-%d: a\r\n" % i for i in range(MAX_HEADERS + 1)),
    ],
    ids=["one-over-the-limit", "one-megabyte", "too-many"],
)
def test_too_many_or_too_large_headers_are_a_431_page(
    address: tuple[str, int], headers: bytes
) -> None:
    answer = exchange(address, _get(b"/", headers))
    assert status_of(answer) == 431
    assert b"too many headers" in answer


@pytest.mark.parametrize(
    "request_bytes", [b"\x16\x03\x01\x02\x00\x01" + b"\x00" * 64, b"GET /\x00 HTTP/1.1\r\n\r\n"]
)
def test_unreadable_requests_are_a_400_page(address: tuple[str, int], request_bytes: bytes) -> None:
    answer = exchange(address, request_bytes)
    assert status_of(answer) == 400
    assert b"<h1>That request was not understood</h1>" in answer


def test_an_over_large_form_is_a_413_page_even_while_the_client_is_still_sending(
    address: tuple[str, int],
) -> None:
    answer = exchange(address, _post(b"/form", b"a=" + b"b" * (5 * MAX_BODY_BYTES)))
    assert status_of(answer) == 413
    assert b"That request was too large" in answer


def test_an_over_large_body_at_a_protocol_endpoint_is_invalid_request_json(
    address: tuple[str, int],
) -> None:
    answer = exchange(address, _post(b"/api/token", b"a=" + b"b" * (2 * MAX_BODY_BYTES)))
    assert status_of(answer) == 413
    assert b'"error":"invalid_request"' in answer
    assert b"application/json" in answer.split(b"\r\n\r\n")[0]


def test_a_chunked_body_over_the_limit_is_a_413(address: tuple[str, int]) -> None:
    chunk = b"b" * 65536
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
    request = (
        b"POST /form HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n" + chunks
    )
    assert status_of(exchange(address, request)) == 413


def test_a_chunked_body_within_the_limit_reaches_the_app(address: tuple[str, int]) -> None:
    request = (
        b"POST /form HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    )
    answer = exchange(address, request)
    assert status_of(answer) == 200 and answer.endswith(b"5")


def test_uploads_may_be_larger_where_the_app_says(address: tuple[str, int]) -> None:
    body = b"b" * (2 * MAX_BODY_BYTES)
    answer = exchange(address, _post(b"/upload", body, b"application/octet-stream"))
    assert status_of(answer) == 200 and answer.endswith(str(len(body)).encode())


def test_an_app_answering_before_reading_a_large_body_is_not_reset(
    address: tuple[str, int],
) -> None:
    answer = exchange(address, _post(b"/early", b"a=" + b"b" * (MAX_BODY_BYTES - 100)))
    assert status_of(answer) == 400 and answer.endswith(b"no thanks")


def test_python_m_app_serves_with_the_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    serve_command.serve(package="mockgram", description="", default_port=1, argv=[])
    assert seen["http"] is LimitedHttpTools
