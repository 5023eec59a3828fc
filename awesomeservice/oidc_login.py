"""'Log in with Mockgram' — the OpenID Connect authorization code flow (OIDC Core §3.1).

The article's last part: the same six steps, with scope `openid`, and an id_token that says who
logged in. This module holds the protocol: the authentication request (state, nonce, PKCE S256),
the callback's checks (state, `iss` per RFC 9207), the code exchange with client_secret_basic,
the id_token (awesomeservice/id_token.py), userinfo with its `sub` check (OIDC Core §5.3.2,
checklist C5), and the link between a provider's (iss, sub) and an AwesomeService account.
Any standards-compliant provider works: its endpoints come from discovery.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from awesomeservice.backchannel import MockgramUnavailable, json_object, send
from awesomeservice.discovery import Discovery, ProviderMetadata, back_channel
from awesomeservice.id_token import IdToken, validate_id_token
from awesomeservice.models import FederatedIdentity, LoginRecord, PendingLogin, User
from awesomeservice.oauth_client import (
    StateWords,
    TokenSet,
    redeem_code,
    use_up_state,
    with_query,
)
from awesomeservice.settings import AwesomeServiceSettings
from shared import pkce
from shared.clock import utcnow
from shared.db import KEEP_EXPIRED, Database, delete_older_than
from shared.hashing import hash_password, hash_secret, new_token

_USERNAME_CHARS = re.compile(r"[^a-z0-9_.-]")


class LoginRefused(Exception):
    """The login cannot go on; the texts are for the person at the keyboard."""

    def __init__(self, reason: str, title: str, message: str, rfc: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.title = title
        self.message = message
        self.rfc = rfc


@dataclass(frozen=True)
class LoginResult:
    """A finished login: who, what was received, and what we did with the account."""

    user: User
    outcome: str  # "signed_in", "linked" or "created"
    id_token: IdToken
    userinfo: dict[str, Any]


def start_login(
    session: Session,
    settings: AwesomeServiceSettings,
    metadata: ProviderMetadata,
    *,
    browser_binding: str,
    user_id: int | None,
) -> str:
    """Remember state, nonce and PKCE verifier; return the authentication request URL."""
    # RFC 6749 §10.12: state binds the answer to this browser (login CSRF).
    state = secrets.token_urlsafe(32)
    # OIDC Core §3.1.2.1, §15.5.2: nonce binds the id_token to this request (replay).
    nonce = secrets.token_urlsafe(32)
    # RFC 7636, RFC 9700 §2.1.1: PKCE S256 even for a confidential client.
    verifier = pkce.make_verifier()
    now = utcnow()
    delete_older_than(session, PendingLogin, PendingLogin.expires_at, KEEP_EXPIRED)
    session.add(
        PendingLogin(
            state_hash=hash_secret(state),
            browser_binding=browser_binding,
            user_id=user_id,
            issuer=metadata.issuer,
            nonce=nonce,
            code_verifier=verifier,
            redirect_uri=settings.login_redirect_uri,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.pending_authorization_seconds),
        )
    )
    session.commit()
    # OIDC Core §3.1.2.1: the authentication request.
    query = urlencode(
        {
            "client_id": settings.login_client_id,
            "redirect_uri": settings.login_redirect_uri,
            "response_type": "code",
            "scope": settings.login_scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": pkce.s256_challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    return with_query(metadata.authorization_endpoint, query)


_LOGIN_STATE_WORDS = StateWords(
    missing=(
        "This answer has no state",
        "A login answer must carry the state we sent; nothing was redeemed.",
    ),
    unknown=(
        "We did not start this login",
        "The state does not match any login AwesomeService started. Someone may be trying "
        "to sign you in to their account (login CSRF), so nothing was redeemed.",
    ),
    other_session=(
        "This answer belongs to another browser",
        "The login was started in a different browser session. Nothing was redeemed.",
    ),
    used=(
        "This answer was already used",
        "Each login answer works once. Nothing was redeemed again.",
    ),
    expired=("This login has expired", "Start again; nothing was redeemed."),
    used_in_race=(
        "This answer was already used",
        "Each login answer works once. Nothing was redeemed again.",
    ),
)


def consume_login_state(
    session: Session, *, state: str | None, browser_binding: str | None, user_id: int | None
) -> PendingLogin:
    """The pending login this `state` names, used up once; anything doubtful refused (C1)."""
    return use_up_state(
        session,
        PendingLogin,
        _LOGIN_STATE_WORDS,
        state=state,
        browser_binding=browser_binding,
        user_id=user_id,
    )


async def fetch_userinfo(
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    metadata: ProviderMetadata,
    tokens: TokenSet,
    id_token: IdToken,
) -> dict[str, Any]:
    """OIDC Core §5.3: the userinfo claims; their sub must be the id_token's (§5.3.2, C5)."""
    if metadata.userinfo_endpoint is None:
        return {}
    response = await send(
        http,
        "GET",
        back_channel(metadata.userinfo_endpoint, settings),
        headers={"Authorization": f"Bearer {tokens.access_token}", "Accept": "application/json"},
    )
    if response.status_code != 200:
        raise LoginRefused(
            "userinfo_refused",
            "The provider would not tell us who you are",
            f"Its userinfo endpoint answered HTTP {response.status_code}.",
            "OIDC Core §5.3.3",
        )
    claims = json_object(response)
    # OIDC Core §5.3.2: "The sub Claim in the UserInfo Response MUST be verified to exactly
    # match the sub Claim in the ID Token; if they do not match, the UserInfo Response values
    # MUST NOT be used."
    if claims.get("sub") != id_token.sub:
        raise LoginRefused(
            "userinfo_sub_mismatch",
            "The profile is about someone else",
            "The userinfo answer names another subject than the id_token, so neither was used.",
            "OIDC Core §5.3.2",
        )
    return claims


