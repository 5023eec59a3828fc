"""What Mockgram says about John: the standard claims, released by scope (OIDC Core §5.1, §5.4).

`sub` always (the same `str(user.id)` access tokens carry); `profile` adds name,
preferred_username and picture; `email` adds email and email_verified. Userinfo and, for
response_type=id_token only, the id_token itself use this one function.
"""

from __future__ import annotations

from mockgram.models import User
from mockgram.settings import MockgramSettings


def avatar_url(settings: MockgramSettings, username: str) -> str:
    """The public URL of the user's generated picture (mockgram/pages/avatars.py)."""
    return f"{settings.issuer}/users/{username}/avatar.png"


def user_claims(user: User, *, scope: str, settings: MockgramSettings) -> dict[str, object]:
    """The claims the scope releases (OIDC Core §5.4); `sub` is always there (§5.3.2)."""
    scopes = set(scope.split())
    claims: dict[str, object] = {"sub": str(user.id)}
    if "profile" in scopes:
        claims |= {
            "name": user.name,
            "preferred_username": user.username,
            "picture": avatar_url(settings, user.username),
        }
    if "email" in scopes:
        claims |= {"email": user.email, "email_verified": user.email_verified}
    return claims
