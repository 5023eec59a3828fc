"""Steps 1, 4 and 5 from the client's side: build the authorization request, check the
callback (`state`, `iss`), and trade the code for a token over the back channel.

RFC 6749 §4.1 (authorization code grant), RFC 7636 (PKCE, S256 only), RFC 9207 (`iss`),
RFC 9700 (OAuth 2.0 Security BCP). The endpoints come from discovery (awesomeservice/discovery.py):
the authorization endpoint is a public URL for the browser, the token endpoint is called over
the back channel.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from urllib.parse import quote_plus, urlencode

import httpx
from sqlmodel import Session, col

from awesomeservice.backchannel import MockgramUnavailable, json_object, send
from awesomeservice.discovery import Discovery, ProviderMetadata, back_channel
from awesomeservice.id_token import IdToken, validate_id_token
from awesomeservice.models import PendingAuthorization, PendingLogin
from awesomeservice.settings import AwesomeServiceSettings
from shared import pkce
from shared.clock import as_utc, utcnow
from shared.db import KEEP_EXPIRED, delete_older_than, stamp_unset
from shared.hashing import constant_equals, hash_secret


@dataclass(frozen=True)
class Parameter:
    name: str
    value: str
    meaning: str


@dataclass(frozen=True)
class AuthorizationRequest:
    """The step 1 request: the full URL and each parameter with what it means."""

    url: str
    parameters: list[Parameter]


@dataclass(frozen=True)
class TokenSet:
    """What the token endpoint answered (RFC 6749 §5.1)."""

    access_token: str
    token_type: str
    scope: str
    expires_at: datetime | None
    refresh_token: str | None
    id_token: str | None = None


class CallbackRefused(Exception):
    """The callback cannot be trusted; `reason` is a short code, the texts are for John."""

    def __init__(self, reason: str, title: str, message: str, rfc: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.title = title
        self.message = message
        self.rfc = rfc


class TokenError(Exception):
    """The token endpoint answered with an OAuth error (RFC 6749 §5.2)."""

    def __init__(self, error: str, description: str, status_code: int, error_uri: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.description = description
        self.status_code = status_code
        # RFC 6749 §5.2: the provider's own page about the error, as sent (not yet checked).
        self.error_uri = error_uri


# ── Step 1: build the authorization request ─────────────────────────────────────────────────


def start_authorization(
    session: Session,
    settings: AwesomeServiceSettings,
    *,
    user_id: int,
    browser_binding: str,
    authorization_endpoint: str,
) -> AuthorizationRequest:
    """Remember a fresh state and PKCE verifier, and build the URL John's browser will GET."""
    # RFC 6749 §10.12, RFC 9700 §4.7: an unguessable, single-use state bound to this browser.
    state = secrets.token_urlsafe(32)
    # RFC 7636 §4.1: a fresh verifier per request; it never leaves this server until step 5.
    verifier = pkce.make_verifier()
    # RFC 7636 §4.2, RFC 9700 §2.1.1: S256, never plain.
    challenge = pkce.s256_challenge(verifier)
    now = utcnow()
    delete_older_than(session, PendingAuthorization, PendingAuthorization.expires_at, KEEP_EXPIRED)
    session.add(
        PendingAuthorization(
            state_hash=hash_secret(state),
            browser_binding=browser_binding,
            user_id=user_id,
            code_verifier=verifier,
            redirect_uri=settings.connect_redirect_uri,
            scope=settings.scope,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.pending_authorization_seconds),
        )
    )
    session.commit()

    # RFC 6749 §4.1.1 (plus RFC 7636 §4.3 and OAuth 2.0 Multiple Response Types §2.1).
    parameters = [
        Parameter(
            "client_id",
            settings.client_id,
            "Who is asking: the ID Mockgram gave AwesomeService when it registered (step 0).",
        ),
        Parameter(
            "redirect_uri",
            settings.connect_redirect_uri,
            "Where Mockgram sends John back; it must match a registered address exactly.",
        ),
        Parameter(
            "scope",
            settings.scope,
            "What is asked for: read John's photos — never post, change or delete them.",
        ),
        Parameter(
            "response_type",
            "code",
            "Send back a short-lived code, not the token itself (the authorization code flow).",
        ),
        Parameter(
            "response_mode",
            "query",
            "The code comes back in the query string of the redirect.",
        ),
        Parameter(
            "state",
            state,
            "A random one-time value tied to this browser; the answer must bring it back.",
        ),
        Parameter(
            "code_challenge",
            challenge,
            "The SHA-256 of a secret (the PKCE verifier) that stays on AwesomeService's server.",
        ),
        Parameter(
            "code_challenge_method",
            "S256",
            "How the challenge was made: SHA-256. The weak 'plain' method is never used.",
        ),
    ]
    query = urlencode([(p.name, p.value) for p in parameters])
    return AuthorizationRequest(with_query(authorization_endpoint, query), parameters)


def with_query(endpoint: str, query: str) -> str:
    """RFC 6749 §3.1: the endpoint URI may have a query component, which must be kept."""
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


# ── Step 4: check the callback before anything is redeemed ──────────────────────────────────


