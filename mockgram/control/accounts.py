"""People and clients a test sets up through the control plane: create, or change in place.

Validated as the developer portal validates a registration (mockgram/clients.py); the caller
commits. A client's id may be chosen here (a test wants a fixed one), unlike in open
registration, where Mockgram chooses (RFC 9700 §4.15): only the control secret's holder can.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from mockgram.clients import (
    validate_name,
    validate_redirect_uris,
    validate_response_types,
    validate_scope,
)
from mockgram.control.logins import check_claims, person
from mockgram.models import Client, User
from shared.hashing import hash_password, hash_secret, new_token


def upsert_user(
    session: Session, *, username: str, claims: dict[str, Any], password: str | None = None
) -> User:
    """The person `username`, made when new, with `claims` applied (the caller commits)."""
    check_claims(claims)
    user = person(session, username, claims)
    if password is not None:
        user.password_hash = hash_password(password)
        session.add(user)
    return user


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
) -> tuple[Client, str | None]:
    """Register or change a client; returns it with its clear secret (None when public)."""
    uris = validate_redirect_uris(redirect_uris)
    scope = validate_scope(scopes) if scopes else "photos.read"
    words = validate_response_types(response_types.split()) if response_types else "code"
    client_id = client_id or f"mg_{new_token(16)}"
    clear_secret = None if public else (secret or new_token(32))
    client = session.get(Client, client_id) or Client(client_id=client_id, name=client_id)
    client.name = validate_name(name) if name else client.name
    client.client_type = "public" if public else "confidential"
    client.secret_hash = None if clear_secret is None else hash_secret(clear_secret)
    client.redirect_uris = "\n".join(uris)
    client.allowed_scopes = scope
    client.token_endpoint_auth_method = "none" if public else "client_secret_basic"
    client.response_types = words
    session.add(client)
    session.flush()
    return client, clear_secret
