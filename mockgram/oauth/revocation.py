"""Token revocation — "Disconnect" done properly (RFC 7009).

When AwesomeService lets go of John's account it tells Mockgram, so the tokens stop working at
once instead of living on until they expire. The endpoint reads as a checklist: client
authentication (as at the token endpoint, RFC 7009 §2.1) → `token` present → find it →
issued to this client? → revoke.

Decisions, written down:
- An access token (a JWT) is found by its signature and `jti`; expiry is not looked at, so an
  expired-but-genuine token can still be revoked (§2: revoking an invalid token is harmless).
  Revoking it revokes that token only (§2.1 lets the AS revoke its grant too; Mockgram does not,
  so a client can drop one token and keep its refresh token).
- A refresh token revokes its whole grant: every refresh token of the family and every access
  token issued from it (§2.1: "SHOULD also invalidate all access tokens based on the same
  authorization grant").
- `token_type_hint` only changes which kind is looked up first (§2.1: the search then extends
  to every kind). An unknown hint value is ignored rather than answered with
  `unsupported_token_type` (§2.2.1): that error means the server cannot revoke the presented
  token's type, and Mockgram can revoke every type it issues.
- Unknown, malformed or already-revoked tokens get 200 and an empty body (§2.2). A token issued
  to another client also gets 200 and is NOT revoked (§2.1: the AS checks the token was issued
  to the requester) — the caller cannot tell the two apart, so nothing is learnt.
"""

from __future__ import annotations

from fastapi import APIRouter
from sqlmodel import Session, col
from starlette.responses import Response

from mockgram.deps import Provider
from mockgram.events import Events, TokensRevoked
from mockgram.models import Client, IssuedToken
from mockgram.oauth.back_channel import BackChannelDep, refuse_other_methods, require_token
from mockgram.oauth.errors import NO_STORE_HEADERS, OAuthError
from mockgram.oauth.refresh import find_refresh_token, revoke_grant
from mockgram.tokens import InvalidAccessToken, signed_claims
from shared.db import stamp_unset

router = APIRouter()

ACCESS_TOKEN = "access_token"


@router.post("/oauth/revoke")
def revocation_endpoint(call: BackChannelDep) -> Response:
    """Revoke an access or refresh token the calling client holds (RFC 7009 §2.1)."""
    try:
        # §2.1: the client authenticates exactly as at the token endpoint.
        form, client = call.form_and_client()
        # §2.1: token is REQUIRED.
        token = require_token(form)
        hint = form.get("token_type_hint")
        revoke(call.session, call.provider, token=token, client=client, hint=hint)
        call.session.commit()
    except OAuthError as exc:
        return call.refused(exc)
    # §2.2: 200 and an empty body, whether the token was known or not.
    return Response(status_code=200, headers=NO_STORE_HEADERS)


# RFC 7009 §2.1: the revocation endpoint takes POST only.
refuse_other_methods(router, "/oauth/revoke", "revocation")


def revoke(
    session: Session, provider: Provider, *, token: str, client: Client, hint: str | None
) -> None:
    """Find the token as either kind; revoke it if it is this client's (the caller commits)."""
    finders = [revoke_refresh_token, revoke_access_token]
    if hint == ACCESS_TOKEN:
        finders.reverse()  # §2.1: the hint only decides where to look first
    for found in finders:
        if found(session, provider, token, client):
            return


def revoke_access_token(session: Session, provider: Provider, token: str, client: Client) -> bool:
    """Revoke a genuine access token by its jti; True when the token was found at all."""
    try:
        claims = signed_claims(token, keys=provider.keys)  # signature first; expiry does not matter
    except InvalidAccessToken:
        return False
    record = session.get(IssuedToken, str(claims.get("jti", "")))
    if record is None:
        return False
    # §2.1: only the client the token was issued to may revoke it.
    if record.client_id == client.client_id:
        stamp_unset(session, col(IssuedToken.revoked_at), col(IssuedToken.jti) == record.jti)
        announce_revoked(session, provider.events, record.user_id, client, "an access token")
    return True


def revoke_refresh_token(session: Session, provider: Provider, token: str, client: Client) -> bool:
    """Revoke a refresh token's whole grant; True when the token was found at all."""
    record = find_refresh_token(session, token)
    if record is None:
        return False
    # §2.1: only the client the token was issued to may revoke it.
    if record.client_id == client.client_id:
        revoke_grant(session, record.grant_id)
        announce_revoked(
            session, provider.events, record.user_id, client, "a refresh token and its grant"
        )
    return True


def announce_revoked(
    session: Session, events: Events, user_id: int | None, client: Client, what: str
) -> None:
    """Say which of John's tokens the app gave up (user_id None: the app's own token)."""
    revoked = TokensRevoked(
        user_id=user_id, client_id=client.client_id, what=f"{what}, by the app (RFC 7009)"
    )
    events.announce(session, revoked)
