"""Step 5 — the token endpoint (RFC 6749 §4.1.3, §5, §6; RFC 7636 §4.6).

The back channel: AwesomeService's server trades the code, its secret and the PKCE verifier
for an access token (and a refresh token, see mockgram/oauth/refresh.py). The endpoint reads
as a checklist: client authentication → grant_type → the grant. The code grant, in this order:
code → expiry → client binding → redirect_uri → PKCE → single use → tokens.

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
- Grants a client may use follow from the response types it registered: `code` allows
  authorization_code and refresh_token (refresh tokens only ever come from a code); a client
  registered for the implicit flow alone gets `unauthorized_client` (RFC 6749 §5.2).
- A replayed code revokes the whole grant it started: the first access token, its refresh
  token and everything refreshed from it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session, col, select
from starlette.responses import Response

from mockgram import activity as activity_log  # issue 4: John's activity page
from mockgram import lab  # lab mode only: the attack lab
from mockgram.db import SessionDep
from mockgram.models import AuthorizationCode, Client, IssuedToken
from mockgram.oauth import refresh
from mockgram.oauth.back_channel import read_form_and_client, refuse_other_methods
from mockgram.oauth.errors import (
    NO_STORE_HEADERS,
    InvalidGrantError,
    InvalidRequestError,
    OAuthError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
    json_error,
)
from mockgram.oauth.id_tokens import id_token_for_code
from mockgram.scopes import has_openid
from mockgram.tokens import issue_access_token
from shared.clock import as_utc, utcnow
from shared.db import stamp_unset
from shared.forms import FormBodyDep
from shared.hashing import hash_secret
from shared.pkce import verify_s256

router = APIRouter()

AUTHORIZATION_CODE = "authorization_code"
REFRESH_TOKEN = "refresh_token"


@router.post("/oauth/token")
def token_endpoint(request: Request, body: FormBodyDep, session: SessionDep) -> Response:
    """Exchange a code (or a refresh token) for an access token."""
    try:
        form, client = read_form_and_client(request, body, session)
        grant_type = check_grant_type(client, form)
        if grant_type == REFRESH_TOKEN:
            return refresh.refresh_grant(request, session, client=client, form=form)
        return redeem_code(request, session, client=client, form=form)
    except OAuthError as exc:
        session.rollback()
        return json_error(exc)


def allowed_grant_types(client: Client) -> set[str]:
    """The grants a client may use, from its registered response types (see the docstring)."""
    if "code" in client.response_types.split():
        return {AUTHORIZATION_CODE, REFRESH_TOKEN}
    return set()


def check_grant_type(client: Client, form: dict[str, str]) -> str:
    """The requested grant_type, known to Mockgram and allowed for this client (§4.1.3, §5.2)."""
    grant_type = form.get("grant_type")
    if grant_type is None:
        raise InvalidRequestError("grant_type is required.")
    if grant_type not in (AUTHORIZATION_CODE, REFRESH_TOKEN):
        raise UnsupportedGrantTypeError(
            "Supported grant types: authorization_code and refresh_token."
        )
    if grant_type not in allowed_grant_types(client):
        raise UnauthorizedClientError(f"This client may not use grant_type={grant_type}.")
    return grant_type


# RFC 6749 §3.2: the token endpoint takes POST only.
refuse_other_methods(router, "/oauth/token", "token")


def redeem_code(
    request: Request, session: Session, *, client: Client, form: dict[str, str]
) -> Response:
    """The authorization_code grant, check by check (RFC 6749 §4.1.3)."""
    settings = request.app.state.settings

    # §4.1.3: the code is required; it is looked up by its hash.
    code = form.get("code")
    if code is None:
        raise InvalidRequestError("code is required.")
    code_hash = hash_secret(code)
    record = session.get(AuthorizationCode, code_hash)
    if record is None:
        raise InvalidGrantError("The code is invalid.")

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

    # RFC 7636 §4.6: the verifier must match the challenge; RFC 9700 §4.8.2: no downgrade.
    verifier = form.get("code_verifier")
    if record.code_challenge is not None:
        if (
            verifier is None or not verify_s256(verifier, record.code_challenge)
        ) and not lab.defence_off(request, session, "pkce", client.client_id):
            activity_log.record(
                session,
                user_id=record.user_id,
                client_id=client.client_id,
                kind=activity_log.REFUSED,
                detail="token request: the PKCE code_verifier did not match",
                commit=True,
            )
            raise InvalidGrantError("code_verifier does not match the code_challenge.")
    elif verifier is not None:
        raise InvalidGrantError("This code was issued without PKCE; a code_verifier is unexpected.")
    elif client.is_public:
        # RFC 9700 §2.1.1: a public client has no secret; PKCE is all that binds its code.
        raise InvalidGrantError("A public client's code must have been issued with PKCE.")

    # §4.1.2: single use, claimed atomically.
    if not claim_code(session, code_hash) and not lab.defence_off(
        request, session, "single_use", client.client_id
    ):
        revoke_tokens_from_code(session, code_hash)
        activity_log.record(
            session,
            user_id=record.user_id,
            client_id=client.client_id,
            kind=activity_log.REFUSED,
            detail="token request: a code used twice; the tokens issued from it were revoked",
        )
        session.commit()
        raise InvalidGrantError("The code was already used; tokens issued from it are revoked.")

    # One grant, one family: the refresh tokens and every access token refreshed from them.
    grant_id = refresh.new_grant_id()
    access_token, expires_in = issue_access_token(
        session,
        keys=request.app.state.keys,
        settings=settings,
        user_id=record.user_id,
        client_id=client.client_id,
        scope=record.scope,
        code_hash=code_hash,
        grant_id=grant_id,
    )
    refresh_token = None
    if refresh.gets_refresh_token(client, record.scope):
        refresh_token = refresh.issue_refresh_token(
            session,
            settings=settings,
            grant_id=grant_id,
            client_id=client.client_id,
            user_id=record.user_id,
            scope=record.scope,
            auth_time=record.auth_time,
        )
    scope = record.scope
    # §5.1: the successful response.
    body: dict[str, str | int] = {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": scope,
    }
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    if has_openid(scope):
        # OIDC Core §3.1.3.3: an OpenID request gets its id_token here (nonce, auth_time).
        body["id_token"] = id_token_for_code(request, session, client=client, record=record)
    activity_log.record(
        session, user_id=record.user_id, client_id=client.client_id, kind=activity_log.CODE_REDEEMED
    )
    activity_log.record(
        session,
        user_id=record.user_id,
        client_id=client.client_id,
        kind=activity_log.TOKEN_ISSUED,
        detail=", ".join(n for n in ("access_token", "refresh_token", "id_token") if n in body),
    )
    session.commit()
    return JSONResponse(body, headers=NO_STORE_HEADERS)


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
