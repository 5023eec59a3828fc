"""CORS for the endpoints a single-page app calls from the browser (Fetch standard, CORS protocol).

A SPA such as AwesomeService's PKCE demo runs in John's browser and calls Mockgram from there:
the token endpoint (code + PKCE, then refresh), the photos API and userinfo with its bearer
token, and the revocation endpoint on sign-out. The browser hands those cross-origin answers to
the page only when Mockgram says that origin may read them.

Decisions, written down:
- Which origins: exactly the origins (scheme://host[:port]) of the redirect URIs of registered
  PUBLIC clients. A confidential client calls Mockgram from its server, where CORS does not
  apply, so its origins gain nothing. Any other origin gets no CORS headers at all, and the
  browser keeps the response from the page.
- The allowed set comes from the database and is cached per process for ten seconds (it is
  public data); a newly registered SPA works on every worker within that time.
- The exact origin is echoed, never `*`, with `Vary: Origin` so no cache serves one origin's
  answer to another. Credentials (cookies) are never allowed: these endpoints take a bearer
  token or a form, never John's Mockgram session.
- A preflight (OPTIONS carrying Access-Control-Request-Method) from an allowed origin is
  answered here with 204: the path's methods, the Authorization and Content-Type request
  headers, and WWW-Authenticate exposed so the page can read a bearer error. A preflight from
  another origin goes on to the app like any OPTIONS request (405) and gets no CORS headers.
- Discovery and the JWKS are public documents: `Access-Control-Allow-Origin: *`.
- Introspection is for confidential clients only, so it is deliberately left out.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import anyio.to_thread
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockgram.models import Client
from shared.oauth_spec import JWKS_PATH, OAUTH_METADATA_PATH, OIDC_DISCOVERY_PATH

CACHE_SECONDS = 10.0
PREFLIGHT_MAX_AGE = "600"
# RFC 9449: a browser app sends its DPoP proof and reads the server's next nonce.
ALLOW_HEADERS = "Authorization, Content-Type, DPoP"
EXPOSE_HEADERS = "WWW-Authenticate, DPoP-Nonce"
# Public documents any page may read: discovery and the keys (RFC 8414 §3, OIDC Discovery §4).
PUBLIC_PATHS = frozenset({OIDC_DISCOVERY_PATH, OAUTH_METADATA_PATH, JWKS_PATH})
DEFAULT_PORTS = {"http": 80, "https": 443}

# Path (or prefix ending in "/") → the methods a browser app may use there.
CORS_PATHS: dict[str, str] = {
    "/api/": "GET, POST, DELETE",
    "/oauth/userinfo": "GET, POST",
    "/oauth/token": "POST",
    "/oauth/revoke": "POST",
}


def methods_for(path: str) -> str | None:
    """The methods allowed cross-origin on `path`, or None when CORS does not apply there."""
    for prefix, methods in CORS_PATHS.items():
        if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
            return methods
    return None


def origin_of(uri: str) -> str | None:
    """The ASCII serialisation of a URI's origin (RFC 6454 §6.2), None for non-web schemes."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if port is None or port == DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def load_public_client_origins(engine: Engine) -> frozenset[str]:
    """Origins of every public client's redirect URIs, read from the database."""
    with Session(engine) as session:
        rows = session.exec(select(Client.redirect_uris).where(Client.client_type == "public"))
        uris = [uri for row in rows.all() for uri in row.split("\n") if uri]
    return frozenset(origin for uri in uris if (origin := origin_of(uri)) is not None)


class AllowedOrigins:
    """The public clients' origins, reloaded from the database at most every CACHE_SECONDS."""

    def __init__(self) -> None:
        self.origins: frozenset[str] = frozenset()
        self.loaded_at: float | None = None

    async def get(self, engine: Engine) -> frozenset[str]:
        now = time.monotonic()
        if self.loaded_at is None or now - self.loaded_at >= CACHE_SECONDS:
            self.origins = await anyio.to_thread.run_sync(load_public_client_origins, engine)
            self.loaded_at = now
        return self.origins


class CorsMiddleware:
    """Answer preflights and add CORS headers on the paths in CORS_PATHS and on discovery."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.allowed = AllowedOrigins()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        methods = methods_for(path)
        public = path in PUBLIC_PATHS
        if methods is None and not public:
            await self.app(scope, receive, send)
            return

        headers = Headers(scope=scope)
        origin = headers.get("origin")
        allow_origin: str | None = None
        if public:
            allow_origin = "*"
        elif origin is not None:
            allowed = await self.allowed.get(scope["app"].state.engine)
            allow_origin = origin if origin in allowed else None

        preflight = scope["method"] == "OPTIONS" and "access-control-request-method" in headers
        if preflight and allow_origin is not None:
            response = Response(
                status_code=204,
                headers={
                    "Access-Control-Allow-Origin": allow_origin,
                    "Access-Control-Allow-Methods": methods or "GET",
                    "Access-Control-Allow-Headers": ALLOW_HEADERS,
                    "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
                    "Vary": "Origin",
                },
            )
            await response(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                if not public:
                    response_headers.add_vary_header("Origin")
                if allow_origin is not None:
                    response_headers["Access-Control-Allow-Origin"] = allow_origin
                    response_headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_cors)


def install(app: FastAPI) -> None:
    """Add the CORS middleware to Mockgram (called from create_app)."""
    app.add_middleware(CorsMiddleware)
