"""Shared HTTP hygiene: security headers, CSRF tokens and flash messages."""

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.testclient import TestClient
from starlette.middleware.sessions import SessionMiddleware

from shared.csrf import csrf_ok, csrf_token
from shared.flash import pop_flashes, push_flash
from shared.web import SecurityHeadersMiddleware


def _app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(SessionMiddleware, secret_key="k")
    app.add_middleware(SecurityHeadersMiddleware)

    @app.get("/token")
    def token(request: Request) -> PlainTextResponse:
        return PlainTextResponse(csrf_token(request))

    @app.post("/check")
    async def check(request: Request) -> JSONResponse:
        form = await request.form()
        return JSONResponse({"ok": csrf_ok(request, form.get("csrf_token"))})  # type: ignore[arg-type]

    @app.get("/flash")
    def flash(request: Request) -> JSONResponse:
        push_flash(request, "saved")
        return JSONResponse({})

    @app.get("/read")
    def read(request: Request) -> JSONResponse:
        return JSONResponse(pop_flashes(request))

    @app.get("/own-frame-options")
    def own() -> PlainTextResponse:
        return PlainTextResponse("x", headers={"X-Frame-Options": "SAMEORIGIN"})

    return app


def test_security_headers_on_every_response() -> None:
    response = TestClient(_app()).get("/token")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_a_route_may_set_its_own_header_once() -> None:
    response = TestClient(_app()).get("/own-frame-options")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]


def test_csrf_token_is_per_session_and_checked() -> None:
    client = TestClient(_app())
    token = client.get("/token").text
    assert client.post("/check", data={"csrf_token": token}).json() == {"ok": True}
    assert client.post("/check", data={"csrf_token": token + "x"}).json() == {"ok": False}
    assert client.post("/check", data={}).json() == {"ok": False}
    assert client.post("/check", data={"csrf_token": "😀"}).json() == {"ok": False}
    other_browser = TestClient(_app())
    assert other_browser.post("/check", data={"csrf_token": token}).json() == {"ok": False}


def test_flash_messages_are_shown_once() -> None:
    client = TestClient(_app())
    client.get("/flash")
    assert client.get("/read").json() == [{"kind": "ok", "text": "saved"}]
    assert client.get("/read").json() == []


def test_html_pages_are_not_cached_unless_they_say_otherwise() -> None:
    app = FastAPI()
    app.add_middleware(SecurityHeadersMiddleware)

    @app.get("/page")
    def page() -> HTMLResponse:
        return HTMLResponse("<p>John's order</p>")

    @app.get("/image")
    def image() -> PlainTextResponse:
        return PlainTextResponse("x", headers={"Cache-Control": "private, max-age=60"})

    client = TestClient(app)
    assert client.get("/page").headers["cache-control"] == "no-store"
    assert client.get("/image").headers["cache-control"] == "private, max-age=60"
