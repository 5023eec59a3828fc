"""create_app(settings): AwesomeService's routers, middleware, back-channel client, error pages."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from awesomeservice import doctor
from awesomeservice.deps import SignInRequired
from awesomeservice.destinations import DestinationGuard
from awesomeservice.events import Events
from awesomeservice.inspector import recorder as inspector_recorder
from awesomeservice.inspector import stepping
from awesomeservice.inspector.install import install_inspector
from awesomeservice.lab import switches as lab_switches
from awesomeservice.models import AppSecret, AwesomeTable, BrowserSession
from awesomeservice.oauth.discovery import Discovery
from awesomeservice.oauth.dpop import load_dpop_key
from awesomeservice.pages import (
    accounts,
    checkup,
    connect,
    console,
    debugger,
    debugger_device,
    debugger_machine,
    errors_explained,
    home,
    inspector,
    kiosk,
    lab,
    login_with_mockgram,
    orders,
    photos,
    print_lab,
    print_queue,
    response_types,
    spa,
    tour,
    which_flow,
)
from awesomeservice.pages import doctor as doctor_page
from awesomeservice.seed import seed_demo_data
from awesomeservice.settings import AwesomeServiceSettings
from shared import health
from shared import tour as shared_tour
from shared import unstorable as unstorable_input
from shared.canonical_host import CanonicalHost
from shared.db import (
    Database,
    create_schema,
    forbid_on_event_loop,
    make_engine,
    use_database_threads,
)
from shared.proxies import trust_forwarded_headers
from shared.sessions import SessionStore
from shared.web import install_web_basics, make_templates, render_error

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "awesomeservice_session"  # distinct from Mockgram's: cookies ignore the port
log = logging.getLogger("awesomeservice")

# What AwesomeService serves.
ROUTERS: tuple[APIRouter, ...] = (
    # The print shop: the article's story from sign-in to printed photos (steps 1–6).
    home.router,
    accounts.router,
    connect.router,
    photos.router,
    orders.router,
    print_lab.router,  # token exchange (RFC 8693): the print lab's narrower token
    print_queue.router,  # client credentials (RFC 6749 §4.4): the nightly job's own token
    # OpenID Connect sign-in and the single-page app demos.
    login_with_mockgram.router,
    spa.router,
    kiosk.router,  # the in-store print kiosk: the device flow (RFC 8628)
    # Teaching: the tour, why a request was refused, the attack lab, the flow inspector,
    # the OAuth debugger and the issuer doctor.
    tour.router,
    which_flow.router,  # which flow when: code, PKCE, implicit, client credentials, device…
    shared_tour.router,
    errors_explained.router,
    lab.router,
    inspector.router,
    debugger.router,
    debugger_machine.router,  # the debugger's client credentials form (RFC 6749 §4.4)
    debugger_device.router,  # the debugger as a device (RFC 8628)
    console.router,  # the request console: your own tokens, hand-made requests to Mockgram
    response_types.router,  # code, token and code id_token side by side
    doctor_page.router,
    checkup.router,  # the provider check-up
    # Operations: GET /healthz for container health checks.
    health.router,
)


def _make_http(
    settings: AwesomeServiceSettings, transport: httpx.AsyncBaseTransport | None
) -> httpx.AsyncClient:
    """The one back-channel client: Mockgram's internal URL, a timeout on every call."""
    return httpx.AsyncClient(
        base_url=settings.back_channel_url,
        timeout=settings.http_timeout_seconds,
        transport=transport,
        follow_redirects=False,
        event_hooks=inspector_recorder.event_hooks(),  # each call shows in the flow inspector
    )


