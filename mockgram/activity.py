"""John's account activity: sign-ins (and failed ones), consents, codes, tokens, refusals.

The authorization server's side of the flow inspector: each site that changes what an app may
do writes one line here (`record`), inside that site's own transaction, so an event is stored
exactly when what it describes happened. Nothing secret is written: no password, code or token,
only what happened, for which app, and why.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from mockgram.models import ActivityEvent

LOGIN = "login"
LOGIN_FAILED = "login_failed"
LOGIN_THROTTLED = "login_throttled"
CONSENT_GIVEN = "consent_given"
CONSENT_DENIED = "consent_denied"
CONSENT_REVOKED = "consent_revoked"
CODE_ISSUED = "code_issued"
CODE_REDEEMED = "code_redeemed"
TOKEN_ISSUED = "token_issued"
TOKEN_REVOKED = "token_revoked"
REFUSED = "refused"

TITLES: dict[str, str] = {
    LOGIN: "Signed in to Mockgram",
    LOGIN_FAILED: "A sign-in with a wrong password",
    LOGIN_THROTTLED: "Sign-ins slowed down after too many wrong passwords",
    CONSENT_GIVEN: "Gave an app access",
    CONSENT_DENIED: "Refused an app access",
    CONSENT_REVOKED: "Took an app's access away",
    CODE_ISSUED: "An authorization code was issued",
    CODE_REDEEMED: "An authorization code was redeemed for tokens",
    TOKEN_ISSUED: "Tokens were issued",
    TOKEN_REVOKED: "Tokens were revoked",
    REFUSED: "A request for this account was refused",
}


def record(
    session: Session,
    *,
    user_id: int | None,
    kind: str,
    client_id: str | None = None,
    detail: str = "",
    commit: bool = False,
) -> None:
    """Add one event to the caller's transaction (it lands, or not, with the caller's change).

    `commit=True` where the caller writes nothing else: a refused attempt or a sign-in.
    """
    if user_id is None:
        return
    session.add(ActivityEvent(user_id=user_id, kind=kind, client_id=client_id, detail=detail[:500]))
    if commit:
        session.commit()


def recent(session: Session, user_id: int, limit: int = 200) -> list[ActivityEvent]:
    """A person's latest events, newest first."""
    return list(
        session.exec(
            select(ActivityEvent)
            .where(ActivityEvent.user_id == user_id)
            .order_by(col(ActivityEvent.at).desc(), col(ActivityEvent.id).desc())
            .limit(limit)
        ).all()
    )
