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
from sqlmodel import Session
from starlette.responses import Response

from mockgram.bearer import BearerError, PresentedToken, person_of, present_token
from mockgram.db import DatabaseDep
from mockgram.deps import SettingsDep
from mockgram.models import User
from mockgram.oauth.claims import user_claims
from mockgram.oauth.errors import NO_STORE_HEADERS
from mockgram.scopes import OPENID
from mockgram.tokens import AccessToken

router = APIRouter()

OpenIdToken = Annotated[PresentedToken, Depends(present_token(OPENID))]


@router.get("/oauth/userinfo")
@router.post("/oauth/userinfo")
async def userinfo(token: OpenIdToken, database: DatabaseDep, settings: SettingsDep) -> Response:
    """OIDC Core §5.3.2: the claims about the token's user its scope releases."""
    access, user = await database.run(token_and_user, token)
    claims = user_claims(user, scope=" ".join(sorted(access.scopes)), settings=settings)
    return JSONResponse(claims, headers=NO_STORE_HEADERS)


def token_and_user(session: Session, token: PresentedToken) -> tuple[AccessToken, User]:
    """The active token and the user it speaks for, in one session."""
    access = token.authorize(session)
    user = session.get(User, person_of(access))
    if user is None:  # the account is gone: the token no longer speaks for anyone
        raise BearerError(401, "invalid_token", "The user of this access token no longer exists.")
    return access, user
