"""Interop: Authlib's OpenID Connect relying party against a running Mockgram.

The relying party is a tiny Starlette app built on Authlib's own Starlette integration
(`authlib.integrations.starlette_client.OAuth`, whose apps carry the OpenID mixin): /login calls
`authorize_redirect` (state and nonce kept in the session, PKCE S256), /callback calls
`authorize_access_token` (checks the state, redeems the code, validates the id_token against
the JWKS: signature, iss, aud, azp, exp, iat, nonce, at_hash if present) and then `userinfo()`.
Both apps run under uvicorn on loopback ports, Mockgram knows the relying party only through
RFC 7591 registration, and a scripted browser plays John between them. Afterwards the same
Authlib app refreshes (rotated refresh token, a new id_token it validates again; the old refresh
token is refused) and revokes (RFC 7009); Mockgram's userinfo then refuses the revoked token.
A second client registers for ES256 id_tokens, which Authlib validates with the EC key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from authlib.integrations.base_client import OAuthError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from joserfc.errors import InvalidClaimError
from joserfc.jws import extract_compact
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.e2e.authlib_helpers import (
    AUTHLIB_WARNINGS,
    interop_mockgram,
    john_signs_in_and_consents,
)
from tests.e2e.browser import Browser
from tests.e2e.servers import serve

pytestmark = AUTHLIB_WARNINGS

SCOPE = "openid profile email offline_access"


@dataclass
class RelyingParty:
    """The Starlette relying party, what its callback saw, and how to reach both servers."""

    mockgram_url: str
    url: str
    oauth: OAuth
    logins: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → token, userinfo
    refreshed: list[dict[str, Any]] = field(default_factory=list)  # Authlib's update_token hook

    @property
    def discovery_url(self) -> str:
        return f"{self.mockgram_url}/.well-known/openid-configuration"

    def register(self, name: str, client_name: str, **registration: Any) -> StarletteOAuth2App:
        """Register at Mockgram (RFC 7591), then give Authlib the client and discovery URL."""
        discovery = httpx.get(self.discovery_url, timeout=10).json()
        response = httpx.post(
            discovery["registration_endpoint"],
            json={
                "client_name": client_name,
                "redirect_uris": [f"{self.url}/callback/{name}"],
                "token_endpoint_auth_method": "client_secret_basic",
                "scope": SCOPE,
                **registration,
            },
            timeout=10,
        )
        assert response.status_code == 201, response.text
        registered = response.json()
        app = self.oauth.register(
            name,
            client_id=registered["client_id"],
            client_secret=registered["client_secret"],
            server_metadata_url=self.discovery_url,
            client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "timeout": 10},
        )
        assert isinstance(app, StarletteOAuth2App)
        return app

    def browser(self) -> tuple[Browser, list[httpx.Client]]:
        """A fresh browser: its own cookie jar for each of the two origins."""
        clients = [httpx.Client(timeout=10), httpx.Client(timeout=10)]
        return Browser({self.mockgram_url: clients[0], self.url: clients[1]}), clients


async def id_token_rules(app: StarletteOAuth2App) -> dict[str, Any]:
    """The issuer, as Authlib checks by default, and the audience, which it does not.

    Authlib's default `claims_options` pin only `iss`; its `azp` check refuses a token for another
    client only when `azp` is present. A relying party pins `aud` to its client_id (OIDC Core
    §3.1.3.7, step 3) by passing the option."""
    metadata = await app.load_server_metadata()
    return {
        "iss": {"essential": True, "values": [metadata["issuer"]]},
        "aud": {"essential": True, "values": [app.client_id]},
    }


def relying_party_app(rp: RelyingParty) -> Starlette:
    """Two routes and a session: everything else is Authlib's."""

    async def login(request: Request) -> Response:
        app = rp.oauth.create_client(request.path_params["name"])
        redirect_uri = request.url_for("callback", name=request.path_params["name"])
        return await app.authorize_redirect(request, redirect_uri)

    async def callback(request: Request) -> Response:
        name = request.path_params["name"]
        app = rp.oauth.create_client(name)
        try:
            token = await app.authorize_access_token(
                request, claims_options=await id_token_rules(app)
            )
        except OAuthError as error:
            return JSONResponse({"error": error.error}, status_code=400)
        userinfo = await app.userinfo(token=token)
        rp.logins[name] = {"token": token, "userinfo": userinfo}
        return JSONResponse({"signed_in_as": userinfo["sub"]})

    return Starlette(
        routes=[
            Route("/login/{name}", login),
            Route("/callback/{name}", callback, name="callback"),
        ],
        middleware=[Middleware(SessionMiddleware, secret_key="rp-session-key")],
    )


