"""Step 5 — the token endpoint (RFC 6749 §4.1.3, §5, §6; RFC 7636 §4.6).

The back channel: AwesomeService's server trades the code, its secret and the PKCE verifier
for an access token (and a refresh token, see mockgram/oauth/refresh.py). The endpoint reads
as a checklist: client authentication → grant_type → the grant. The code grant, in this order:
code → expiry → client binding → redirect_uri → PKCE → resource (RFC 8707) → single use →
tokens.

Side jobs stay out of the way: what happened is announced (mockgram/events.py) for whoever
listens, and the two defences the attack lab may waive are asked about once each, on the
lines marked `Defence (…)`, only when they are about to refuse (mockgram/defences.py).

Decisions, written down:
- The raw form is read by hand (mockgram/oauth/back_channel.py), so a malformed request is
  `invalid_request`, never a 422.
- Errors are JSON (400; 401 for invalid_client) with Cache-Control: no-store and Pragma:
  no-cache, like successful responses (§5.1, §5.2).
- Single use is an atomic claim — UPDATE … SET redeemed_at WHERE redeemed_at IS NULL and a
  look at the row count — never read-then-write, so two racing requests cannot both win.
- A replayed code is refused, and the tokens from its first redemption are revoked
  (§4.1.2, RFC 9700 §4.5.3) — but only when the replay is otherwise valid (right client,
  redirect URI and verifier), so a stranger holding a leaked code cannot log John out.
- A code issued without a PKCE challenge redeemed with a code_verifier is refused
  (downgrade, RFC 9700 §4.8.2). A public client's code always needs one (RFC 9700 §2.1.1).
- Grants a client may use are those it registered (RFC 7591 §2); when it named none, they
  follow from its response types: `code` allows authorization_code and refresh_token; a
  client registered for the implicit flow alone gets `unauthorized_client` (RFC 6749 §5.2).
- A replayed code revokes the whole grant it started: the first access token, its refresh
  token and everything refreshed from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlmodel import Session, col, select
from starlette.responses import Response

from mockgram.clients import DEVICE_CODE, allowed_grant_types
from mockgram.control.faults import REFUSE_CODE
from mockgram.defences import PKCE, SINGLE_USE
from mockgram.deps import Provider
from mockgram.events import CodeRedeemed, Events, RequestRefused, TokensIssued
from mockgram.models import AuthorizationCode, Client, IssuedToken
from mockgram.oauth import dpop, refresh
from mockgram.oauth.back_channel import BackChannelCall, BackChannelDep, refuse_other_methods
from mockgram.oauth.client_credentials import CLIENT_CREDENTIALS, client_credentials_grant
from mockgram.oauth.device import device_code_grant
from mockgram.oauth.errors import (
    NO_STORE_HEADERS,
    InvalidGrantError,
    InvalidRequestError,
    OAuthError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
)
from mockgram.oauth.grants import issue_tokens, kinds_in, new_grant
from mockgram.oauth.id_tokens import id_token_for_code
from mockgram.oauth.resources import known_resources, requested_resources, within
from mockgram.oauth.token_exchange import TOKEN_EXCHANGE, token_exchange_grant
from mockgram.scopes import has_openid
from mockgram.settings import MockgramSettings
from shared.clock import as_utc, utcnow
from shared.db import stamp_unset
from shared.hashing import hash_secret
from shared.pkce import verify_s256

router = APIRouter()

AUTHORIZATION_CODE = "authorization_code"
REFRESH_TOKEN = "refresh_token"


GrantHandler = Callable[[BackChannelCall, Client, dict[str, str]], Response]


@router.post("/oauth/token")
def token_endpoint(call: BackChannelDep) -> Response:
    """Exchange a code (or a refresh token, or another grant) for an access token."""
    try:
        # Control plane (tests only, mockgram/control/faults.py): a queued error answers instead.
        if (queued := call.provider.faults.token_error(call.session)) is not None:
            raise queued
        form, client = call.form_and_client()
        handler = GRANTS[check_grant_type(client, form)]
        # RFC 9449 §5: a DPoP proof, when sent (always, by a client registered for it).
        settings, nonces = call.provider.settings, call.provider.dpop_nonces
        jkt = dpop.token_request_key(
            call.request, call.session, client, settings=settings, nonces=nonces
        )
        response = handler(replace(call, dpop_jkt=jkt), client, form)
        if settings.dpop_require_nonce and nonces is not None:
            response.headers[dpop.NONCE_HEADER] = nonces.current()  # §8.2: the next one to use
        return response
    except OAuthError as exc:
        return call.refused(exc)


def code_grant(call: BackChannelCall, client: Client, form: dict[str, str]) -> Response:
    return redeem_code(call.session, call.provider, client=client, form=form, jkt=call.dpop_jkt)


def refresh_token_grant(call: BackChannelCall, client: Client, form: dict[str, str]) -> Response:
    return refresh.refresh_grant(
        call.session, call.provider, client=client, form=form, jkt=call.dpop_jkt
    )


# Each grant_type Mockgram speaks at this endpoint, and what answers it. Discovery's
# grant_types_supported is built from these keys (plus implicit, which never comes here).
GRANTS: dict[str, GrantHandler] = {
    AUTHORIZATION_CODE: code_grant,
    REFRESH_TOKEN: refresh_token_grant,
    DEVICE_CODE: device_code_grant,  # RFC 8628 §3.4 (mockgram/oauth/device.py)
    CLIENT_CREDENTIALS: client_credentials_grant,  # RFC 6749 §4.4
    TOKEN_EXCHANGE: token_exchange_grant,  # RFC 8693
}


def check_grant_type(client: Client, form: dict[str, str]) -> str:
    """The requested grant_type, known to Mockgram and allowed for this client (§4.1.3, §5.2)."""
    grant_type = form.get("grant_type")
    if grant_type is None:
        raise InvalidRequestError("grant_type is required.")
    if grant_type not in GRANTS:
        raise UnsupportedGrantTypeError("Supported grant types: " + ", ".join(GRANTS) + ".")
    # RFC 6749 §5.2: a grant the client did not register is unauthorized_client.
    if grant_type not in allowed_grant_types(client):
        raise UnauthorizedClientError(f"This client may not use grant_type={grant_type}.")
    return grant_type


# RFC 6749 §3.2: the token endpoint takes POST only.
refuse_other_methods(router, "/oauth/token", "token")


def redeem_code(
    session: Session,
    provider: Provider,
    *,
    client: Client,
    form: dict[str, str],
    jkt: str | None = None,
) -> Response:
    """The authorization_code grant, check by check (RFC 6749 §4.1.3)."""
    record = find_code(session, form)
    # Control plane (tests only): a queued refusal turns this code down, for good.
    if provider.faults.take(session, REFUSE_CODE) is not None:
        claim_code(session, record.code_hash)
        session.commit()
        raise InvalidGrantError("The code is invalid.")
    check_code_binding(record, client, form)
    check_code_verifier(session, provider, record, client, form)
    # RFC 8707 §2.2: checked before the code is spent, so a wrong resource does not burn it.
    audience = token_audience(form.get("resource"), record.resource, provider.settings)
    claim_once(session, provider, record, client)
    body = issue_code_tokens(session, provider, record, client, audience, jkt=jkt)
    user_id, client_id = record.user_id, client.client_id
    provider.events.announce(session, CodeRedeemed(user_id=user_id, client_id=client_id))
    provider.events.announce(
        session,
        TokensIssued(
            user_id=user_id, client_id=client_id, grant=AUTHORIZATION_CODE, kinds=kinds_in(body)
        ),
    )
    session.commit()
    return JSONResponse(body, headers=NO_STORE_HEADERS)


def find_code(session: Session, form: dict[str, str]) -> AuthorizationCode:
    """§4.1.3: the code is required; it is looked up by its hash."""
    code = form.get("code")
    if code is None:
        raise InvalidRequestError("code is required.")
    record = session.get(AuthorizationCode, hash_secret(code))
    if record is None:
        raise InvalidGrantError("The code is invalid.")
    return record


def check_code_binding(record: AuthorizationCode, client: Client, form: dict[str, str]) -> None:
    """Still fresh, issued to this client, for this redirect_uri (§4.1.2, §4.1.3)."""
    # §4.1.2: short-lived (ten minutes at most).
    if as_utc(record.expires_at) <= utcnow():
        raise InvalidGrantError("The code has expired.")
    # §4.1.3: the code was issued to this client.
    if record.client_id != client.client_id:
        raise InvalidGrantError("The code was issued to another client.")
    # §4.1.3: the same redirect_uri as in the authorization request, when it was sent there.
    redirect_uri = form.get("redirect_uri")
    if record.redirect_uri_in_request and redirect_uri != record.redirect_uri:
        raise InvalidGrantError("redirect_uri does not match the authorization request.")
    if not record.redirect_uri_in_request and redirect_uri not in (None, record.redirect_uri):
        raise InvalidGrantError("redirect_uri does not match the authorization request.")


def check_code_verifier(
    session: Session,
    provider: Provider,
    record: AuthorizationCode,
    client: Client,
    form: dict[str, str],
) -> None:
    """RFC 7636 §4.6: the verifier matches the challenge; RFC 9700 §4.8.2: no downgrade."""
    verifier = form.get("code_verifier")
    if record.code_challenge is None:
        if verifier is not None:
            raise InvalidGrantError(
                "This code was issued without PKCE; a code_verifier is unexpected."
            )
        if client.is_public:
            # RFC 9700 §2.1.1: a public client has no secret; PKCE is all that binds its code.
            raise InvalidGrantError("A public client's code must have been issued with PKCE.")
        return
    matches = verifier is not None and verify_s256(verifier, record.code_challenge)
    # Defence (pkce): without the verifier, a stolen code is worth nothing.
    defences = provider.defences
    if not matches and defences.is_on(PKCE, session=session, client_id=client.client_id):
        reason = "token request: the PKCE code_verifier did not match"
        refuse(session, provider.events, record, client, reason)
        raise InvalidGrantError("code_verifier does not match the code_challenge.")


def claim_once(
    session: Session, provider: Provider, record: AuthorizationCode, client: Client
) -> None:
    """§4.1.2: single use, claimed atomically; a replay revokes what the first use issued."""
    claimed = claim_code(session, record.code_hash)
    # Defence (single_use): a code works once, so a replayed one buys nothing.
    defences = provider.defences
    if not claimed and defences.is_on(SINGLE_USE, session=session, client_id=client.client_id):
        revoke_tokens_from_code(session, record.code_hash)
        reason = "token request: a code used twice; the tokens issued from it were revoked"
        refuse(session, provider.events, record, client, reason)
        raise InvalidGrantError("The code was already used; tokens issued from it are revoked.")


def refuse(
    session: Session, events: Events, record: AuthorizationCode, client: Client, reason: str
) -> None:
    """Announce a refusal and keep it: the endpoint rolls back what an error leaves uncommitted."""
    refused = RequestRefused(user_id=record.user_id, client_id=client.client_id, reason=reason)
    events.announce(session, refused)
    session.commit()


def issue_code_tokens(
    session: Session,
    provider: Provider,
    record: AuthorizationCode,
    client: Client,
    audience: list[str],
    *,
    jkt: str | None = None,
) -> dict[str, str | int]:
    """§5.1: the access token, a refresh token when due, an id_token for OpenID (the body)."""
    # One grant, one family: the refresh tokens and every access token refreshed from them.
    grant = new_grant(
        client_id=client.client_id,
        user_id=record.user_id,
        scope=record.scope,
        auth_time=record.auth_time,
        resource=audience[0],  # what its refreshed tokens are for too (RFC 8707 §2.2)
    )
    # RFC 9449 §5: a public client's refresh tokens are bound to the key it proved.
    grant = replace(grant, jkt=dpop.refresh_binding(client, jkt))
    with_refresh_token = refresh.gets_refresh_token(client, record.scope)
    body = issue_tokens(
        session,
        provider,
        grant,
        scope=record.scope,
        with_refresh_token=with_refresh_token,
        code_hash=record.code_hash,
        audience=audience,
        jkt=jkt,
    )
    if has_openid(record.scope):
        # OIDC Core §3.1.3.3: an OpenID request gets its id_token here (nonce, auth_time).
        body["id_token"] = id_token_for_code(session, provider, client, record)
    return body


def token_audience(
    requested: str | None, authorized: str | None, settings: MockgramSettings
) -> list[str]:
    """RFC 8707 §2.2: the resource named here, within what the authorization request named."""
    allowed = [authorized] if authorized else known_resources(settings)
    if requested is None:
        return [authorized] if authorized else [settings.api_audience]
    return within(requested_resources([requested], settings), allowed)


def claim_code(session: Session, code_hash: str) -> bool:
    """Mark the code redeemed unless it already was; True for exactly one caller."""
    redeemed = col(AuthorizationCode.redeemed_at)
    return stamp_unset(session, redeemed, col(AuthorizationCode.code_hash) == code_hash) == 1


def revoke_tokens_from_code(session: Session, code_hash: str) -> None:
    """Revoke every token issued from this code (RFC 6749 §4.1.2, RFC 9700 §4.5.3)."""
    grant_ids = session.exec(
        select(IssuedToken.grant_id).where(
            col(IssuedToken.code_hash) == code_hash, col(IssuedToken.grant_id).is_not(None)
        )
    ).all()
    stamp_unset(session, col(IssuedToken.revoked_at), col(IssuedToken.code_hash) == code_hash)
    # …and the grant it started: its refresh tokens and the access tokens refreshed from them.
    for grant_id in set(grant_ids):
        if grant_id is not None:
            refresh.revoke_grant(session, grant_id)
