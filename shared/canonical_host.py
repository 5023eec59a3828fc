"""The 127.0.0.1 trap: a page opened under another host name is sent to the public URL first.

Browsers keep cookies per host name, not per port. A reader who opens http://127.0.0.1:8000
while the app's public URL is http://localhost:8000 starts Connect Mockgram there, with the
`state` in a session cookie for 127.0.0.1 — and Mockgram sends him back to the redirect URI, on
localhost, where that cookie does not exist: the callback cannot match the state, and the story
breaks on its first try. So a page opened under any other name is redirected to the same path and
query on the public URL, before the app behind this middleware can set a cookie.

Only what a person's browser opens is moved: a GET or HEAD asking for a page (`Accept` names
text/html, as browsers do for every page and programs do not), outside the paths programs call.
The back channel between containers reaches an app on its internal name (http://mockgram:8001,
README's "URL split"), and the health check on whatever address the orchestrator uses: those
keep working wherever they arrive.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

# Never moved, whatever the host: the health check and the static files (a page's own assets
# follow the page, which was moved already).
ALWAYS_SERVED = ("/healthz", "/static/")


class CanonicalHost:
    """Redirect a browser's page request on another host name to the public URL (307)."""

    def __init__(
        self, app: ASGIApp, *, public_url: str, program_paths: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        parts = urlsplit(public_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.netloc = parts.netloc.lower()
        self.default_port = {"http": ":80", "https": ":443"}.get(parts.scheme, "")
        self.passed = ALWAYS_SERVED + program_paths

    def elsewhere(self, scope: Scope) -> bool:
        """Whether this is a browser's page request under a host name that is not the public one."""
        if scope["method"] not in ("GET", "HEAD"):
            return False
        path: str = scope["path"]
        if path.startswith(self.passed):
            return False
        headers = Headers(scope=scope)
        host = headers.get("host", "").lower()
        if not host or host in (self.netloc, self.netloc + self.default_port):
            return False
        return "text/html" in headers.get("accept", "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.elsewhere(scope):
            raw = scope.get("raw_path") or scope["path"].encode()
            query = scope.get("query_string", b"")
            target = self.origin + raw.decode("latin-1")
            if query:
                target += "?" + query.decode("latin-1")
            # Temporary: the public URL is a setting, and a browser must not remember this.
            response = RedirectResponse(
                target, status_code=307, headers={"Cache-Control": "no-store"}
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