@dataclass(frozen=True)
class StateWords:
    """What John is told for each way a state fails C1: (title, message) per reason."""

    missing: tuple[str, str]
    unknown: tuple[str, str]
    other_session: tuple[str, str]
    used: tuple[str, str]
    expired: tuple[str, str]
    used_in_race: tuple[str, str]


PendingRequest = TypeVar("PendingRequest", PendingAuthorization, PendingLogin)


def use_up_state(
    session: Session,
    model: type[PendingRequest],
    words: StateWords,
    *,
    state: str | None,
    browser_binding: str | None,
    user_id: int | None,
) -> PendingRequest:
    """C1 for Connect and for the login: the pending request `state` names, used up once."""
    rfc = "RFC 6749 §10.12; RFC 9700 §4.7"
    # RFC 6749 §4.1.2: the state must come back exactly as sent.
    if not state:
        raise CallbackRefused("state_missing", *words.missing, rfc)
    pending = session.get(model, hash_secret(state))
    if pending is None:
        raise CallbackRefused("state_unknown", *words.unknown, rfc)
    # RFC 9700 §4.7.1: the state is bound to the browser session that started the flow
    # (and to the same account: the signed-in user, or nobody for a login).
    if (
        not browser_binding
        or not constant_equals(pending.browser_binding, browser_binding)
        or pending.user_id != user_id
    ):
        raise CallbackRefused("state_other_session", *words.other_session, rfc)
    if pending.used_at is not None:
        raise CallbackRefused("state_used", *words.used, rfc)
    now = utcnow()
    if as_utc(pending.expires_at) <= now:
        raise CallbackRefused("state_expired", *words.expired, rfc)
    # Single use even under a race: only one UPDATE can see used_at still empty.
    claimed = stamp_unset(
        session, col(model.used_at), col(model.state_hash) == pending.state_hash, at=now
    )
    session.commit()
    if claimed != 1:
        raise CallbackRefused("state_used", *words.used_in_race, rfc)
    session.refresh(pending)
    return pending


_CONNECT_STATE_WORDS = StateWords(
    missing=(
        "This answer has no state",
        "Every answer to a Connect request must carry the state AwesomeService sent. "
        "Without it we cannot tell the answer belongs to you, so nothing was redeemed.",
    ),
    unknown=(
        "We did not send this request",
        "The state in this answer does not match any Connect request AwesomeService made. "
        "Someone may be trying to attach their account to yours, so nothing was redeemed.",
    ),
    other_session=(
        "This answer belongs to another browser",
        "The Connect request was started in a different browser session, "
        "so this one cannot finish it. Nothing was redeemed.",
    ),
    used=(
        "This answer was already used",
        "Each Connect request can be answered once. This one was already used, "
        "so nothing was redeemed again.",
    ),
    expired=(
        "This Connect request has expired",
        "It was started too long ago. Nothing was redeemed; start again.",
    ),
    used_in_race=(
        "This answer was already used",
        "Each Connect request can be answered once. Nothing was redeemed again.",
    ),
)


def consume_state(
    session: Session,
    *,
    state: str | None,
    browser_binding: str | None,
    user_id: int | None,
) -> PendingAuthorization:
    """The pending Connect request this `state` names, used up once; anything doubtful refused."""
    return use_up_state(
        session,
        PendingAuthorization,
        _CONNECT_STATE_WORDS,
        state=state,
        browser_binding=browser_binding,
        user_id=user_id,
    )


def check_issuer(iss: str | None, expected: str, *, required: bool = True) -> None:
    """RFC 9207 §2.4: the `iss` of the answer must equal the provider's issuer, exactly."""
    if not iss and not required:
        return  # RFC 9207 §2.4: a provider that does not advertise iss may omit it.
    if not iss:
        # The provider advertises authorization_response_iss_parameter_supported: iss required.
        raise CallbackRefused(
            "iss_missing",
            "This answer does not say who sent it",
            "Mockgram always names itself (iss) in its answers. This one did not, so it may "
            "come from another server; the code was not redeemed.",
            "RFC 9207 §2.4",
        )
    # RFC 9207 §2.4: simple string comparison, no normalisation.
    if not constant_equals(iss, expected):
        raise CallbackRefused(
            "iss_mismatch",
            "This answer comes from the wrong server",
            f"It names its sender as “{iss[:200]}”, not Mockgram ({expected}). This is how a "
            "mix-up attack looks, so the code was not redeemed.",
            "RFC 9207 §2.4; RFC 9700 §4.4",
        )


AUTHORIZATION_ERRORS: dict[str, str] = {
    "invalid_request": "The request AwesomeService sent was malformed.",
    "unauthorized_client": "Mockgram does not allow AwesomeService to use this flow.",
    "unsupported_response_type": "Mockgram does not support the kind of answer we asked for.",
    "invalid_scope": "Mockgram does not allow the access AwesomeService asked for.",
    "server_error": "Something went wrong inside Mockgram.",
    "temporarily_unavailable": "Mockgram is busy or under maintenance.",
    "login_required": "You need to sign in to Mockgram first.",
    "consent_required": "Mockgram needs you to approve the request first.",
}


