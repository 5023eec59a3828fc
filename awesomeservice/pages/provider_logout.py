"""Sign-out of a "Log in with Mockgram" session: here first, then at Mockgram (RP-Initiated Logout).

The login keeps its raw id_token in the server-side session (never in a cookie: the cookie holds
only the session's id). At sign-out this browser's session ends here, then the browser goes to
Mockgram's end_session_endpoint (awesomeservice/oauth/end_session.py) with that id_token as the
hint and a fresh state kept in the new session; /login/signed-out reads the state on return and
says what happened. Without the id_token (a password sign-in), or without the endpoint, only
AwesomeService's session ends.
"""

from __future__ import annotations

import httpx
from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from awesomeservice.backchannel import MockgramUnavailable
from awesomeservice.oauth.discovery import Discovery
from awesomeservice.oauth.end_session import end_session_url
from awesomeservice.settings import AwesomeServiceSettings
from shared.hashing import constant_equals
from shared.oauth_spec import new_state
from shared.sessions import renew_session

ID_TOKEN_KEY = "login_id_token"
LOGOUT_STATE_KEY = "logout_state"


def remember_login(request: Request, raw_id_token: str | None) -> None:
    """Keep the login's id_token for the sign-out's id_token_hint (RP-Initiated Logout §2)."""
    if raw_id_token:
        request.session[ID_TOKEN_KEY] = raw_id_token


async def sign_out_at_provider(
    request: Request,
    settings: AwesomeServiceSettings,
    http: httpx.AsyncClient,
    discovery: Discovery,
) -> Response | None:
    """End the session here and send the browser to the provider's end_session_endpoint;
    None when this session did not come from the provider (the caller signs out as usual)."""
    raw = request.session.get(ID_TOKEN_KEY)
    if not isinstance(raw, str) or not raw:
        return None
    try:
        metadata = await discovery.metadata(http, settings.login_issuer)
    except MockgramUnavailable:
        return None  # the provider is away: at least this session ends
    state = new_state()
    url = end_session_url(
        metadata,
        id_token_hint=raw,
        client_id=settings.login_client_id,
        post_logout_redirect_uri=settings.post_logout_redirect_uri,
        state=state,
    )
    if url is None:
        return None
    # The old session's row goes (every copy of its cookie ends); only the state stays.
    renew_session(request)
    request.session.clear()
    request.session[LOGOUT_STATE_KEY] = state
    return RedirectResponse(url, status_code=303)


def provider_signed_out(request: Request, state: str) -> bool:
    """True when the provider sent back the state we sent (§2), once."""
    expected = request.session.pop(LOGOUT_STATE_KEY, None)
    return isinstance(expected, str) and bool(state) and constant_equals(expected, state)
