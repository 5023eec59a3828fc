"""Step 4 — answering the request: code, access token, id_token (RFC 6749 §4.1.2, §4.2.2;
OIDC Core §3.1.2.5, §3.2.2.5, §3.3.2.5; RFC 9207).

What goes back is what the response_type asked for, word by word:
- `code`: 256 random bits, stored only as its SHA-256 hash, living at most ten minutes
  (settings.code_ttl_seconds, §4.1.2), bound to everything the token endpoint will check:
  client, redirect URI (and whether it was in the request, §4.1.3), user, scope, PKCE
  challenge, nonce and auth_time (for the id_token the token endpoint issues later).
- `token`: an access token straight from here (the implicit flow, §4.2.2), never a refresh
  token. In a hybrid response it is recorded against the code, so a replayed code revokes it.
- `id_token`: signed for the client (mockgram/oauth/id_tokens.py), with the nonce, at_hash
  beside an access token and c_hash beside a code.
Then `state` and `iss`, in the request's response mode (mockgram/oauth/responses.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from mockgram.deps import SESSION_AUTH_TIME_KEY
from mockgram.events import CodeIssued, Events, TokensIssued
from mockgram.models import AuthorizationCode, AuthorizationRequest, Client, User
from mockgram.oauth import consents
from mockgram.oauth.errors import ServerError
from mockgram.oauth.id_tokens import issue_id_token
from mockgram.oauth.pending import claim, prompts, unbind_from_session
from mockgram.oauth.responses import authorization_response
from mockgram.scopes import has_openid
from mockgram.settings import MockgramSettings
from mockgram.tokens import issue_access_token
from shared.clock import utcnow
from shared.hashing import hash_secret, new_token

CODE_BYTES = 32  # 256 bits; RFC 6749 §10.10 asks for at least 128


def issue_code(
    session: Session,
    *,
    pending: AuthorizationRequest,
    user_id: int,
    scope: str,
    auth_time: int | None,
    settings: MockgramSettings,
    events: Events,
) -> str:
    """Create a code for the answered request (the caller commits); returns the clear code."""
    code = new_token(CODE_BYTES)
    now = utcnow()
    session.add(
        AuthorizationCode(
            code_hash=hash_secret(code),
            client_id=pending.client_id,
            user_id=user_id,
            redirect_uri=pending.redirect_uri,
            redirect_uri_in_request=pending.redirect_uri_in_request,
            scope=scope,
            nonce=pending.nonce,
            code_challenge=pending.code_challenge,
            code_challenge_method=pending.code_challenge_method,
            auth_time=datetime.fromtimestamp(auth_time, UTC) if auth_time else None,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.code_ttl_seconds),
        )
    )
    events.announce(session, CodeIssued(user_id=user_id, client_id=pending.client_id, scope=scope))
    return code


def answer_with_tokens(
    request: Request,
    session: Session,
    *,
    pending: AuthorizationRequest,
    user_id: int,
    scope: str,
    auth_time: int | None,
    settings: MockgramSettings,
    events: Events,
) -> dict[str, str | None]:
    """Issue what the response_type asks for (the caller commits); returns the parameters."""
    words = set(pending.response_type.split())
    keys = request.app.state.keys
    params: dict[str, str | None] = {}
    code = access_token = None
    if "code" in words:
        code = issue_code(
            session,
            pending=pending,
            user_id=user_id,
            scope=scope,
            auth_time=auth_time,
            settings=settings,
            events=events,
        )
        params["code"] = code
    if "token" in words:
        # RFC 6749 §4.2.2: the implicit flow's access token; no refresh token (§4.2.2, §10.16).
        access_token, expires_in = issue_access_token(
            session,
            keys=keys,
            settings=settings,
            user_id=user_id,
            client_id=pending.client_id,
            scope=scope,
            code_hash=hash_secret(code) if code else None,
        )
        params |= {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": str(expires_in),
            "scope": scope,
        }
    if "id_token" in words and has_openid(scope):
        client = session.get(Client, pending.client_id)
        user = session.get(User, user_id)
        if client is None or user is None:
            raise ServerError("The client or the user vanished while answering.")
        params["id_token"] = issue_id_token(
            keys=keys,
            settings=settings,
            client=client,
            user=user,
            scope=scope,
            nonce=pending.nonce,
            auth_time=auth_time,
            access_token=access_token,  # OIDC Core §3.2.2.10: at_hash
            code=code,  # OIDC Core §3.3.2.11: c_hash
            # §5.4: only without an access token do the profile/email claims ride in here.
            include_claims=words == {"id_token"},
        )
    issued = tuple(name for name in ("access_token", "id_token") if name in params)
    if issued:
        implicit = TokensIssued(
            user_id=user_id, client_id=pending.client_id, grant="implicit", kinds=issued
        )
        events.announce(session, implicit)
    # RFC 6749 §4.1.2: state exactly as sent; RFC 9207 §2: iss on every response.
    return params | {"state": pending.state, "iss": settings.issuer}


def answer_request(
    request: Request,
    session: Session,
    *,
    pending: AuthorizationRequest,
    user_id: int,
    scope: str,
    settings: MockgramSettings,
    events: Events,
) -> Response | None:
    """Claim the request, issue its answer, commit, respond; None if it was already answered."""
    if not claim(session, pending.id):
        session.rollback()
        return None
    auth_time = request.session.get(SESSION_AUTH_TIME_KEY)
    params = answer_with_tokens(
        request,
        session,
        pending=pending,
        user_id=user_id,
        scope=scope,
        auth_time=auth_time if isinstance(auth_time, int) else None,
        settings=settings,
        events=events,
    )
    response = authorization_response(
        request, pending.redirect_uri, params, mode=pending.response_mode
    )
    session.commit()
    unbind_from_session(request, pending.id)
    return response


def answer_if_consented(
    request: Request,
    session: Session,
    *,
    pending: AuthorizationRequest,
    user_id: int,
    settings: MockgramSettings,
    events: Events,
) -> Response | None:
    """Remembered consent covers every requested scope: answer without asking again.

    Not with prompt=consent (OIDC Core §3.1.2.1): then John is asked even so.
    """
    if "consent" in prompts(pending) or not consents.covers(
        session, user_id=user_id, client_id=pending.client_id, scope=pending.scope
    ):
        return None
    return answer_request(
        request,
        session,
        pending=pending,
        user_id=user_id,
        scope=pending.scope,
        settings=settings,
        events=events,
    )