def create_app(
    settings: AwesomeServiceSettings | None = None,
    *,
    http_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build AwesomeService: database ready, demo account seeded when asked."""
    settings = settings or AwesomeServiceSettings()
    engine = make_engine(settings.database_url)
    # Eagerly, not in the lifespan: an app driven through ASGITransport has no lifespan.
    create_schema(engine, AwesomeTable.metadata)
    if settings.seed_demo_data:
        seed_demo_data(engine, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        use_database_threads()
        if app.state.http.is_closed:  # started again after a shutdown (tests do this)
            app.state.http = _make_http(settings, http_transport)
        await doctor.check_on_start(app.state.http, settings)  # logs a warning, never raises
        yield
        await app.state.http.aclose()

    app = FastAPI(
        title="AwesomeService",
        description="The print shop: an OAuth 2.0 client of Mockgram.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.database = Database(engine)
    app.state.http = _make_http(settings, http_transport)
    app.state.discovery = Discovery(settings)
    # RFC 9449: the print shop's DPoP key, one for every worker (None: plain bearer tokens).
    app.state.dpop_key = load_dpop_key(engine, AppSecret) if settings.use_dpop else None
    app.state.destination_guard = DestinationGuard(settings)  # the debugger's SSRF check
    # The protocol announces; the inspector records, step-through pauses, the lab switches.
    app.state.events = Events()
    inspector_recorder.listen_to(app.state.events)
    stepping.pause_with(app.state.events)
    lab_switches.register(app.state.events, app.state.database, settings)
    templates = make_templates(HERE / "templates")
    templates.env.globals["settings"] = settings
    templates.env.filters["money"] = _money
    templates.env.filters["pretty_json"] = _pretty_json
    app.state.templates = templates

    # The session cookie (HttpOnly, SameSite=Lax) holds only a random id; the session, on the
    # server, holds the user id, a browser binding and the CSRF token, never a Mockgram token
    # (SECURITY.md, C7).
    install_web_basics(
        app,
        sessions=SessionStore.for_app(engine, BrowserSession, settings, AppSecret),
        cookie_name=SESSION_COOKIE,
        public_url=settings.url,
    )

    install_inspector(app)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static/spa", StaticFiles(directory=str(HERE / "static" / "spa")), name="spa")
    app.mount("/static/kiosk", StaticFiles(directory=str(HERE / "static" / "kiosk")), name="kiosk")
    _install_error_pages(app)
    unstorable_input.install(app)  # PostgreSQL-unstorable input (NUL): 400, not 500
    # A page opened on another host name goes to the public URL first (the 127.0.0.1 trap).
    app.add_middleware(CanonicalHost, public_url=settings.url)
    trust_forwarded_headers(app, settings.forwarded_allow_ips)  # outermost: the client's address
    forbid_on_event_loop(engine)  # start-up work done: from here on, only off the loop
    return app


def _pretty_json(value: object) -> str:
    """JSON for a reader: indented, and "…" as itself rather than "\\u2026" (autoescaped)."""
    return json.dumps(value, indent=2, ensure_ascii=False)


def _money(cents: int) -> str:
    """Format cents as dollars: 250 → $2.50."""
    return f"${cents // 100}.{cents % 100:02d}"


_TITLES = {
    400: "That request was not understood",
    403: "Not allowed",
    404: "Page not found",
    405: "That is not how this page is used",
}


def _install_error_pages(app: FastAPI) -> None:
    """Friendly pages for every failure; never a framework 422 or a stack trace."""

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, exc: SignInRequired) -> Response:
        # Only a fixed local path goes in `next`; the login page checks it again
        # (SECURITY.md, C8).
        return RedirectResponse(f"/login?{urlencode({'next': exc.next_path})}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else ""
        message = (
            "There is no page at this address."
            if exc.status_code == 404
            else detail or "The request could not be handled."
        )
        return render_error(
            request,
            status_code=exc.status_code,
            title=_TITLES.get(exc.status_code, "Something went wrong"),
            message=message,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return render_error(
            request,
            status_code=400,
            title=_TITLES[400],
            message="Some of the information sent with it was missing or malformed.",
            error_code="invalid_request",
        )

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        try:
            return render_error(
                request,
                status_code=500,
                title="Something went wrong on AwesomeService",
                message="The error was logged. Nothing you did caused it; please try again.",
                error_code="server_error",
            )
        except Exception:  # the error page itself failed: answer plainly
            return HTMLResponse("<h1>Something went wrong on AwesomeService</h1>", status_code=500)
