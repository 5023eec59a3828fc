"""Step 5 and after — the token endpoint, called over the back channel (RFC 6749 §3.2).

The client authenticates the way the provider's metadata accepts (RFC 6749 §2.3.1, RFC 8414
§2): client_secret_basic, else client_secret_post, or `none` — the client_id alone — for a
public client (§2.1). Then one of three calls:
- the code, with its redirect_uri and PKCE verifier (RFC 6749 §4.1.3, RFC 7636 §4.5);
- the refresh_token grant (RFC 6749 §6), whose refreshed id_token must keep `iss` and `sub`
  (OIDC Core §12.2, SECURITY.md C9);
- revocation of a token at the revocation endpoint (RFC 7009 §2).
With DPoP (AWESOMESERVICE_USE_DPOP, RFC 9449 §5) the token calls carry a proof by the print
shop's key, once more with the server's nonce when it asks (§8), and a `DPoP` token_type is
expected back.
The answer is checked as §5.1 and §5.2 say before anything is kept.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

import httpx

from awesomeservice.backchannel import MockgramUnavailable, json_object, send
from awesomeservice.events import (
    CodeExchanged,
    Events,
    RequestRefused,
    TokenRefreshed,
    TokenRevoked,
)
from awesomeservice.oauth.discovery import Discovery, ProviderMetadata
from awesomeservice.oauth.dpop import NONCE_HEADER, DpopSender
from awesomeservice.oauth.id_token import IdToken, validate_id_token
from shared.clock import utcnow


@dataclass(frozen=True)
class TokenSet:
    """What the token endpoint answered (RFC 6749 §5.1)."""

    access_token: str
    token_type: str
    scope: str
    expires_at: datetime | None
    refresh_token: str | None
    id_token: str | None = None


class TokenError(Exception):
    """The token endpoint answered with an OAuth error (RFC 6749 §5.2)."""

    def __init__(self, error: str, description: str, status_code: int, error_uri: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.description = description
        self.status_code = status_code
        # RFC 6749 §5.2: the provider's own page about the error, as sent (not yet checked).
        self.error_uri = error_uri


class SubjectChanged(Exception):
    """OIDC Core §12.2: a refreshed id_token names another `sub` than the one we hold."""


# ── Client authentication (RFC 6749 §2.3.1) ─────────────────────────────────────────────────


@dataclass(frozen=True)
class Client:
    """Who calls the token endpoint, and how it proves it."""

    client_id: str
    secret: str  # "" for a public client
    auth_method: str  # "client_secret_basic", "client_secret_post" or "none"
    dpop: DpopSender | None = None  # RFC 9449: prove the key at the token endpoint


def auth_method(offered: object, *, has_secret: bool = True) -> str:
    """client_secret_basic where the provider takes it, else client_secret_post (RFC 6749
    §2.3.1); `none` without a secret (§2.1). RFC 8414 §2 / OIDC Discovery §3: an absent list
    means client_secret_basic."""
    if not has_secret:
        return "none"
    if isinstance(offered, list | tuple) and offered and "client_secret_basic" not in offered:
        return "client_secret_post"
    return "client_secret_basic"


def client_for(metadata: ProviderMetadata, client_id: str, secret: str) -> Client:
    """A confidential client, authenticated the way this provider accepts."""
    offered = metadata.token_endpoint_auth_methods_supported
    return Client(client_id, secret, auth_method(offered, has_secret=bool(secret)))


def client_secret_basic(client_id: str, secret: str) -> str:
    """RFC 6749 §2.3.1: form-urlencode id and secret, join with ':', then Base64."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


def authentication(client: Client) -> tuple[dict[str, str], dict[str, str]]:
    """The headers and the form fields that authenticate `client` (RFC 6749 §2.3.1, §2.1)."""
    if client.auth_method == "client_secret_basic":
        return {"Authorization": client_secret_basic(client.client_id, client.secret)}, {}
    if client.auth_method == "client_secret_post":
        return {}, {"client_id": client.client_id, "client_secret": client.secret}
    return {}, {"client_id": client.client_id}


