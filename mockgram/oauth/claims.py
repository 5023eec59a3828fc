"""What Mockgram says about a person: their claims, and which ones each answer releases.

The standard claims are released by scope (OIDC Core §5.4): `profile` gives name,
preferred_username, picture and the other profile claims the person has; `email` gives email
and email_verified; `address` and `phone` theirs, when such scopes are configured. `sub` is
always there (§5.3.2), the same in id_tokens, access tokens and userinfo.

A configured scope may release claims of its own (settings.configured_scopes). A person may
also carry claims of an app's own (groups, tenant…) and three release rules (mockgram/people.py):
claim names always put in every id_token, in every access token, and at userinfo — where, with
no rule, every claim no scope releases is released. The demo people have
no such claims and no rules, so they get exactly the scope-released standard claims.
"""

from __future__ import annotations

from mockgram.models import User
from mockgram.settings import MockgramSettings

# OIDC Core §5.4: the standard claims each scope value asks for.
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": (
        "name",
        "family_name",
        "given_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "picture",
        "website",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "updated_at",
    ),
    "email": ("email", "email_verified"),
    "address": ("address",),
    "phone": ("phone_number", "phone_number_verified"),
}
STANDARD_CLAIMS = frozenset(name for names in SCOPE_CLAIMS.values() for name in names)

# Claims the protocol itself sets in tokens (RFC 7519 §4.1, OIDC Core §2, RFC 9068 §2.2): a
# person's claims may never replace them, or a configured user could forge an audience.
PROTOCOL_CLAIMS = frozenset(
    {
        "sub",
        "iss",
        "aud",
        "exp",
        "nbf",
        "iat",
        "jti",
        "azp",
        "nonce",
        "auth_time",
        "at_hash",
        "c_hash",
        "acr",
        "amr",
        "sid",
        "client_id",
        "scope",
        "cnf",
        "typ",
    }
)


def avatar_url(settings: MockgramSettings, username: str) -> str:
    """The public URL of the user's generated picture (mockgram/pages/avatars.py)."""
    return f"{settings.issuer}/users/{username}/avatar.png"


def all_claims(user: User, *, settings: MockgramSettings) -> dict[str, object]:
    """Every claim the person has, before any release rule (without `sub`)."""
    claims: dict[str, object] = {
        "name": user.name,
        "preferred_username": user.username,
        "picture": avatar_url(settings, user.username),
    }
    if user.email:
        claims |= {"email": user.email, "email_verified": user.email_verified}
    return claims | dict(user.extra_claims or {})


def scope_claims(settings: MockgramSettings) -> dict[str, tuple[str, ...]]:
    """Each scope's claims: the standard ones (§5.4) and those the configured scopes name."""
    released = dict(SCOPE_CLAIMS)
    for info in settings.configured_scopes:
        released[info.name] = tuple(dict.fromkeys(released.get(info.name, ()) + info.claims))
    return released


def own_claim_names(user: User, *, settings: MockgramSettings) -> list[str]:
    """The person's claims that no scope releases (an app's own, released at userinfo)."""
    by_scope = {name for names in scope_claims(settings).values() for name in names}
    return [name for name in (user.extra_claims or {}) if name not in by_scope]


def _pick(claims: dict[str, object], names: list[str]) -> dict[str, object]:
    return {name: claims[name] for name in names if name in claims}


def user_claims(user: User, *, scope: str, settings: MockgramSettings) -> dict[str, object]:
    """Userinfo's answer (OIDC Core §5.3.2): `sub`, the scope's claims (§5.4), the rule's."""
    available = all_claims(user, settings=settings)
    released: dict[str, object] = {"sub": user.subject}
    granted = set(scope.split())
    for scope_value, names in scope_claims(settings).items():
        if scope_value in granted:
            released |= _pick(available, list(names))
    rule = user.userinfo_claims
    own = own_claim_names(user, settings=settings) if rule is None else list(rule)
    released |= _pick(available, own)
    return released


def id_token_extra_claims(user: User, *, settings: MockgramSettings) -> dict[str, object]:
    """The claims the person's rule puts in every id_token, whatever the scope."""
    return _pick(all_claims(user, settings=settings), list(user.id_token_claims or []))


def access_token_extra_claims(user: User, *, settings: MockgramSettings) -> dict[str, object]:
    """The claims the person's rule puts in every access token (RFC 9068 §2.2.1)."""
    return _pick(all_claims(user, settings=settings), list(user.access_token_claims or []))
