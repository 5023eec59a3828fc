"""Step 4's envelope — how an authorization response reaches the client (response modes).

- `query` (RFC 6749 §4.1.2): parameters in the redirect URI's query; the default for `code`.
- `fragment` (RFC 6749 §4.2.2, OAuth 2.0 Multiple Response Types §2.1): after `#`, which the
  browser never sends to a server; the default for every type that returns a token or id_token.
- `form_post` (OAuth 2.0 Form Post Response Mode §2): a page whose form POSTs the parameters
  to the redirect URI, so they appear neither in a URL nor in the browser's history.

Every response — success or error — carries `iss` (RFC 9207 §2) and `state` when one was sent.
The form_post page submits itself with a static script (the CSP forbids inline scripts) and
shows a Continue button for browsers without JavaScript; its CSP allows the form to go only to
the redirect URI's origin.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from mockgram.failures import error_uri
from mockgram.oauth.errors import NO_STORE_HEADERS, OAuthError

router = APIRouter()

QUERY, FRAGMENT, FORM_POST = "query", "fragment", "form_post"
RESPONSE_MODES = (QUERY, FRAGMENT, FORM_POST)

FORM_POST_SCRIPT_PATH = "/oauth/form_post.js"
_FORM_POST_SCRIPT = (
    Path(__file__).resolve().parent.parent / "static" / "form_post.js"
).read_bytes()


def default_mode(response_type_words: frozenset[str]) -> str:
    """query for `code` alone, fragment when a token is returned (Multiple Response Types §5)."""
    return QUERY if response_type_words == {"code"} else FRAGMENT


def returns_token(response_type_words: frozenset[str]) -> bool:
    """True when the front channel would carry an access token or an id_token."""
    return bool(response_type_words & {"token", "id_token"})


def error_params(exc: OAuthError, *, state: str | None, issuer: str) -> dict[str, str | None]:
    """Only error, error_description, error_uri, state and iss (RFC 6749 §4.1.2.1, RFC 9207)."""
    return {
        "error": exc.error,
        "error_description": exc.description or None,
        "error_uri": error_uri(exc.error, issuer=issuer),
        "state": state,
        "iss": issuer,
    }


def authorization_response(
    request: Request, redirect_uri: str, params: dict[str, str | None], *, mode: str
) -> Response:
    """Deliver `params` (None values dropped) to the registered redirect URI in `mode`."""
    if mode == FORM_POST:
        return form_post_page(request, redirect_uri, params)
    target = (
        with_fragment(redirect_uri, params)
        if mode == FRAGMENT
        else append_query(redirect_uri, params)
    )
    # RFC 6749 §5.1 in spirit: an answer carrying a code or tokens is never cached.
    return RedirectResponse(target, status_code=303, headers=NO_STORE_HEADERS)


def error_response(
    request: Request,
    redirect_uri: str,
    exc: OAuthError,
    *,
    state: str | None,
    issuer: str,
    mode: str,
) -> Response:
    """An authorization error, in the response mode of the request (Multiple Response Types §5)."""
    params = error_params(exc, state=state, issuer=issuer)
    return authorization_response(request, redirect_uri, params, mode=mode)


def append_query(uri: str, params: dict[str, str | None]) -> str:
    """Add parameters to a redirect URI, keeping any query it was registered with (§3.1.2)."""
    parts = urlsplit(uri)
    extra = urlencode({name: value for name, value in params.items() if value is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def with_fragment(uri: str, params: dict[str, str | None]) -> str:
    """The redirect URI with the parameters in its fragment (RFC 6749 §4.2.2)."""
    parts = urlsplit(uri)
    fragment = urlencode({name: value for name, value in params.items() if value is not None})
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, fragment))


def origin_of(uri: str) -> str:
    """scheme://host[:port] of a registered redirect URI (for the CSP form-action)."""
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def form_post_page(request: Request, redirect_uri: str, params: dict[str, str | None]) -> Response:
    """Form Post Response Mode §2: an auto-submitting form, with a Continue button without JS."""
    fields = [(name, value) for name, value in params.items() if value is not None]
    csp = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        f"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        f"form-action 'self' {origin_of(redirect_uri)}"
    )
    return request.app.state.templates.TemplateResponse(
        request,
        "form_post.html",
        {
            "page_title": "Taking you back",
            "step": 4,
            "action": redirect_uri,
            "fields": fields,
            "destination": urlsplit(redirect_uri).netloc,
            "is_error": "error" in params,
            "script_path": FORM_POST_SCRIPT_PATH,
        },
        headers={"Content-Security-Policy": csp, **NO_STORE_HEADERS},
    )


@router.get(FORM_POST_SCRIPT_PATH, include_in_schema=False)
async def form_post_script() -> Response:
    """The static script that submits the form_post page (no inline script: the CSP says so)."""
    return Response(
        _FORM_POST_SCRIPT,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600"},
    )
