"""The scopes Mockgram knows, with the plain words the consent page shows (RFC 6749 §3.3).

The first four are OpenID Connect's (OIDC Core §3.1.2.1, §5.4, §11): `openid` makes the request
an OpenID Connect one (an id_token says who John is), `profile` and `email` release those
claims at userinfo, `offline_access` asks for a refresh token. The last two are Mockgram's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ScopeInfo:
    name: str
    title: str
    description: str
    dangerous: bool = False
    required: bool = False  # part of the request itself: shown, but not untickable
    # Claims this scope releases at userinfo (OIDC Core §5.4 for the standard ones, which
    # mockgram/oauth/claims.py knows); a configured scope may release claims of its own.
    claims: tuple[str, ...] = ()


OPENID = "openid"

SCOPES: dict[str, ScopeInfo] = {
    "openid": ScopeInfo(
        "openid",
        "Know who you are",
        "Learn which Mockgram account you use, so the app can sign you in with it.",
        required=True,
    ),
    "profile": ScopeInfo(
        "profile",
        "See your name and picture",
        "Your name, your username and your profile picture.",
    ),
    "email": ScopeInfo(
        "email",
        "See your email address",
        "The email address on your Mockgram account, and whether it is verified.",
    ),
    "offline_access": ScopeInfo(
        "offline_access",
        "Stay connected while you are away",
        "Keep the access you allow here after you close the app, until you take it back.",
    ),
    "photos.read": ScopeInfo(
        "photos.read",
        "See your photos",
        "View your photos, their captions and dates, and download the images.",
    ),
    "photos.write": ScopeInfo(
        "photos.write",
        "Post and delete photos",
        "Upload new photos to your account and delete the ones you have.",
        dangerous=True,
    ),
}


def catalog(configured: Iterable[ScopeInfo] = ()) -> dict[str, ScopeInfo]:
    """The built-in scopes, reworded or extended by settings.configured_scopes."""
    known = dict(SCOPES)
    for info in configured:
        known[info.name] = info
    return known


def normalize_scope(scopes: Iterable[str]) -> str:
    """Scopes in Mockgram's own order, then configured ones by name, duplicates collapsed (§3.3)."""
    wanted = set(scopes)
    builtin = [name for name in SCOPES if name in wanted]
    return " ".join(builtin + sorted(wanted - set(SCOPES) - {""}))


def has_openid(scope: str) -> bool:
    """True when the scope makes this an OpenID Connect request (OIDC Core §3.1.2.1)."""
    return OPENID in scope.split()


def describe(scope: str, configured: Iterable[ScopeInfo] = ()) -> list[ScopeInfo]:
    """The known scopes in a space-separated scope string, in Mockgram's own order."""
    requested = set(scope.split())
    return [info for name, info in catalog(configured).items() if name in requested]