async def finish_login(
    database: Database,
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    discovery: Discovery,
    metadata: ProviderMetadata,
    *,
    pending: PendingLogin,
    code: str,
) -> LoginResult:
    """Steps 5–6 of the login: code for tokens, the id_token checked, userinfo, the account."""
    tokens = await redeem_code(
        http,
        settings,
        token_endpoint=metadata.token_endpoint,
        client_id=settings.login_client_id,
        client_secret=settings.login_client_secret,
        code=code,
        pending=pending,
        requested_scope=settings.login_scope,
        auth_method=metadata.client_auth_method,  # what this provider accepts
    )
    # OIDC Core §3.1.3.3: a successful token response to an openid request has an id_token.
    if tokens.id_token is None:
        raise LoginRefused(
            "id_token_missing",
            "The provider sent no id_token",
            "Without an id_token nobody has said who logged in, so you were not signed in.",
            "OIDC Core §3.1.3.3",
        )
    id_token = await validate_id_token(
        tokens.id_token,
        http=http,
        discovery=discovery,
        metadata=metadata,
        client_id=settings.login_client_id,
        nonce=pending.nonce,
        access_token=tokens.access_token,
    )
    userinfo = await fetch_userinfo(http, settings, metadata, tokens, id_token)
    user, outcome = await database.run(
        account_for_login,
        issuer=metadata.issuer,
        id_token=id_token,
        userinfo=userinfo,
        user_id=pending.user_id,
    )
    return LoginResult(user=user, outcome=outcome, id_token=id_token, userinfo=userinfo)


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
            raise LoginRefused(
                "identity_linked_elsewhere",
                "That Mockgram account is linked to another AwesomeService account",
                "To use it, sign out and press “Log in with Mockgram”: you reach the "
                "AwesomeService account it belongs to. Nothing was changed.",
            )
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
        raise LoginRefused(
            "identity_race", "That login was just finished elsewhere", "Try again.", ""
        ) from exc
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
