"""Step 4 — the tokens the authorization endpoint returns itself: the implicit and hybrid flows
(RFC 6749 §4.2.2; OIDC Core §3.2.2.5, §3.3.2.5).

- `token`: an access token straight from the front channel, never a refresh token (§4.2.2,
  §10.16). In a hybrid response it is recorded against the code, so a replayed code revokes it.
- `id_token`: signed for the client (mockgram/oauth/id_tokens.py), with the request's nonce,
  at_hash beside an access token and c_hash beside a code.
"""

from __future__ import annotations

from sqlmodel import Session

from mockgram.deps import Provider
from mockgram.models import Client, User
from mockgram.oauth.errors import ServerError
from mockgram.oauth.id_tokens import issue_id_token
from mockgram.oauth.pending import Approved
from mockgram.tokens import issue_access_token
from shared.hashing import hash_secret


def implicit_access_token(
    session: Session, provider: Provider, approved: Approved, *, code: str | None
) -> dict[str, str]:
    """RFC 6749 §4.2.2: the access token's response parameters (the caller commits)."""
    access_token, expires_in = issue_access_token(
        session,
        keys=provider.keys,
        settings=provider.settings,
        user_id=approved.user_id,
        client_id=approved.pending.client_id,
        scope=approved.scope,
        code_hash=hash_secret(code) if code else None,
        # RFC 8707 §2: the resource the authorization request named becomes the audience.
        audience=[approved.pending.resource] if approved.pending.resource else None,
    )
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": str(expires_in),
        "scope": approved.scope,
    }


def front_channel_id_token(
    session: Session,
    provider: Provider,
    approved: Approved,
    *,
    access_token: str | None,
    code: str | None,
) -> str:
    """OIDC Core §3.2.2.10, §3.3.2.11: the id_token, bound to what travels beside it."""
    pending = approved.pending
    client = session.get(Client, pending.client_id)
    user = session.get(User, approved.user_id)
    if client is None or user is None:
        raise ServerError("The client or the user vanished while answering.")
    return issue_id_token(
        provider,
        client,
        user,
        approved.scope,
        nonce=pending.nonce,
        auth_time=approved.auth_time,
        access_token=access_token,  # OIDC Core §3.2.2.10: at_hash
        code=code,  # OIDC Core §3.3.2.11: c_hash
        # OIDC Core §5.4: only without an access token do the profile/email claims ride here.
        include_claims=pending.response_type == "id_token",
        session=session,
    )
