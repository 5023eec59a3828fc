"""The two single-page demos: the article's implicit flow, and the modern way beside it.

`/spa/implicit` — RFC 6749 §4.2: `response_type=token`, the access token comes back in the URL
fragment to JavaScript. Kept for teaching only: RFC 9700 §2.1.2 says clients SHOULD NOT use it.
`/spa/pkce` — RFC 6749 §4.1 with RFC 7636 (PKCE S256) from the browser, as a public client
(RFC 6749 §2.1, no secret), the token endpoint called with CORS; RFC 9700 §2.1.1.

Both are static pages: the JavaScript is in awesomeservice/static/spa/, its configuration in
data- attributes. Each page's Content-Security-Policy lets scripts talk to its own origin and to
Mockgram's public URL only (`connect-src`); the browser talks to Mockgram directly, AwesomeService's
back end is not involved.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from awesomeservice.backchannel import MockgramUnavailable
from awesomeservice.deps import DiscoveryDep, HttpDep, SettingsDep, TemplatesDep
from awesomeservice.errors import mockgram_unavailable
from awesomeservice.settings import AwesomeServiceSettings

router = APIRouter()


def spa_csp(settings: AwesomeServiceSettings) -> str:
    """The shared policy plus `connect-src` for Mockgram's public URL (the page's fetch calls)."""
    return (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
        f"connect-src 'self' {settings.mockgram_url}; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


async def _page(
    request: Request,
    templates: TemplatesDep,
    settings: AwesomeServiceSettings,
    http: HttpDep,
    discovery: DiscoveryDep,
    *,
    template: str,
    title: str,
    client_id: str,
    path: str,
) -> Response:
    try:
        metadata = await discovery.metadata(http, settings.mockgram_url)
    except MockgramUnavailable as exc:
        return await mockgram_unavailable(request, exc, step=1)
    config = {
        "issuer": metadata.issuer,
        # Public URLs: the browser, not our back end, calls them.
        "authorization_endpoint": metadata.authorization_endpoint,
        "token_endpoint": metadata.token_endpoint,
        "api": f"{settings.mockgram_url}/api/photos",
        "client_id": client_id,
        "redirect_uri": f"{settings.url}{path}",
        "scope": settings.spa_scope,
    }
    return templates.TemplateResponse(
        request,
        template,
        {"page_title": title, "config": config},
        headers={"Content-Security-Policy": spa_csp(settings), "Cache-Control": "no-store"},
    )


@router.get("/spa/implicit")
async def spa_implicit(
    request: Request,
    templates: TemplatesDep,
    settings: SettingsDep,
    http: HttpDep,
    discovery: DiscoveryDep,
) -> Response:
    """The implicit flow demo (teaching only, RFC 9700 §2.1.2)."""
    return await _page(
        request,
        templates,
        settings,
        http,
        discovery,
        template="spa_implicit.html",
        title="Single-page app: the implicit flow (teaching only)",
        client_id=settings.spa_implicit_client_id,
        path="/spa/implicit",
    )


@router.get("/spa/pkce")
async def spa_pkce(
    request: Request,
    templates: TemplatesDep,
    settings: SettingsDep,
    http: HttpDep,
    discovery: DiscoveryDep,
) -> Response:
    """The code + PKCE demo: a public client in the browser."""
    return await _page(
        request,
        templates,
        settings,
        http,
        discovery,
        template="spa_pkce.html",
        title="Single-page app: code + PKCE",
        client_id=settings.spa_pkce_client_id,
        path="/spa/pkce",
    )
