"""Who signs in when Mockgram runs non-interactively: the next queued login, else the
configured person (MOCKGRAM_NON_INTERACTIVE_USER).

A test queues a login through the control plane (`POST /_control/next-login`): a username and
the claims that person should have. The next sign-in takes the oldest queued login with an
atomic UPDATE (so of several workers exactly one uses it), creates the person when new and
applies the claims (mockgram/control/accounts.py), then signs them in without a password.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from mockgram.control.accounts import check_login_claims, sign_in_as
from mockgram.control.models import QueuedLogin
from mockgram.models import User
from mockgram.settings import MockgramSettings
from shared.db import stamp_unset


def queue_login(session: Session, *, username: str, claims: dict[str, object]) -> QueuedLogin:
    """Queue the next sign-in (the caller commits); AccountError for claims no one can hold."""
    check_login_claims(claims)
    queued = QueuedLogin(username=username, claims=claims)
    session.add(queued)
    session.flush()
    return queued


def take_next_login(session: Session) -> QueuedLogin | None:
    """Claim the oldest queued login; exactly one caller wins each (the caller commits)."""
    for _ in range(5):  # another worker may claim the one we saw; then look again
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


def non_interactive_user(session: Session, settings: MockgramSettings) -> User:
    """The queued person, else the configured one (the caller commits)."""
    queued = take_next_login(session)
    if queued is not None:
        return sign_in_as(session, queued.username, queued.claims)
    return sign_in_as(session, settings.non_interactive_user, {})