@pytest.fixture
def rp(mockgram_database_url: str) -> Iterator[RelyingParty]:
    async def update_token(name: str, token: dict[str, Any], **_: Any) -> None:
        rp.refreshed.append(token)

    with serve(interop_mockgram(mockgram_database_url)) as mockgram_url:
        rp = RelyingParty(mockgram_url, "", OAuth(update_token=update_token))
        with serve(lambda _url: relying_party_app(rp)) as rp_url:
            rp.url = rp_url
            yield rp


def sign_in(rp: RelyingParty, name: str, client_name: str) -> httpx.URL:
    """John signs in at the relying party through Mockgram; returns the authorization request."""
    browser, clients = rp.browser()
    try:
        to_mockgram = browser.get(f"{rp.url}/login/{name}")
        assert to_mockgram.status_code == 302
        authorization_request = httpx.URL(to_mockgram.headers["location"])
        back = john_signs_in_and_consents(browser, browser.follow(to_mockgram), client_name)
        done = browser.follow(back)
        assert done.status_code == 200, done.text
        return authorization_request
    finally:
        for client in clients:
            client.close()


def test_authlib_openid_client_login_id_token_userinfo_refresh_revoke(rp: RelyingParty) -> None:
    app = rp.register("mockgram", "Authlib OIDC interop")
    client_id = app.client_id
    browser, clients = rp.browser()
    with clients[0], clients[1]:
        # /login: Authlib discovers Mockgram and sends John with state, nonce and PKCE (S256).
        to_mockgram = browser.get(f"{rp.url}/login/mockgram")
        assert to_mockgram.status_code == 302
        sent = httpx.URL(to_mockgram.headers["location"])
        authorization_endpoint = app.server_metadata["authorization_endpoint"]
        assert str(sent.copy_with(query=None)) == authorization_endpoint
        assert sent.params["client_id"] == client_id
        assert sent.params["response_type"] == "code"
        assert sent.params["redirect_uri"] == f"{rp.url}/callback/mockgram"
        assert sent.params["scope"] == SCOPE
        assert sent.params["code_challenge_method"] == "S256"
        assert sent.params["code_challenge"] and sent.params["nonce"] and sent.params["state"]

        back = john_signs_in_and_consents(
            browser, browser.follow(to_mockgram), "Authlib OIDC interop"
        )
        returned = httpx.URL(back.headers["location"])
        assert str(returned.copy_with(query=None)) == f"{rp.url}/callback/mockgram"
        assert returned.params["state"] == sent.params["state"]
        assert returned.params["iss"] == rp.mockgram_url

        # Authlib refuses a callback whose state this browser's session never issued
        # (MismatchingStateError), and the genuine callback replayed by another browser (CSRF).
        forged = browser.get(str(returned.copy_merge_params({"state": "forged-state"})))
        assert (forged.status_code, forged.json()) == (400, {"error": "mismatching_state"})
        with httpx.Client(timeout=10) as stranger:
            replayed = stranger.get(str(returned))
        assert (replayed.status_code, replayed.json()) == (400, {"error": "mismatching_state"})
        assert "mockgram" not in rp.logins

        # The genuine callback (the code was not spent by the refused ones): the code redeemed,
        # the id_token validated by Authlib, userinfo called.
        done = browser.follow(back)
        assert done.status_code == 200, done.text

    token, userinfo = rp.logins["mockgram"]["token"], rp.logins["mockgram"]["userinfo"]
    assert token["token_type"].lower() == "bearer"
    assert {"access_token", "id_token", "refresh_token"} <= set(token)
    claims = token["userinfo"]  # the id_token's claims, as Authlib validated them
    assert claims["iss"] == rp.mockgram_url
    assert claims["aud"] == [client_id] and claims["azp"] == client_id
    assert claims["nonce"] == sent.params["nonce"]
    assert claims["sub"]
    assert extract_compact(token["id_token"].encode()).headers()["alg"] == "RS256"
    assert done.json() == {"signed_in_as": claims["sub"]}
    assert userinfo["sub"] == claims["sub"]  # OIDC Core §5.3.2
    assert userinfo["preferred_username"] == "john"
    assert "name" in userinfo and "email" in userinfo

    asyncio.run(_refresh_and_revoke(rp, app, token, sub=claims["sub"]))


