"""create_app(settings): Mockgram's routers, middleware, static files and error pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from mockgram import activity, bearer, capture, cors, lab
from mockgram import keys as signing_keys
from mockgram.api import photos, resource_metadata
from mockgram.config import load_config
from mockgram.control import plane as control_plane
from mockgram.control.faults import Faults
from mockgram.defences import Defences
from mockgram.demo.seed import seed_demo_data, seed_from_config
from mockgram.events import Events
from mockgram.failures import FailureRecorder, error_uri
from mockgram.models import AppSecret, BrowserSession, MockgramTable
from mockgram.oauth import (
    authorize,
    device,
    end_session,
    introspection,
    metadata,
    par,
    registration,
    responses,
    revocation,
    token,
    userinfo,
)
from mockgram.oauth.dpop import DpopNonces
from mockgram.pages import activity as activity_page
from mockgram.pages import apps, avatars, consent, developers, errors_explained, home, login
from mockgram.pages import device as device_pages
from mockgram.pages import requests as requests_page
from mockgram.settings import MockgramSettings
from mockgram.uploads import MAX_UPLOAD_BYTES
from shared import health
from shared import tour as shared_tour
from shared import unstorable as unstorable_input
from shared.canonical_host import CanonicalHost
from shared.db import (
    Database,
    create_schema,
    forbid_on_event_loop,
    load_or_create_secret,
    make_engine,
    use_database_threads,
)
from shared.proxies import trust_forwarded_headers
from shared.sessions import SessionStore
from shared.web import install_web_basics, make_templates, render_error

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "mockgram_session"  # distinct from AwesomeService's: cookies ignore the port
# The largest photo plus room for the multipart envelope and the caption.
UPLOAD_BODY_BYTES = MAX_UPLOAD_BYTES + 64 * 1024
# Endpoints that answer in JSON, so a refusal in front of them does too (RFC 6749 §5.2).
JSON_PREFIXES = (
    "/oauth/token",
    "/oauth/revoke",
    "/oauth/introspect",
    "/oauth/register",
    "/oauth/device_authorization",
    "/oauth/userinfo",
    "/oauth/par",
    "/api/",
)


def create_app(settings: MockgramSettings | None = None) -> FastAPI:
    """Build Mockgram: database and keys ready, demo data seeded when asked.

    With a configuration file (settings.config) its settings fill in what the caller left
    unset, and its people and clients are written after the demo's (if the demo is on).
    A bad file raises ConfigError, whose message names the file, line and key.
    """
    settings = settings or MockgramSettings()
    loaded = None if settings.config is None else load_config(settings.config, settings)
    if loaded is not None:
        settings = loaded.apply_to(settings)
    engine = make_engine(settings.database_url)
    create_schema(engine, MockgramTable.metadata)
    if settings.seed_demo_data:
        seed_demo_data(engine, settings)
    if loaded is not None:
        seed_from_config(engine, loaded)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        use_database_threads()
        yield

    app = FastAPI(
        title="Mockgram",
        lifespan=lifespan,
        description="A mock Instagram: OAuth 2.0 authorization server and photos API.",
        docs_url=None,  # Swagger UI loads scripts from a CDN, which the CSP forbids
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.database = Database(engine)
    app.state.keys = signing_keys.load_or_create(engine, signing_keys.pinned_key(settings))
    # RFC 9449 §8, §9: DPoP nonces, signed with a secret every worker reads from the database.
    app.state.dpop_nonces = DpopNonces(load_or_create_secret(engine, AppSecret, "dpop_nonce"))
    templates = make_templates(HERE / "templates")
    templates.env.globals["settings"] = settings
    app.state.templates = templates
    app.state.events = Events()
    activity.listen(app.state.events)
    capture.listen(app.state.events)
    app.state.defences = Defences()
    app.state.faults = Faults()  # queued by the control plane, when it is on

    install_web_basics(
        app,
        sessions=SessionStore.for_app(engine, BrowserSession, settings, AppSecret),
        cookie_name=SESSION_COOKIE,
        public_url=settings.issuer,
        # Photo uploads may be larger than a form; protocol endpoints refuse in JSON.
        large_bodies={"/api/photos": UPLOAD_BODY_BYTES, "/me/photos": UPLOAD_BODY_BYTES},
        json_prefixes=JSON_PREFIXES,
    )

    # What Mockgram serves. The authorization server's protocol (mockgram/oauth/):
    for router in (
        metadata.router,  # discovery and the JWKS (RFC 8414, OIDC Discovery)
        authorize.router,  # steps 1–4 (RFC 6749 §4.1, OIDC Core §3)
        responses.router,  # the form_post page's script
        token.router,  # step 5 (RFC 6749 §4.1.3, §6)
        device.router,  # the device authorization endpoint (RFC 8628 §3.1)
        revocation.router,  # RFC 7009
        introspection.router,  # RFC 7662
        registration.router,  # RFC 7591
        userinfo.router,  # OIDC Core §5.3
        par.router,  # pushed authorization requests (RFC 9126)
        end_session.router,  # OIDC RP-Initiated Logout 1.0
        # The pages people see:
        login.router,
        consent.router,
        device_pages.router,  # /device: John types the user code (RFC 8628 §3.3)
        home.router,
        apps.router,
        activity_page.router,
        developers.router,
        requests_page.router,  # what each app sent, and its report card
        errors_explained.router,
        avatars.router,
        shared_tour.router,
        # The photos API (the resource server, RFC 6750) and the container health check:
        photos.router,
        resource_metadata.router,  # RFC 9728: the photos API describes itself
        health.router,
    ):
        app.include_router(router)
    lab.install(app)  # the attack lab's one-shot switches (mockgram/lab.py)

    # Around every route: failed protocol requests are recorded for their error_uri pages,
    # public clients get CORS, and errors are answered as JSON or as pages.
    cors.install(app)
    if settings.capture_requests:  # what each client sent, for the portal (mockgram/capture.py)
        app.add_middleware(capture.RequestCapture, limit=settings.capture_limit)
    app.add_middleware(FailureRecorder, engine=engine, issuer=settings.issuer)
    _install_error_pages(app)
    bearer.install(app)
    unstorable_input.install(app)  # PostgreSQL-unstorable input (NUL): 400, not 500
    control_plane.install(app)  # /_control/ for other projects' tests: off unless configured
    # A page opened on another host name goes to the issuer's first (the 127.0.0.1 trap).
    app.add_middleware(CanonicalHost, public_url=settings.issuer, program_paths=PROGRAM_PREFIXES)
    trust_forwarded_headers(app, settings.forwarded_allow_ips)  # outermost: the client's address
    forbid_on_event_loop(engine)  # start-up work done: from here on, only off the loop
    return app


# Paths programs call (RFC 8615: every well-known URI is for programs); the authorization
# endpoint is the exception: a person's browser lands there.
PROGRAM_PREFIXES = ("/api/", "/oauth/", "/.well-known/", "/_control/")


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(PROGRAM_PREFIXES) and not path.startswith("/oauth/authorize")


def _install_error_pages(app: FastAPI) -> None:
    """Friendly pages for people, JSON for programs; never a framework 422 or a stack trace."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {
                    "error": "invalid_request" if exc.status_code < 500 else "server_error",
                    "error_description": str(exc.detail),
                    "error_uri": error_uri(
                        "invalid_request" if exc.status_code < 500 else "server_error"
                    ),
                },
                status_code=exc.status_code,
                headers=getattr(exc, "headers", None),
            )
        return render_error(
            request,
            status_code=exc.status_code,
            title=_TITLES.get(exc.status_code, "Something went wrong"),
            message=str(exc.detail),
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {
                    "error": "invalid_request",
                    "error_description": "The request is malformed.",
                    "error_uri": error_uri("invalid_request"),
                },
                status_code=400,
            )
        return render_error(
            request,
            status_code=400,
            title="That request was not understood",
            message="Some of the information sent with it was missing or malformed.",
        )

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {
                    "error": "server_error",
                    "error_description": "Unexpected error.",
                    "error_uri": error_uri("server_error"),
                },
                status_code=500,
            )
        return render_error(
            request,
            status_code=500,
            title="Something went wrong on Mockgram",
            message="The error was logged. Please try again.",
        )


_TITLES = {404: "Page not found", 405: "Method not allowed", 403: "Not allowed", 400: "Bad request"}
