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

from mockgram.deps import SESSION_AUTH_TIME_KEY
from mockgram.events import Events, TokensIssued
from mockgram.keys import SigningKeys
from mockgram.models import AuthorizationRequest
from mockgram.oauth import consents
from mockgram.oauth.codes import issue_code
from mockgram.oauth.implicit import front_channel_id_token, implicit_access_token
from mockgram.oauth.pending import claim, prompts, unbind_from_session
from mockgram.oauth.responses import authorization_response
from mockgram.scopes import has_openid
from mockgram.settings import MockgramSettings


def answer_params(
    session: Session,
    *,
    pending: AuthorizationRequest,
    user_id: int,
    scope: str,
    auth_time: int | None,
    settings: MockgramSettings,
    keys: SigningKeys,
    events: Events,
) -> dict[str, str | None]:
    """Issue what the response_type asks for (the caller commits); returns the parameters."""
    words = set(pending.response_type.split())
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
        token_params = implicit_access_token(
            session,
            pending=pending,
            user_id=user_id,
            scope=scope,
            code=code,
            settings=settings,
            keys=keys,
        )
        access_token = token_params["access_token"]
        params |= token_params
    if "id_token" in words and has_openid(scope):
        params["id_token"] = front_channel_id_token(
            session,
            pending=pending,
            user_id=user_id,
            scope=scope,
            auth_time=auth_time,
            access_token=access_token,
            code=code,
            settings=settings,
            keys=keys,
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
    keys: SigningKeys,
    events: Events,
) -> Response | None:
    """Claim the request, issue its answer, commit, respond; None if it was already answered."""
    if not claim(session, pending.id):
        session.rollback()
        return None
    auth_time = request.session.get(SESSION_AUTH_TIME_KEY)
    params = answer_params(
        session,
        pending=pending,
        user_id=user_id,
        scope=scope,
        auth_time=auth_time if isinstance(auth_time, int) else None,
        settings=settings,
        keys=keys,
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
    keys: SigningKeys,
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
        keys=keys,
        events=events,
    )