async def post(
    http: httpx.AsyncClient,
    url: str,
    client: Client,
    form: dict[str, str],
    extra_headers: dict[str, str] | None = None,
) -> httpx.Response:
    """One authenticated POST to the token or revocation endpoint (`url` on the back channel)."""
    headers, fields = authentication(client)
    return await send(
        http,
        "POST",
        url,
        data={**form, **fields},
        headers={"Accept": "application/json", **headers, **(extra_headers or {})},
    )


async def post_with_proof(
    http: httpx.AsyncClient, url: str, client: Client, form: dict[str, str]
) -> httpx.Response:
    """The token call, with a DPoP proof when the client has a key (RFC 9449 §5)."""
    if client.dpop is None:
        return await post(http, url, client, form)
    # htu is Mockgram's public URL with the endpoint's path, whatever address we call.
    path = httpx.URL(url).path
    response = await post(http, url, client, form, {"DPoP": client.dpop.proof("POST", path)})
    nonce = response.headers.get(NONCE_HEADER)
    if response.status_code == 400 and nonce and b"use_dpop_nonce" in response.content:
        # RFC 9449 §8: the server wants its nonce in the proof; sign again, once.
        proof = client.dpop.proof("POST", path, nonce=nonce)
        response = await post(http, url, client, form, {"DPoP": proof})
    return response


# ── The token call (RFC 6749 §5) ────────────────────────────────────────────────────────────


def _text(body: dict[str, Any], name: str, limit: int | None = None) -> str:
    value = body.get(name)
    return value[:limit] if isinstance(value, str) else ""


def _expiry(expires_in: object) -> datetime | None:
    """RFC 6749 §5.1: expires_in, in seconds, is optional."""
    if isinstance(expires_in, int) and not isinstance(expires_in, bool) and expires_in > 0:
        return utcnow() + timedelta(seconds=expires_in)
    return None


def token_set(response: httpx.Response, requested_scope: str, *, dpop: bool = False) -> TokenSet:
    """The token endpoint's answer, checked (RFC 6749 §5.1), or its error (§5.2)."""
    body = json_object(response)
    if response.status_code != 200:
        # RFC 6749 §5.2: error responses carry an error code.
        raise TokenError(
            _text(body, "error") or "server_error",
            _text(body, "error_description", 300),
            response.status_code,
            _text(body, "error_uri", 500),
        )
    access_token = body.get("access_token")
    token_type = body.get("token_type")
    # RFC 6749 §5.1: access_token and token_type are required; we know Bearer, and DPoP when
    # we sent a proof (RFC 9449 §5).
    if not isinstance(access_token, str) or not access_token:
        raise MockgramUnavailable("bad_answer", "The token response had no access_token.")
    known = {"bearer": "Bearer"} | ({"dpop": "DPoP"} if dpop else {})
    if not isinstance(token_type, str) or token_type.lower() not in known:
        raise MockgramUnavailable("bad_answer", "The token response was not a Bearer token.")
    return TokenSet(
        access_token=access_token,
        token_type=known[token_type.lower()],
        # RFC 6749 §5.1: an omitted scope means the scope requested.
        scope=_text(body, "scope") or requested_scope,
        expires_at=_expiry(body.get("expires_in")),
        refresh_token=_text(body, "refresh_token") or None,
        id_token=_text(body, "id_token") or None,
    )


async def _token_call(
    http: httpx.AsyncClient,
    events: Events,
    url: str,
    client: Client,
    form: dict[str, str],
    requested_scope: str,
) -> TokenSet:
    """POST the grant, read the answer; a refusal is announced before it is raised."""
    try:
        response = await post_with_proof(http, url, client, form)
        return token_set(response, requested_scope, dpop=client.dpop is not None)
    except TokenError as refused:
        await events.announce(RequestRefused(step=5, reason=refused.error))
        raise