# ── Step 5: trade the code for a token (the back channel) ───────────────────────────────────


def client_secret_basic(client_id: str, client_secret: str) -> str:
    """RFC 6749 §2.3.1: form-urlencode id and secret, join with ':', then Base64."""
    pair = f"{quote_plus(client_id)}:{quote_plus(client_secret)}"
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


async def exchange_code(
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    *,
    code: str,
    pending: PendingAuthorization,
    token_endpoint: str,
) -> TokenSet:
    """Connect's step 5: the code redeemed as the Connect client, for the scope it asked."""
    return await redeem_code(
        http,
        settings,
        token_endpoint=token_endpoint,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        code=code,
        pending=pending,
        requested_scope=pending.scope,
    )


async def redeem_code(
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    *,
    token_endpoint: str,
    client_id: str,
    client_secret: str,
    code: str,
    pending: PendingAuthorization | PendingLogin,
    requested_scope: str,
    auth_method: str = "client_secret_basic",
) -> TokenSet:
    """POST the code, redirect_uri and PKCE verifier to the token endpoint (RFC 6749 §4.1.3)."""
    return await token_request(
        http,
        settings,
        token_endpoint=token_endpoint,
        client_id=client_id,
        client_secret=client_secret,
        auth_method=auth_method,
        form={
            "grant_type": "authorization_code",
            "code": code,
            # RFC 6749 §4.1.3: the same redirect_uri as in step 1.
            "redirect_uri": pending.redirect_uri,
            # RFC 7636 §4.5: proves we are the ones who sent the challenge.
            "code_verifier": pending.code_verifier,
        },
        requested_scope=requested_scope,
    )


async def validate_connect_id_token(
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    discovery: Discovery,
    metadata: ProviderMetadata,
    tokens: TokenSet,
) -> IdToken:
    """An id_token sent to the Connect client (OIDC Core §3.1.3.7), on step 5 or a refresh.

    Audience: the Connect client_id. No nonce: Connect sends none, and a refreshed id_token
    carries none of ours (OIDC Core §12.2).
    """
    assert tokens.id_token is not None
    return await validate_id_token(
        tokens.id_token,
        http=http,
        discovery=discovery,
        metadata=metadata,
        client_id=settings.client_id,
        nonce=None,
        access_token=tokens.access_token,
    )


async def token_request(
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    *,
    token_endpoint: str,
    client_id: str,
    client_secret: str,
    form: dict[str, str],
    requested_scope: str,
    auth_method: str = "client_secret_basic",
) -> TokenSet:
    """One call to the token endpoint, the client authenticated; the answer checked (§5.1, §5.2)."""
    headers = {"Accept": "application/json"}
    if auth_method == "client_secret_post":
        # RFC 6749 §2.3.1: the id and secret in the form body, for providers without Basic.
        form = {**form, "client_id": client_id, "client_secret": client_secret}
    else:
        headers["Authorization"] = client_secret_basic(client_id, client_secret)
    response = await send(
        http, "POST", back_channel(token_endpoint, settings), data=form, headers=headers
    )
    body = json_object(response)
    if response.status_code != 200:
        # RFC 6749 §5.2: error responses carry an error code.
        error = body.get("error")
        description = body.get("error_description")
        error_uri = body.get("error_uri")
        raise TokenError(
            error if isinstance(error, str) and error else "server_error",
            description[:300] if isinstance(description, str) else "",
            response.status_code,
            error_uri[:500] if isinstance(error_uri, str) else "",
        )
    access_token = body.get("access_token")
    token_type = body.get("token_type")
    # RFC 6749 §5.1: access_token and token_type are required; we only know how to use Bearer.
    if not isinstance(access_token, str) or not access_token:
        raise MockgramUnavailable("bad_answer", "The token response had no access_token.")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise MockgramUnavailable("bad_answer", "The token response was not a Bearer token.")
    expires_in = body.get("expires_in")
    expires_at = (
        utcnow() + timedelta(seconds=expires_in)
        if isinstance(expires_in, int) and not isinstance(expires_in, bool) and expires_in > 0
        else None
    )
    scope = body.get("scope")
    refresh_token = body.get("refresh_token")
    id_token = body.get("id_token")
    return TokenSet(
        access_token=access_token,
        token_type="Bearer",
        # RFC 6749 §5.1: an omitted scope means the scope requested.
        scope=scope if isinstance(scope, str) and scope else requested_scope,
        expires_at=expires_at,
        refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
        id_token=id_token if isinstance(id_token, str) and id_token else None,
    )


TOKEN_ERRORS: dict[str, str] = {
    "invalid_grant": "The code has expired, was already used, or does not match this request. "
    "Codes live only a few minutes and work once.",
    "invalid_client": "Mockgram did not accept AwesomeService's client ID and secret. "
    "This is a configuration problem on our side, not yours.",
    "invalid_request": "The token request was malformed.",
    "unauthorized_client": "Mockgram does not let AwesomeService use this grant.",
    "unsupported_grant_type": "Mockgram does not support this grant type.",
    "invalid_scope": "Mockgram does not allow the access that was asked for.",
}
