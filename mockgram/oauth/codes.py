"""Step 4 — the authorization code (RFC 6749 §4.1.2, §10.10).

256 random bits, stored only as its SHA-256 hash, living at most ten minutes
(settings.code_ttl_seconds, §4.1.2), and bound to everything the token endpoint will check:
client, redirect URI (and whether it was in the request, §4.1.3), user, scope, PKCE challenge,
nonce and auth_time (for the id_token the token endpoint issues later).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from mockgram.deps import Provider
from mockgram.events import CodeIssued
from mockgram.models import AuthorizationCode
from mockgram.oauth.pending import Approved
from shared.clock import utcnow
from shared.hashing import hash_secret, new_token

CODE_BYTES = 32  # 256 bits; RFC 6749 §10.10 asks for at least 128


def issue_code(session: Session, provider: Provider, approved: Approved) -> str:
    """Create a code for the approved request (the caller commits); returns the clear code."""
    pending, auth_time = approved.pending, approved.auth_time
    code = new_token(CODE_BYTES)
    now = utcnow()
    session.add(
        AuthorizationCode(
            code_hash=hash_secret(code),
            client_id=pending.client_id,
            user_id=approved.user_id,
            redirect_uri=pending.redirect_uri,
            redirect_uri_in_request=pending.redirect_uri_in_request,
            scope=approved.scope,
            nonce=pending.nonce,
            code_challenge=pending.code_challenge,
            code_challenge_method=pending.code_challenge_method,
            resource=pending.resource,
            auth_time=datetime.fromtimestamp(auth_time, UTC) if auth_time else None,
            created_at=now,
            expires_at=now + timedelta(seconds=provider.settings.code_ttl_seconds),
        )
    )
    issued = CodeIssued(user_id=approved.user_id, client_id=pending.client_id, scope=approved.scope)
    provider.events.announce(session, issued)
    return code