async def redeem_code(
    http: httpx.AsyncClient,
    events: Events,
    url: str,
    client: Client,
    *,
    code: str,
    redirect_uri: str,
    code_verifier: str,
    requested_scope: str,
) -> TokenSet:
    """RFC 6749 §4.1.3: the code, for tokens."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        # RFC 6749 §4.1.3: the same redirect_uri as in step 1.
        "redirect_uri": redirect_uri,
        # RFC 7636 §4.5: proves we are the ones who sent the challenge.
        "code_verifier": code_verifier,
    }
    tokens = await _token_call(http, events, url, client, form, requested_scope)
    await events.announce(
        CodeExchanged(client.client_id, tokens.scope, tokens.id_token is not None)
    )
    return tokens


async def refresh(
    http: httpx.AsyncClient,
    events: Events,
    url: str,
    client: Client,
    *,
    refresh_token: str,
    scope: str,
) -> TokenSet:
    """RFC 6749 §6: the refresh_token grant; scope omitted means the scope first granted."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    tokens = await _token_call(http, events, url, client, form, scope)
    rotated = tokens.refresh_token is not None and tokens.refresh_token != refresh_token
    await events.announce(TokenRefreshed(client.client_id, tokens.scope, rotated))
    return tokens


async def checked_id_token(
    http: httpx.AsyncClient,
    events: Events,
    discovery: Discovery,
    metadata: ProviderMetadata,
    *,
    client_id: str,
    tokens: TokenSet,
    nonce: str | None,
) -> IdToken | None:
    """The id_token that came with `tokens`, validated (OIDC Core §3.1.3.7); None without one."""
    if tokens.id_token is None:
        return None
    return await validate_id_token(
        tokens.id_token,
        http=http,
        events=events,
        discovery=discovery,
        metadata=metadata,
        client_id=client_id,
        nonce=nonce,
        access_token=tokens.access_token,
    )


def kept_subject(checked: IdToken | None, subject: str | None) -> str | None:
    """The sub to keep after an id_token came (or none did) with tokens for `subject` (None
    before the first): after a refresh it must be the same person (OIDC Core §12.2)."""
    if checked is None:
        return subject
    if subject is not None and checked.sub != subject:
        raise SubjectChanged(checked.sub)
    return checked.sub


# ── Revocation (RFC 7009) ───────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Revocation:
    """What happened to one token at the provider."""

    token_type_hint: str
    outcome: str  # "revoked", "refused", "unreachable", "unsupported"
    detail: str = ""


async def _revoke_one(
    http: httpx.AsyncClient, url: str, client: Client, hint: str, token: str
) -> Revocation:
    try:
        # RFC 7009 §2.1: the token, a hint of its type, and the client's authentication.
        response = await post(http, url, client, {"token": token, "token_type_hint": hint})
    except MockgramUnavailable as exc:
        return Revocation(hint, "unreachable", exc.detail)
    # RFC 7009 §2.2: 200 means revoked (or already invalid — the same to us).
    if response.status_code == 200:
        return Revocation(hint, "revoked")
    return Revocation(hint, "refused", f"HTTP {response.status_code}")


async def revoke(
    http: httpx.AsyncClient,
    events: Events,
    url: str | None,
    client: Client,
    tokens: list[tuple[str, str]],
) -> list[Revocation]:
    """Revoke each (token_type_hint, token) in order — the refresh token first, which ends the
    whole grant (RFC 7009 §2.1); `url` None when the provider offers no revocation endpoint."""
    results = [
        await _revoke_one(http, url, client, hint, token)
        if url
        else Revocation(hint, "unsupported")
        for hint, token in tokens
    ]
    for result in results:
        await events.announce(TokenRevoked(result.token_type_hint, result.outcome))
    return results
