"""Step 1 — the authorization request (RFC 6749 §4.1.1; OpenID Connect Core §3.1.2.1).

Each request carries a fresh `state` (RFC 6749 §10.12, RFC 9700 §4.7), a PKCE S256 challenge
(RFC 7636 §4.1–4.3, RFC 9700 §2.1.1) and, for a login, a `nonce` (OIDC Core §3.1.2.1, §15.5.2).
The pending request is remembered here on the server — the state only as a hash, bound to the
browser session, the verifier kept until step 5 — and the URL for the browser is built from the
endpoint discovery named (awesomeservice/oauth/discovery.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from sqlmodel import Session

from awesomeservice.events import AuthorizationRequestSent, Events
from awesomeservice.models import PendingAuthorization, PendingLogin
from awesomeservice.oauth.discovery import ProviderMetadata
from awesomeservice.settings import AwesomeServiceSettings
from shared import pkce
from shared.clock import utcnow
from shared.db import KEEP_EXPIRED, Database, delete_older_than
from shared.hashing import hash_secret
from shared.oauth_spec import new_state


@dataclass(frozen=True)
class RequestSecrets:
    """What binds the answer to this request: state, the PKCE verifier, and a nonce for OIDC."""

    state: str
    code_verifier: str
    nonce: str = ""

    @property
    def code_challenge(self) -> str:
        # RFC 7636 §4.2, RFC 9700 §2.1.1: S256, never plain.
        return pkce.s256_challenge(self.code_verifier)


def fresh_secrets(*, nonce: bool = False) -> RequestSecrets:
    """New, unguessable values for one request (RFC 6749 §10.12, RFC 7636 §4.1, OIDC §15.5.2)."""
    return RequestSecrets(
        state=new_state(), code_verifier=pkce.make_verifier(), nonce=new_state() if nonce else ""
    )


@dataclass(frozen=True)
class AuthorizationRequest:
    """The step 1 request: the URL the browser will GET and its parameters, in order."""

    url: str
    parameters: list[tuple[str, str]]


def request_parameters(
    *,
    client_id: str,
    redirect_uri: str,
    scope: str,
    response_type: str,
    state: str,
    response_mode: str = "",
    nonce: str = "",
    code_verifier: str = "",
    prompt: str = "",
) -> list[tuple[str, str]]:
    """RFC 6749 §4.1.1 (with RFC 7636 §4.3 and Multiple Response Types §2.1); empty values are
    left out, as §3.1 treats them as absent."""
    parameters = [  # in the order §4.1.1 lists them
        ("response_type", response_type),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", scope),
        ("response_mode", response_mode),
        ("state", state),
        ("nonce", nonce),
        ("prompt", prompt),  # OIDC Core §3.1.2.1: none, login, consent, select_account
    ]
    if code_verifier:
        # RFC 7636 §4.3: the challenge of a verifier that stays on this server until step 5.
        challenge = pkce.s256_challenge(code_verifier)
        parameters += [("code_challenge", challenge), ("code_challenge_method", "S256")]
    return [(name, value) for name, value in parameters if value]


def build(endpoint: str, parameters: list[tuple[str, str]]) -> AuthorizationRequest:
    """The request URL: RFC 6749 §3.1 lets the endpoint have a query of its own, which stays."""
    url = f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(parameters)}"
    return AuthorizationRequest(url, parameters)


def _pending_fields(
    settings: AwesomeServiceSettings,
    secrets: RequestSecrets,
    *,
    user_id: int | None,
    browser_binding: str,
    redirect_uri: str,
) -> dict[str, object]:
    """What every pending request keeps: the state only as a hash, bound to this browser."""
    now = utcnow()
    return {
        "state_hash": hash_secret(secrets.state),
        "browser_binding": browser_binding,
        "user_id": user_id,
        "code_verifier": secrets.code_verifier,
        "redirect_uri": redirect_uri,
        "created_at": now,
        "expires_at": now + timedelta(seconds=settings.pending_authorization_seconds),
    }


def _remember(
    session: Session,
    pending: PendingAuthorization | PendingLogin,
    endpoint: str,
    secrets: RequestSecrets,
    *,
    client_id: str,
    scope: str,
    response_mode: str = "",
) -> AuthorizationRequest:
    """Keep the pending request (and let expired ones go), then build the request for it."""
    model = type(pending)
    delete_older_than(session, model, model.expires_at, KEEP_EXPIRED)
    session.add(pending)
    session.commit()
    parameters = request_parameters(
        client_id=client_id,
        redirect_uri=pending.redirect_uri,
        scope=scope,
        response_type="code",
        response_mode=response_mode,
        state=secrets.state,
        nonce=secrets.nonce,
        code_verifier=secrets.code_verifier,
    )
    return build(endpoint, parameters)


def connect_request(
    session: Session,
    settings: AwesomeServiceSettings,
    *,
    user_id: int,
    browser_binding: str,
    authorization_endpoint: str,
) -> AuthorizationRequest:
    """Connect's request (scope photos.read): its state and verifier remembered for step 4."""
    secrets = fresh_secrets()
    fields = _pending_fields(
        settings,
        secrets,
        user_id=user_id,
        browser_binding=browser_binding,
        redirect_uri=settings.connect_redirect_uri,
    )
    return _remember(
        session,
        PendingAuthorization(scope=settings.scope, **fields),
        authorization_endpoint,
        secrets,
        client_id=settings.client_id,
        scope=settings.scope,
        response_mode="query",
    )


def login_request(
    session: Session,
    settings: AwesomeServiceSettings,
    metadata: ProviderMetadata,
    *,
    user_id: int | None,
    browser_binding: str,
) -> AuthorizationRequest:
    """The login's authentication request (OIDC Core §3.1.2.1): state, nonce and PKCE S256,
    even for a confidential client (RFC 9700 §2.1.1)."""
    secrets = fresh_secrets(nonce=True)
    fields = _pending_fields(
        settings,
        secrets,
        user_id=user_id,
        browser_binding=browser_binding,
        redirect_uri=settings.login_redirect_uri,
    )
    pending = PendingLogin(issuer=metadata.issuer, nonce=secrets.nonce, **fields)
    return _remember(
        session,
        pending,
        metadata.authorization_endpoint,
        secrets,
        client_id=settings.login_client_id,
        scope=settings.login_scope,
    )


async def send(
    database: Database, events: Events, remember: Callable[[Session], AuthorizationRequest]
) -> AuthorizationRequest:
    """Remember a request (`connect_request` or `login_request`, its arguments bound) and
    announce that the browser is being sent with it."""
    request = await database.run(remember)
    await events.announce(AuthorizationRequestSent(request.url))
    return request
