"""Step 4 — answering the authorization request (RFC 6749 §4.1.2, §4.2.2; OIDC Core §3.1.2.5,
§3.2.2.5, §3.3.2.5; RFC 9207).

What goes back is what the response_type asked for, word by word: `code` (mockgram/oauth/
codes.py), `token` and `id_token` (mockgram/oauth/implicit.py); then `state` exactly as sent and
`iss`, in the request's response mode (mockgram/oauth/responses.py). A request is answered once:
claiming it is an atomic UPDATE, so a second answer finds it taken.
"""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from mockgram.deps import SESSION_AUTH_TIME_KEY, Provider
from mockgram.events import TokensIssued
from mockgram.models import AuthorizationRequest
from mockgram.oauth import consents
from mockgram.oauth.codes import issue_code
from mockgram.oauth.implicit import front_channel_id_token, implicit_access_token
from mockgram.oauth.pending import Approved, claim, prompts, unbind_from_session
from mockgram.oauth.responses import authorization_response
from mockgram.scopes import has_openid


def answer_params(
    session: Session, provider: Provider, approved: Approved
) -> dict[str, str | None]:
    """Issue what the response_type asks for (the caller commits); returns the parameters."""
    pending = approved.pending
    words = set(pending.response_type.split())
    params: dict[str, str | None] = {}
    code = access_token = None
    if "code" in words:
        code = params["code"] = issue_code(session, provider, approved)
    if "token" in words:
        token_params = implicit_access_token(session, provider, approved, code=code)
        access_token = token_params["access_token"]
        params |= token_params
    if "id_token" in words and has_openid(approved.scope):
        params["id_token"] = front_channel_id_token(
            session, provider, approved, access_token=access_token, code=code
        )
    issued = tuple(name for name in ("access_token", "id_token") if name in params)
    if issued:
        implicit = TokensIssued(
            user_id=approved.user_id, client_id=pending.client_id, grant="implicit", kinds=issued
        )
        provider.events.announce(session, implicit)
    # RFC 6749 §4.1.2: state exactly as sent; RFC 9207 §2: iss on every response.
    return params | {"state": pending.state, "iss": provider.settings.issuer}


def answer_request(
    request: Request,
    session: Session,
    provider: Provider,
    *,
    pending: AuthorizationRequest,
    user_id: int,
    scope: str,
) -> Response | None:
    """Claim the request, issue its answer, commit, respond; None if it was already answered."""
    if not claim(session, pending.id):
        session.rollback()
        return None
    auth_time = request.session.get(SESSION_AUTH_TIME_KEY)
    approved = Approved(pending, user_id, scope, auth_time if isinstance(auth_time, int) else None)
    params = answer_params(session, provider, approved)
    response = authorization_response(
        request, pending.redirect_uri, params, mode=pending.response_mode
    )
    session.commit()
    unbind_from_session(request, pending.id)
    return response


def answer_if_consented(
    request: Request,
    session: Session,
    provider: Provider,
    *,
    pending: AuthorizationRequest,
    user_id: int,
) -> Response | None:
    """Remembered consent covers every requested scope: answer without asking again.

    Not with prompt=consent (OIDC Core §3.1.2.1): then John is asked even so.
    """
    if "consent" in prompts(pending) or not consents.covers(
        session, user_id=user_id, client_id=pending.client_id, scope=pending.scope
    ):
        return None
    return answer_request(
        request, session, provider, pending=pending, user_id=user_id, scope=pending.scope
    )
