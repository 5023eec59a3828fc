"""A small third-party app with "Log in with Mockgram": the authorization code flow with PKCE,
written with httpx and joserfc, the way any app would log in with an OpenID provider.

It knows nothing of Mockgram's code: only its issuer URL and a client registered there. Its own
tests (tests/) run it against Mockgram with the pytest plugin Mockgram ships.

    cd examples/login_with_mockgram && EXAMPLE_ISSUER=… uvicorn --factory app:app_from_environment
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.middleware.sessions import SessionMiddleware


@dataclass(frozen=True)
class Settings:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    session_secret: str = "change-me-in-production"
    timeout_seconds: float = 5.0


class LoginFailed(Exception):
    """The provider refused, or its answer could not be trusted; the message says which."""


def pkce_pair() -> tuple[str, str]:
    """RFC 7636 §4.1–4.2: a verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def create_app(settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """The app; `transport` lets a test route its calls to an in-process provider."""
    app = FastAPI()
    app.add_middleware(SessionMiddleware, secret_key=settings.session_secret, same_site="lax")

    def http() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=transport, timeout=settings.timeout_seconds)

    async def metadata() -> dict[str, Any]:
        cached = getattr(app.state, "metadata", None)
        if cached is None:
            async with http() as client:
                url = f"{settings.issuer}/.well-known/openid-configuration"
                cached = (await client.get(url)).raise_for_status().json()
            if cached.get("issuer") != settings.issuer:  # OIDC Discovery §4.3
                raise LoginFailed("The discovery document names another issuer.")
            app.state.metadata = cached
        return cached

    async def exchange(code: str, verifier: str) -> dict[str, Any]:
        """RFC 6749 §4.1.3: the code, our secret (HTTP Basic) and the PKCE verifier."""
        token_endpoint = (await metadata())["token_endpoint"]
        async with http() as client:
            response = await client.post(
                token_endpoint,
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": settings.redirect_uri,
                    "code_verifier": verifier,
                },
                auth=(settings.client_id, settings.client_secret),
            )
        body = response.json()
        if response.status_code != 200:
            raise LoginFailed(f"Mockgram refused the login: {body.get('error', 'unknown error')}.")
        return body

    async def verified_id_token(id_token: str, nonce: str) -> dict[str, Any]:
        """OIDC Core §3.1.3.7: signature (the provider's JWKS), iss, aud, exp, nonce."""
        async with http() as client:
            jwks = (await client.get((await metadata())["jwks_uri"])).raise_for_status().json()
        try:
            token = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=["RS256", "ES256"])
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": settings.issuer},
                aud={"essential": True, "value": settings.client_id},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise LoginFailed(f"The id_token could not be trusted ({exc}).") from exc
        return dict(token.claims)

    def page(body: str, status_code: int = 200) -> HTMLResponse:
        document = f"<!doctype html><title>Example</title><main>{body}</main>"
        return HTMLResponse(document, status_code)

    @app.get("/")
    async def home(request: Request) -> Response:
        user = request.session.get("user")
        if user is None:
            return page('<a href="/login">Log in with Mockgram</a>')
        return page(f"Hello, {html.escape(str(user.get('name') or user['sub']))}!")

    @app.get("/login")
    async def login(request: Request) -> Response:
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        request.session["pending"] = {"state": state, "nonce": nonce, "verifier": verifier}
        query = {
            "response_type": "code",
            "client_id": settings.client_id,
            "redirect_uri": settings.redirect_uri,
            "scope": "openid profile email",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        endpoint = (await metadata())["authorization_endpoint"]
        return RedirectResponse(f"{endpoint}?{urlencode(query)}", status_code=302)

    @app.get("/callback")
    async def callback(request: Request) -> Response:
        pending = request.session.pop("pending", None)
        params = request.query_params
        # RFC 6749 §10.12 and RFC 9207 §2.4: our own state, from the issuer we asked.
        if pending is None or params.get("state") != pending["state"]:
            return page("This login was not started here.", 400)
        if params.get("iss") != settings.issuer:
            return page("The answer came from another issuer.", 400)
        if "code" not in params:
            return page(f"Login refused: {html.escape(params.get('error', 'no code'))}.", 400)
        try:
            tokens = await exchange(params["code"], pending["verifier"])
            claims = await verified_id_token(tokens["id_token"], pending["nonce"])
        except LoginFailed as exc:
            return page(html.escape(str(exc)), 502)
        except httpx.HTTPError:
            return page("Mockgram did not answer in time; please try again.", 504)
        request.session["user"] = {
            "sub": claims["sub"],
            "name": claims.get("name"),
            "email": claims.get("email"),
            "groups": claims.get("groups", []),
        }
        return RedirectResponse("/", status_code=303)

    @app.get("/api/me")
    async def api_me(request: Request) -> Response:
        """An API that accepts Mockgram access tokens: it asks Mockgram's userinfo who it is."""
        authorization = request.headers.get("authorization", "")
        if not authorization.lower().startswith("bearer "):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        async with http() as client:
            answer = await client.get(
                (await metadata())["userinfo_endpoint"], headers={"Authorization": authorization}
            )
        if answer.status_code != 200:
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        return JSONResponse({"you_are": answer.json()})

    return app


def app_from_environment() -> FastAPI:
    """For uvicorn: settings from EXAMPLE_ISSUER, EXAMPLE_CLIENT_ID, … ."""
    return create_app(
        Settings(
            issuer=os.environ["EXAMPLE_ISSUER"],
            client_id=os.environ["EXAMPLE_CLIENT_ID"],
            client_secret=os.environ["EXAMPLE_CLIENT_SECRET"],
            redirect_uri=os.environ.get("EXAMPLE_REDIRECT_URI", "http://127.0.0.1:8080/callback"),
        )
    )
