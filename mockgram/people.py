"""Step 0 — who exists: create or update a person or a client, one call each.

The configuration file (mockgram/config.py), the demo seed and any other caller that sets
Mockgram up for a test suite go through these two functions, so a person or client is always
written whole and checked the same way. Both are keyword-only and idempotent: called again with
the same arguments they change nothing. They flush but do not commit: the caller commits (and,
with several workers racing, rolls back on IntegrityError and calls again).

A person's claims (mockgram/oauth/claims.py): `name`, `email` and `email_verified` are columns;
any other claim, standard (given_name, locale, phone_number…) or an app's own (groups,
tenant…), goes in `claims`. The release rules say which claim names every id_token and every
access token carry whatever the scope, and which userinfo adds to what the scope releases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, select

from mockgram.clients import (
    AUTH_METHODS,
    DEFAULT_ID_TOKEN_ALG,
    ID_TOKEN_ALGS,
    validate_grant_types,
    validate_name,
    validate_response_types,
)
from mockgram.demo.painter import SCENES, make_photo
from mockgram.models import Client, Photo, User
from mockgram.oauth.claims import PROTOCOL_CLAIMS, STANDARD_CLAIMS
from mockgram.oauth.errors import OAuthError
from mockgram.scopes import normalize_scope
from mockgram.uploads import ImageInfo, new_photo
from shared.hashing import hash_password, hash_secret, verify_password

# Columns of User, not entries of its `claims`.
_COLUMN_CLAIMS = frozenset({"name", "email", "email_verified", "preferred_username", "picture"})


class PeopleError(ValueError):
    """A person or client that cannot be stored as asked; the message says why."""


@dataclass(frozen=True)
class PhotoSpec:
    """One photo for a person's feed: a painted demo scene, or image bytes of one's own."""

    caption: str
    scene: str | None = None  # one of mockgram.demo.painter.SCENES
    image: ImageInfo | None = None
    taken_at: datetime | None = None


def upsert_user(
    session: Session,
    *,
    username: str,
    password: str | None = None,
    name: str | None = None,
    email: str = "",
    email_verified: bool = False,
    sub: str | None = None,
    claims: Mapping[str, Any] | None = None,
    id_token_claims: Sequence[str] = (),
    access_token_claims: Sequence[str] = (),
    userinfo_claims: Sequence[str] | None = None,
    photos: Sequence[PhotoSpec] | None = None,
) -> User:
    """Create the person `username`, or make the existing one exactly as described.

    `password` is required for a new person; None keeps an existing person's. `name` defaults
    to the username, `sub` to str(id). `userinfo_claims=None` releases every claim of the
    app's own at userinfo; a list releases those names instead (scope claims always apply).
    `photos` are painted into the feed of a person created now; an existing person's photos
    are left alone (see `replace_photos`). Raises PeopleError when the description is invalid.
    """
    extra = dict(claims or {})
    _check_claims(username, extra, id_token_claims, access_token_claims, userinfo_claims)
    user = session.exec(select(User).where(User.username == username)).first()
    created = user is None
    if user is None:
        if password is None:
            raise PeopleError(f"User {username!r} is new and needs a password.")
        user = User(username=username, name="", email="", password_hash=hash_password(password))
        session.add(user)
    elif password is not None and not verify_password(user.password_hash, password):
        user.password_hash = hash_password(password)  # unchanged passwords are not rehashed
    fields: dict[str, Any] = {
        "name": name if name is not None else username,
        "email": email,
        "email_verified": email_verified,
        "sub": sub,
        "extra_claims": extra,
        "id_token_claims": list(id_token_claims),
        "access_token_claims": list(access_token_claims),
        "userinfo_claims": None if userinfo_claims is None else list(userinfo_claims),
    }
    for field, value in fields.items():
        if getattr(user, field) != value:
            setattr(user, field, value)
    session.flush()
    if created and photos:
        replace_photos(session, user, photos)
    return user


def replace_photos(session: Session, user: User, photos: Sequence[PhotoSpec]) -> None:
    """Make `photos` the person's whole feed (painted scenes are cached, see painter.py)."""
    assert user.id is not None
    for old in session.exec(select(Photo).where(Photo.owner_id == user.id)).all():
        session.delete(old)
    for index, photo in enumerate(photos):
        if photo.image is not None:
            info = photo.image
        elif photo.scene in SCENES:
            info = make_photo(user.username, index, photo.scene)
        else:
            raise PeopleError(
                f"Photo {index + 1} of {user.username!r} needs an image or a scene, one of: "
                + ", ".join(SCENES)
                + "."
            )
        session.add(
            new_photo(owner_id=user.id, caption=photo.caption, info=info, taken_at=photo.taken_at)
        )
    session.flush()


def check_redirect_uri(uri: str, *, owner: str) -> str:
    """An absolute URI without a fragment (RFC 6749 §3.1.2); any scheme and host.

    Unlike self-registration (mockgram/clients.py), plain http on any host is allowed: a test
    suite's app may well listen at http://app:3000 inside its own network.
    """
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError as exc:
        raise PeopleError(f"{owner}: redirect URI {uri!r} could not be parsed.") from exc
    # RFC 6749 §3.1.2: "The redirection endpoint URI MUST be an absolute URI."
    if not parts.scheme or not (parts.netloc or parts.path) or any(c.isspace() for c in uri):
        raise PeopleError(f"{owner}: redirect URI {uri!r} is not an absolute URI.")
    if parts.scheme in ("http", "https") and not parts.hostname:
        raise PeopleError(f"{owner}: redirect URI {uri!r} has no host.")
    # RFC 6749 §3.1.2: "The endpoint URI MUST NOT include a fragment component."
    if "#" in uri:
        raise PeopleError(f"{owner}: redirect URI {uri!r} must not contain a fragment (#).")
    return uri