async def _refresh_and_revoke(
    rp: RelyingParty, app: StarletteOAuth2App, token: dict[str, Any], *, sub: str
) -> None:
    # The same id_token, checked against a nonce or an audience it was not issued for.
    with pytest.raises(InvalidClaimError, match="nonce"):
        await app.parse_id_token(token, nonce="another-nonce")
    stranger = rp.oauth.register(
        "someone_else",
        client_id="someone-else",
        client_secret="unused",
        server_metadata_url=rp.discovery_url,
    )
    nonce = token["userinfo"]["nonce"]
    with pytest.raises(InvalidClaimError, match="azp"):  # Authlib's default rules
        await stranger.parse_id_token(token, nonce=nonce)
    with pytest.raises(InvalidClaimError, match="aud"):  # with the audience pinned
        await stranger.parse_id_token(
            token, nonce=nonce, claims_options=await id_token_rules(stranger)
        )

    # Refresh at the token endpoint from discovery: a rotated refresh token, a new id_token.
    refreshed = await app.fetch_access_token(
        grant_type="refresh_token", refresh_token=token["refresh_token"]
    )
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert refreshed["access_token"] != token["access_token"]
    refreshed_claims = await app.parse_id_token(
        refreshed, nonce=None, claims_options=await id_token_rules(app)
    )
    assert refreshed_claims["sub"] == sub
    assert (await app.userinfo(token=refreshed))["sub"] == sub

    # Revocation (RFC 7009) of the access token: Mockgram's userinfo refuses it at once.
    metadata = await app.load_server_metadata()
    async with app._get_oauth_client(**metadata) as client:
        revoked = await client.revoke_token(
            metadata["revocation_endpoint"],
            token=refreshed["access_token"],
            token_type_hint="access_token",
        )
    assert revoked.status_code == 200 and revoked.content == b""
    with pytest.raises(httpx.HTTPStatusError) as refused:
        await app.userinfo(token=refreshed)
    assert refused.value.response.status_code == 401
    assert 'error="invalid_token"' in refused.value.response.headers["www-authenticate"]

    # The rotated-away refresh token is refused (RFC 9700 §4.14.2: reuse)...
    with pytest.raises(OAuthError) as reused:
        await app.fetch_access_token(
            grant_type="refresh_token", refresh_token=token["refresh_token"]
        )
    assert reused.value.error == "invalid_grant"
    # ...and reuse ends the whole grant: the current refresh token goes with it.
    with pytest.raises(OAuthError) as ended:
        await app.fetch_access_token(
            grant_type="refresh_token", refresh_token=refreshed["refresh_token"]
        )
    assert ended.value.error == "invalid_grant"


def test_authlib_validates_an_es256_id_token_and_refreshes_an_expired_token(
    rp: RelyingParty,
) -> None:
    app = rp.register(
        "mockgram_es256", "Authlib OIDC interop ES256", id_token_signed_response_alg="ES256"
    )
    sent = sign_in(rp, "mockgram_es256", "Authlib OIDC interop ES256")

    token = rp.logins["mockgram_es256"]["token"]
    assert extract_compact(token["id_token"].encode()).headers()["alg"] == "ES256"
    claims = token["userinfo"]  # Authlib checked the ES256 signature against the EC key in JWKS
    assert claims["aud"] == [app.client_id] and claims["nonce"] == sent.params["nonce"]
    assert rp.logins["mockgram_es256"]["userinfo"]["sub"] == claims["sub"]

    asyncio.run(_expired_then_revoked(rp, app, token, sub=claims["sub"]))


async def _expired_then_revoked(
    rp: RelyingParty, app: StarletteOAuth2App, token: dict[str, Any], *, sub: str
) -> None:
    # An access token the client holds as expired: Authlib refreshes it on its own before the
    # userinfo call and hands the new token to the OAuth registry's update_token hook.
    assert (await app.userinfo(token={**token, "expires_at": 1}))["sub"] == sub
    assert len(rp.refreshed) == 1
    renewed = rp.refreshed[0]
    assert renewed["refresh_token"] != token["refresh_token"]
    renewed_claims = await app.parse_id_token(
        renewed, nonce=None, claims_options=await id_token_rules(app)
    )
    assert renewed_claims["sub"] == sub

    # Revoking the refresh token (RFC 7009) ends the grant, its access tokens included.
    metadata = await app.load_server_metadata()
    async with app._get_oauth_client(**metadata) as client:
        revoked = await client.revoke_token(
            metadata["revocation_endpoint"],
            token=renewed["refresh_token"],
            token_type_hint="refresh_token",
        )
    assert revoked.status_code == 200
    with pytest.raises(httpx.HTTPStatusError) as refused:
        await app.userinfo(token=renewed)
    assert refused.value.response.status_code == 401
    with pytest.raises(OAuthError) as ended:
        await app.fetch_access_token(
            grant_type="refresh_token", refresh_token=renewed["refresh_token"]
        )
    assert ended.value.error == "invalid_grant"
