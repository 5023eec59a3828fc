"""People and clients a test sets up through the control plane: create, or change in place.

Both go through mockgram/people.py, so they are checked and written like those of the
configuration file. Unlike people.py, which makes a person or client *exactly* as described,
a change through the control plane keeps what it does not mention: `POST /_control/users` with
only `{"username": "john", "claims": {"groups": ["admin"]}}` adds a claim and leaves John's
name and email be. A new person gets a random password (non-interactive sign-in needs none);
a new confidential client without a secret gets a generated one, returned once.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, select

from mockgram import people
from mockgram.models import Client, User
from mockgram.oauth.claims import PROTOCOL_CLAIMS
from shared.hashing import new_token

# Claims that are a person's columns, set by their own argument of people.upsert_user.
COLUMN_CLAIMS: dict[str, type] = {"name": str, "email": str, "email_verified": bool}


class AccountError(ValueError):
    """A person, claim or client that cannot be stored as asked; the message says why."""


def check_login_claims(claims: dict[str, Any]) -> None:
    """Claims a queued login may carry: columns of their type, no protocol claim."""
    for claim, value in claims.items():
        if claim in PROTOCOL_CLAIMS:
            raise AccountError(f"The claim {claim!r} is set by the protocol, not per person.")
        expected = COLUMN_CLAIMS.get(claim)
        if expected is not None and not isinstance(value, expected):
            raise AccountError(f"The claim {claim!r} must be a {expected.__name__}.")


def upsert_user(
    session: Session,
    *,
    username: str,
    password: str | None = None,
    name: str | None = None,
    email: str | None = None,
    email_verified: bool | None = None,
    sub: str | None = None,
    claims: dict[str, Any] | None = None,
    id_token_claims: Sequence[str] | None = None,
    access_token_claims: Sequence[str] | None = None,
    userinfo_claims: Sequence[str] | None = None,
    replace_claims: bool = False,
) -> User:
    """The person `username`, made when new; what is not given keeps its value (not committed).

    `claims` are added to the person's own (replacing them with `replace_claims`).
    """
    user = session.exec(select(User).where(User.username == username)).first()
    extra = dict(claims or {})
    if user is not None and not replace_claims:
        extra = {**user.extra_claims, **extra}
    try:
        return people.upsert_user(
            session,
            username=username,
            password=password or (None if user else secrets.token_urlsafe(24)),
            name=name if name is not None else (user.name if user else None),
            email=email if email is not None else (user.email if user else ""),
            email_verified=email_verified
            if email_verified is not None
            else (user.email_verified if user else False),
            sub=sub if sub is not None else (user.sub if user else None),
            claims=extra,
            id_token_claims=_given_or(id_token_claims, user, "id_token_claims", []),
            access_token_claims=_given_or(access_token_claims, user, "access_token_claims", []),
            userinfo_claims=userinfo_claims
            if userinfo_claims is not None
            else (user.userinfo_claims if user else None),
        )
    except people.PeopleError as exc:
        raise AccountError(str(exc)) from exc


def _given_or(value: Sequence[str] | None, user: User | None, column: str, default: list) -> list:
    if value is not None:
        return list(value)
    return list(getattr(user, column)) if user is not None else default


def sign_in_as(session: Session, username: str, claims: dict[str, Any]) -> User:
    """The person a queued login names, with its claims: columns set, the rest added to their
    own claims, and every one released in the id_token (what "the claims of this login" means:
    an app reading the id_token sees them whatever the scope)."""
    columns = {name: claims[name] for name in COLUMN_CLAIMS if name in claims}
    extra = {name: value for name, value in claims.items() if name not in COLUMN_CLAIMS}
    user = session.exec(select(User).where(User.username == username)).first()
    released = list(user.id_token_claims) if user else []
    released += [name for name in claims if name not in released]
    return upsert_user(
        session, username=username, claims=extra, id_token_claims=released, **columns
    )


def upsert_client(
    session: Session,
    *,
    client_id: str | None,
    name: str | None,
    redirect_uris: list[str],
    public: bool,
    scopes: str | None,
    secret: str | None,
    response_types: str | None,
    id_token_signed_response_alg: str | None,
) -> tuple[Client, str | None]:
    """Register or change a client; returns it with its clear secret when one was set now."""
    client_id = client_id or f"mg_{new_token(16)}"
    existing = session.get(Client, client_id)
    if not public and secret is None and (existing is None or existing.secret_hash is None):
        secret = new_token(32)
    grant_types: list[str] | None = None
    if existing is not None:
        scopes = scopes or existing.allowed_scopes
        # The grants it registered stay, unless new response types need others (RFC 7591 §2.1).
        if existing.grant_types and response_types in (None, existing.response_types):
            grant_types = existing.grant_types.split()
        response_types = response_types or existing.response_types
        id_token_signed_response_alg = (
            id_token_signed_response_alg or existing.id_token_signed_response_alg
        )
    try:
        client = people.upsert_client(
            session,
            client_id=client_id,
            name=name or (existing.name if existing else client_id),
            redirect_uris=redirect_uris,
            secret=None if public else secret,
            token_endpoint_auth_method="none" if public else "client_secret_basic",
            allowed_scopes=(scopes or "openid profile email photos.read").split(),
            response_types=(response_types or "code").split(),
            grant_types=grant_types,
            id_token_signed_response_alg=id_token_signed_response_alg or "RS256",
        )
    except people.PeopleError as exc:
        raise AccountError(str(exc)) from exc
    return client, None if public else secret
