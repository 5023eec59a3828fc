"""The AwesomeService account a 'Log in with Mockgram' signs in to, and what it received.

Accounts are matched by the provider's (iss, sub) only (OIDC Core §5.7) — never by email or
username: the linked account, the signed-in one (linking), or a new one. The protocol that
leads here is in awesomeservice/oauth/oidc_login.py.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from awesomeservice.backchannel import MockgramUnavailable
from awesomeservice.models import FederatedIdentity, LoginRecord, User
from awesomeservice.oauth.id_token import IdToken
from awesomeservice.oauth.oidc_login import LoginRefused
from shared.clock import utcnow
from shared.hashing import hash_password, new_token

_USERNAME_CHARS = re.compile(r"[^a-z0-9_.-]")


def account_for_login(
    session: Session,
    *,
    issuer: str,
    id_token: IdToken,
    userinfo: dict[str, Any],
    user_id: int | None,
) -> tuple[User, str]:
    """The account this login signs in to (`link_or_create`), and the record of what the login
    received, for the "claims received" page."""
    user, outcome = link_or_create(
        session, issuer=issuer, id_token=id_token, userinfo=userinfo, user_id=user_id
    )
    assert user.id is not None
    session.add(
        LoginRecord(
            user_id=user.id,
            issuer=issuer,
            id_token_header=json.dumps(id_token.header),
            id_token_claims=json.dumps(id_token.claims),
            userinfo=json.dumps(userinfo),
            outcome=outcome,
        )
    )
    session.commit()
    return user, outcome


def link_or_create(
    session: Session,
    *,
    issuer: str,
    id_token: IdToken,
    userinfo: dict[str, Any],
    user_id: int | None,
) -> tuple[User, str]:
    """The account for (iss, sub): the linked one, the signed-in one (linking), or a new one.

    Accounts are matched by (iss, sub) only (OIDC Core §5.7) — never by email or username.
    """
    identity = session.exec(
        select(FederatedIdentity).where(
            FederatedIdentity.issuer == issuer, FederatedIdentity.subject == id_token.sub
        )
    ).first()
    now = utcnow()
    if identity is not None:
        if user_id is not None and identity.user_id != user_id:
            raise LoginRefused("identity_linked_elsewhere")
        identity.last_login_at = now
        session.add(identity)
        session.commit()
        user = session.get(User, identity.user_id)
        assert user is not None
        return user, "signed_in"
    if user_id is not None:
        user = session.get(User, user_id)
        assert user is not None
        outcome = "linked"
    else:
        user = _new_user(session, id_token, userinfo)
        outcome = "created"
    assert user.id is not None
    session.add(
        FederatedIdentity(user_id=user.id, issuer=issuer, subject=id_token.sub, last_login_at=now)
    )
    try:
        session.commit()
    except IntegrityError as exc:  # the same login finished twice at once in two workers
        session.rollback()
        raise LoginRefused("identity_race") from exc
    return user, outcome


def _new_user(session: Session, id_token: IdToken, userinfo: dict[str, Any]) -> User:
    """A fresh account named after the provider's profile; it has no usable password."""
    claims = {**id_token.claims, **userinfo}
    wanted = claims.get("preferred_username")
    base = _USERNAME_CHARS.sub("", wanted.lower())[:24] if isinstance(wanted, str) else ""
    base = base if len(base) >= 3 else "member"
    name = claims.get("name")
    display = name.strip()[:120] if isinstance(name, str) and name.strip() else base
    for attempt in range(20):
        # A taken username is never reused: "john" here may be someone else (no auto-linking).
        username = base if attempt == 0 else f"{base}-{secrets.randbelow(10_000)}"
        user = User(
            username=username,
            name=display,
            # Nobody knows this password: the account signs in through its provider.
            password_hash=hash_password(new_token()),
        )
        session.add(user)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            continue
        session.refresh(user)
        return user
    raise MockgramUnavailable("bad_answer", "No free username could be found.")


def last_login(session: Session, user_id: int) -> LoginRecord | None:
    """The most recent 'Log in with' record of this user."""
    return session.exec(
        select(LoginRecord)
        .where(LoginRecord.user_id == user_id)
        .order_by(col(LoginRecord.id).desc())
    ).first()