def _check_claims(
    username: str,
    claims: Mapping[str, Any],
    id_token_claims: Sequence[str],
    access_token_claims: Sequence[str],
    userinfo_claims: Sequence[str] | None,
) -> None:
    """Claims may not replace protocol claims or columns; rules name claims the person has."""
    for claim in claims:
        if claim in PROTOCOL_CLAIMS:
            raise PeopleError(
                f"User {username!r}: claim {claim!r} is set by the protocol, not per person."
            )
        if claim in _COLUMN_CLAIMS - {"picture"}:
            raise PeopleError(
                f"User {username!r}: set {claim!r} with its own argument, not among claims."
            )
    known = set(claims) | _COLUMN_CLAIMS
    rules = {
        "id_token_claims": id_token_claims,
        "access_token_claims": access_token_claims,
        "userinfo_claims": userinfo_claims or (),
    }
    for rule, names in rules.items():
        if isinstance(names, str):
            raise PeopleError(f"User {username!r}: {rule} must be a list of claim names.")
        unknown = [name for name in names if name not in known]
        if unknown:
            raise PeopleError(
                f"User {username!r}: {rule} names {', '.join(map(repr, unknown))}, "
                "which this person has no value for."
            )


def upsert_client(
    session: Session,
    *,
    client_id: str,
    name: str,
    redirect_uris: Sequence[str],
    secret: str | None = None,
    token_endpoint_auth_method: str = "client_secret_basic",  # noqa: S107 (a method's name)
    allowed_scopes: Sequence[str] = ("openid", "profile", "email"),
    response_types: Sequence[str] = ("code",),
    grant_types: Sequence[str] | None = None,
    id_token_signed_response_alg: str = DEFAULT_ID_TOKEN_ALG,
    owner_user_id: int | None = None,
    post_logout_redirect_uris: Sequence[str] = (),
    require_pushed_authorization_requests: bool = False,
    fapi2_security_profile: bool = False,
    dpop_bound_access_tokens: bool = False,
) -> Client:
    """Create the client `client_id`, or make the existing one exactly as described.

    `token_endpoint_auth_method="none"` makes a public client (RFC 6749 §2.1), which must
    have no secret; a confidential client needs one for a new client (None keeps an existing
    client's). Redirect URIs follow the registration rules (mockgram/clients.py); `grant_types`,
    when given, must match `response_types` (RFC 7591 §2.1). Raises PeopleError on invalid input.
    """
    uris = [check_redirect_uri(uri, owner=f"Client {client_id!r}") for uri in redirect_uris]
    logout_uris = [
        check_redirect_uri(uri, owner=f"Client {client_id!r}") for uri in post_logout_redirect_uris
    ]
    grants = None if grant_types is None else list(grant_types)
    public = token_endpoint_auth_method == "none"
    try:
        words = validate_response_types(list(response_types), grant_types=grants)
        stored_grants = validate_grant_types(grants, response_types=words, public=public)
        display_name = validate_name(name, required=True)
    except OAuthError as exc:
        raise PeopleError(f"Client {client_id!r}: {exc.description}") from exc
    # RFC 6749 §3.1.2: only a client that sends a browser to the authorization endpoint (one
    # with a response type) needs somewhere to send it back; a device or a machine does not.
    if not uris and words:
        raise PeopleError(f"Client {client_id!r}: it needs at least one redirect URI.")
    if token_endpoint_auth_method not in AUTH_METHODS:
        raise PeopleError(
            f"Client {client_id!r}: token_endpoint_auth_method must be one of "
            + ", ".join(AUTH_METHODS)
            + "."
        )
    if id_token_signed_response_alg not in ID_TOKEN_ALGS:
        raise PeopleError(
            f"Client {client_id!r}: id_token_signed_response_alg must be one of "
            + ", ".join(ID_TOKEN_ALGS)
            + "."
        )
    if public and secret is not None:
        raise PeopleError(f"Client {client_id!r} is public (auth method none): no secret.")
    client = session.get(Client, client_id)
    if client is None:
        if not public and secret is None:
            raise PeopleError(f"Client {client_id!r} is new and confidential: it needs a secret.")
        client = Client(client_id=client_id, name=display_name)
        session.add(client)
    fields: dict[str, Any] = {
        "name": display_name,
        "client_type": "public" if public else "confidential",
        "redirect_uris": "\n".join(uris),
        "allowed_scopes": normalize_scope(allowed_scopes),
        "token_endpoint_auth_method": token_endpoint_auth_method,
        "response_types": words,
        "grant_types": stored_grants,
        "id_token_signed_response_alg": id_token_signed_response_alg,
        "owner_user_id": owner_user_id,
        "dpop_bound_access_tokens": dpop_bound_access_tokens,  # RFC 9449 §5.2
        # Written by whoever runs this Mockgram (its file, its control plane), not a stranger.
        "verified": True,
        "post_logout_redirect_uris": "\n".join(logout_uris),
        "require_pushed_authorization_requests": require_pushed_authorization_requests,
        "fapi2_security_profile": fapi2_security_profile,
    }
    if public:
        fields["secret_hash"] = None
    elif secret is not None:
        fields["secret_hash"] = hash_secret(secret)
    for field, value in fields.items():
        if getattr(client, field) != value:
            setattr(client, field, value)
    session.flush()
    return client


__all__ = [
    "STANDARD_CLAIMS",
    "PeopleError",
    "check_redirect_uri",
    "PhotoSpec",
    "replace_photos",
    "upsert_client",
    "upsert_user",
]
