"""Who signs in when Mockgram runs non-interactively: the next queued login, else the
configured person (MOCKGRAM_NON_INTERACTIVE_USER).

A test queues a login through the control plane (`POST /_control/next-login`): a username and
the claims that person should have. The next sign-in takes the oldest queued login with an
atomic UPDATE (so of several workers exactly one uses it), creates the person when new and
applies the claims, then signs them in without a password.
"""

from __future__ import annotations

import secrets

from sqlmodel import Session, col, select

from mockgram.control.models import QueuedLogin
from mockgram.models import User
from mockgram.settings import MockgramSettings
from shared.db import stamp_unset
from shared.hashing import hash_password

# The claims a queued login may set on the person: the User column each lands in, its type.
CLAIM_COLUMNS = {"name": "name", "email": "email", "email_verified": "email_verified"}
CLAIM_TYPES: dict[str, type] = {"name": str, "email": str, "email_verified": bool}


def queue_login(session: Session, *, username: str, claims: dict[str, object]) -> QueuedLogin:
    """Queue the next sign-in (the caller commits)."""
    check_claims(claims)
    queued = QueuedLogin(username=username, claims=claims)
    session.add(queued)
    session.flush()
    return queued


def check_claims(claims: dict[str, object]) -> None:
    """Only claims a person can hold, each of its type; else ValueError saying which."""
    unknown = set(claims) - set(CLAIM_COLUMNS)
    if unknown:
        raise ValueError(f"Unsupported claims: {', '.join(sorted(unknown))}.")
    for claim, value in claims.items():
        if not isinstance(value, CLAIM_TYPES[claim]):
            raise ValueError(f"The claim {claim} must be a {CLAIM_TYPES[claim].__name__}.")


def take_next_login(session: Session) -> QueuedLogin | None:
    """Claim the oldest queued login; exactly one caller wins each (the caller commits)."""
    for _ in range(5):
        queued = session.exec(
            select(QueuedLogin)
            .where(col(QueuedLogin.used_at).is_(None))
            .order_by(col(QueuedLogin.id))
        ).first()
        if queued is None:
            return None
        if stamp_unset(session, col(QueuedLogin.used_at), col(QueuedLogin.id) == queued.id) == 1:
            return queued
    return None


def person(session: Session, username: str, claims: dict[str, object]) -> User:
    """The person called `username`, made when new, with `claims` applied (not committed)."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        user = User(
            username=username,
            name=username.title(),
            email=f"{username}@mockgram.test",
            # Nobody types it: a non-interactive person signs in without one.
            password_hash=hash_password(secrets.token_urlsafe(24)),
        )
    for claim, column in CLAIM_COLUMNS.items():
        if claim in claims:
            setattr(user, column, claims[claim])
    session.add(user)
    session.flush()
    return user


def non_interactive_user(session: Session, settings: MockgramSettings) -> User:
    """The queued person, else the configured one (the caller commits)."""
    queued = take_next_login(session)
    if queued is not None:
        return person(session, queued.username, queued.claims)
    return person(session, settings.non_interactive_user, {})
