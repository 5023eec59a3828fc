"""Real tokens without a browser: the authorization code flow with PKCE, driven over HTTP.

`token_for` does what an app's back end and a person's browser would: it queues the person
(so Mockgram's non-interactive sign-in picks them), sends the browser to the authorization
endpoint (RFC 6749 §4.1.1) with state, a nonce and a PKCE challenge (RFC 7636 §4.3), follows
Mockgram's redirects through sign-in and consent to the redirect URI, checks state and iss
(RFC 9207 §2.4), and trades the code for tokens at the token endpoint (RFC 6749 §4.1.3).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

if TYPE_CHECKING:
    from mockgram.testing.control import RegisteredClient
    from mockgram.testing.instances import Mockgram

DEFAULT_CLIENT_ID = "mockgram-tests"
DEFAULT_REDIRECT_URI = "http://127.0.0.1/callback"
ALL_SCOPES = "openid profile email photos.read photos.write offline_access"
MAX_REDIRECTS = 10


class FlowError(AssertionError):
    """The flow did not reach a code; the message says where it stopped and why."""


@dataclass(frozen=True)
class Tokens:
    """What the token endpoint answered (RFC 6749 §5.1), and the client that asked."""

    access_token: str
    token_type: str
    expires_in: int | None
    scope: str
    refresh_token: str | None
    id_token: str | None
    client_id: str
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


def pkce_pair() -> tuple[str, str]:
    """A fresh verifier and its S256 challenge (RFC 7636 §4.1, §4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_in_browser(browser: httpx.Client, authorization_url: str, *, issuer: str) -> str:
    """Follow Mockgram's redirects from the authorization URL until one leaves Mockgram."""
    url = authorization_url
    for _ in range(MAX_REDIRECTS):
        response = browser.get(url)
        if response.status_code not in (302, 303):
            raise FlowError(
                f"Mockgram answered {response.status_code} at {urlsplit(url).path}, not a "
                "redirect: is non-interactive mode on (MOCKGRAM_NON_INTERACTIVE)? "
                + response.text[:300]
            )
        url = urljoin(url, response.headers["location"])
        if not url.startswith(issuer + "/"):
            return url
    raise FlowError("Mockgram kept redirecting; no answer for the client came back.")


def default_client(mockgram: Mockgram) -> RegisteredClient:
    """The plugin's own confidential client, allowed every scope (registered once per app)."""
    cached = getattr(mockgram, "_default_client", None)
    if cached is None:
        cached = mockgram.control.register_client(
            DEFAULT_CLIENT_ID,
            redirect_uris=[DEFAULT_REDIRECT_URI],
            scopes=ALL_SCOPES,
            name="Mockgram tests",
        )
        mockgram._default_client = cached  # type: ignore[attr-defined]
    return cached


def token_for(
    mockgram: Mockgram,
    user: str,
    scopes: str = "openid",
    *,
    client: RegisteredClient | None = None,
    claims: dict[str, Any] | None = None,
) -> Tokens:
    """Access, refresh and id tokens for `user`, as `client` would get them (see the module)."""
    client = client or default_client(mockgram)
    mockgram.control.next_login(user, claims)
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "scope": scopes,
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    back = mockgram.authorize(f"{mockgram.url}/oauth/authorize?{urlencode(query)}")
    answer = {name: values[0] for name, values in parse_qs(urlsplit(back).query).items()}
    if answer.get("state") != state or answer.get("iss") != mockgram.url:
        raise FlowError(f"The answer's state or iss is wrong: {back}")
    if "code" not in answer:
        raise FlowError(f"No code: {answer.get('error')} {answer.get('error_description', '')}")
    form = {
        "grant_type": "authorization_code",
        "code": answer["code"],
        "redirect_uri": client.redirect_uri,
        "code_verifier": verifier,
    }
    auth = None
    if client.secret is None:
        form["client_id"] = client.client_id
    else:
        auth = httpx.BasicAuth(client.client_id, client.secret)  # RFC 6749 §2.3.1
    with mockgram.http() as back_end:
        response = back_end.post("/oauth/token", data=form, auth=auth)
    body = response.json()
    if response.status_code != 200:
        raise FlowError(f"The token endpoint answered {response.status_code}: {body}")
    return Tokens(
        access_token=body["access_token"],
        token_type=body.get("token_type", "Bearer"),
        expires_in=body.get("expires_in"),
        scope=body.get("scope", scopes),
        refresh_token=body.get("refresh_token"),
        id_token=body.get("id_token"),
        client_id=client.client_id,
        raw=body,
    )
