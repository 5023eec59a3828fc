"""The userinfo endpoint — what an app may know about John (OIDC Core §5.3).

A protected resource like the photos API: the access token comes in the Authorization header
and is checked the same way (mockgram/bearer.py, RFC 6750 §2.1, §3), and it must hold the
`openid` scope (else 403 insufficient_scope, §5.3.3 / RFC 6750 §3.1). The answer is JSON:
`sub` always, then the claims the token's scope releases — `profile` gives name,
preferred_username and picture, `email` gives email and email_verified (§5.4). GET and POST
both work (§5.3.1); a token in a POST body is refused, as everywhere in Mockgram.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from starlette.responses import Response

from mockgram.bearer import BearerError, require_scope
from mockgram.db import SessionDep
from mockgram.deps import SettingsDep
from mockgram.models import User
from mockgram.oauth.claims import user_claims
from mockgram.oauth.errors import NO_STORE_HEADERS
from mockgram.scopes import OPENID
from mockgram.tokens import AccessToken

router = APIRouter()

OpenIdToken = Annotated[AccessToken, Depends(require_scope(OPENID))]


@router.get("/oauth/userinfo")
@router.post("/oauth/userinfo")
def userinfo(token: OpenIdToken, session: SessionDep, settings: SettingsDep) -> Response:
    """OIDC Core §5.3.2: the claims about the token's user its scope releases."""
    user = session.get(User, token.user_id)
    if user is None:  # the account is gone: the token no longer speaks for anyone
        raise BearerError(401, "invalid_token", "The user of this access token no longer exists.")
    claims = user_claims(user, scope=" ".join(sorted(token.scopes)), settings=settings)
    return JSONResponse(claims, headers=NO_STORE_HEADERS)
