"""Step 4 — issuing the authorization code and the success redirect (RFC 6749 §4.1.2, RFC 9207).

The code is 256 random bits, stored only as its SHA-256 hash, lives at most ten minutes
(settings.code_ttl_seconds, §4.1.2) and is bound to everything the token endpoint will check:
client, redirect URI (and whether it was in the request, §4.1.3), user, scope, PKCE challenge.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.requests import Request

from mockgram.deps import SESSION_AUTH_TIME_KEY
from mockgram.models import AuthorizationCode, AuthorizationRequest
from mockgram.oauth import consents
from mockgram.oauth.errors import append_query
from mockgram.oauth.pending import claim, unbind_from_session
from mockgram.settings import MockgramSettings
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
    return code


def success_redirect(pending: AuthorizationRequest, code: str, *, issuer: str) -> RedirectResponse:
    """Back to the client with code, state and iss (RFC 6749 §4.1.2, RFC 9207 §2)."""
    params = {"code": code, "state": pending.state, "iss": issuer}
    return RedirectResponse(append_query(pending.redirect_uri, params), status_code=303)


def answer_with_code(
    request: Request,
    session: Session,
    *,
    pending: AuthorizationRequest,
    user_id: int,
    scope: str,
    settings: MockgramSettings,
) -> RedirectResponse | None:
    """Claim the request, issue its code, commit, redirect; None if it was already answered."""
    if not claim(session, pending.id):
        session.rollback()
        return None
    code = issue_code(
        session,
        pending=pending,
        user_id=user_id,
        scope=scope,
        auth_time=request.session.get(SESSION_AUTH_TIME_KEY),
        settings=settings,
    )
    response = success_redirect(pending, code, issuer=settings.issuer)
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
) -> RedirectResponse | None:
    """Remembered consent covers every requested scope: issue the code without asking again."""
    if not consents.covers(
        session, user_id=user_id, client_id=pending.client_id, scope=pending.scope
    ):
        return None
    return answer_with_code(
        request, session, pending=pending, user_id=user_id, scope=pending.scope, settings=settings
    )
