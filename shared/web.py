"""Look and feel and HTTP hygiene both apps share: templates, static files, security headers."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import BytecodeCache, ChoiceLoader, FileSystemLoader
from jinja2.bccache import Bucket
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.csrf import csrf_token
from shared.flash import pop_flashes
from shared.limits import BodyLimit
from shared.sessions import SessionStore, install_sessions
from shared.steps import STEPS
from shared.tour import tour_back, tour_on

SHARED_DIR = Path(__file__).resolve().parent

# RFC 9700 §4.16 (clickjacking), §4.2.4 (referrer leakage); no third-party resources anywhere.
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
        b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
]


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response (pure ASGI: no per-request overhead)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                # Pages show a person's own photos, orders, tokens: no shared or back-button
                # cache keeps them unless a route says otherwise (images, static files do).
                is_html = any(
                    name.lower() == b"content-type" and value.startswith(b"text/html")
                    for name, value in headers
                )
                if is_html and b"cache-control" not in present:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = headers + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CompiledTemplates(BytecodeCache):
    """Compiled templates kept for the whole process, shared by every app built in it.

    Each app has its own Jinja environment, and compiling a page's template is most of its first
    render; an in-process Mockgram built per test (the pytest plugin, this suite) would otherwise
    compile every page again for every test. Jinja checks each entry against the template's
    source, so an edited template is compiled anew.
    """

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self.compiled.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


def make_templates(app_templates: Path) -> Jinja2Templates:
    """Jinja2 templates: the app's own folder first, then the shared base and partials."""
    templates = Jinja2Templates(directory=str(app_templates))
    templates.env.bytecode_cache = COMPILED_TEMPLATES
    templates.env.loader = ChoiceLoader(
        [FileSystemLoader(str(app_templates)), FileSystemLoader(str(SHARED_DIR / "templates"))]
    )
    templates.env.globals["csrf_token"] = csrf_token
    templates.env.globals["steps"] = STEPS
    templates.env.globals["pop_flashes"] = pop_flashes
    templates.env.globals["tour_on"] = tour_on
    templates.env.globals["tour_back"] = tour_back
    return templates


def mount_shared_static(app: FastAPI) -> None:
    """Serve the shared stylesheet and images at /static/shared."""
    app.mount(
        "/static/shared", StaticFiles(directory=str(SHARED_DIR / "static")), name="shared-static"
    )


def render_error(
    request: Request,
    *,
    status_code: int,
    title: str,
    message: str,
    **context: object,
) -> Response:
    """The friendly HTML error page (shared error.html in the app's layout); never a redirect.

    Optional context: detail, hint, rfc, error_code, step, back_url, back_label, and error_uri
    (a link to the page that explains the error).
    """
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "title": title,
            "message": message,
            "status_code": status_code,
            "layout": "layout.html",
            **context,
        },
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


def install_web_basics(
    app: FastAPI,
    *,
    sessions: SessionStore,
    cookie_name: str,
    public_url: str,
    large_bodies: dict[str, int] | None = None,
    json_prefixes: tuple[str, ...] = (),
) -> None:
    """Server-side sessions, security headers and the shared static files, alike in both apps.

    The session cookie holds only a random id (shared/sessions.py); it is HttpOnly, SameSite=Lax,
    Secure when the app is served over https, and named per app: browsers share cookies across
    ports of one host.
    """
    install_sessions(app, store=sessions, cookie_name=cookie_name, public_url=public_url)
    # A body over the limit is a 413 before anything reads it (shared/limits.py).
    app.add_middleware(BodyLimit, larger=large_bodies, json_prefixes=json_prefixes)
    app.add_middleware(SecurityHeadersMiddleware)
    mount_shared_static(app)


def csrf_refused(request: Request) -> Response:
    """The page for a form without this session's CSRF token; nothing was changed (C8, item 28)."""
    return render_error(
        request,
        status_code=403,
        title="That form has expired",
        message="The form did not carry this browser's security token, or it came from another "
        "site, so nothing was changed.",
        hint="Go back, reload the page and try again.",
        error_code="csrf",
    )
