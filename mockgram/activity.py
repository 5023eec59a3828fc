"""John's account activity: sign-ins (and failed ones), consents, codes, tokens, refusals.

The authorization server's side of the flow inspector, and a listener only: `listen` registers
one handler per event (mockgram/events.py) and each handler writes one line, in the announcer's
own transaction, so an event is stored exactly when what it describes happened. Nothing secret
is written: no password, code or token, only what happened, for which app, and why.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from mockgram import events
from mockgram.clients import DEVICE_CODE
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
# RFC 8693's grant type (mockgram/oauth/token_exchange.py), named here to keep this module apart.
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
REFUSED = "refused"
SIGNED_OUT_BY_APP = "signed_out_by_app"
DEVICE_APPROVED = "device_approved"
DEVICE_DENIED = "device_denied"

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
    SIGNED_OUT_BY_APP: "Signed out of Mockgram at an app's request",
    DEVICE_APPROVED: "Approved a sign-in on a device",
    DEVICE_DENIED: "Refused a sign-in on a device",
}


def listen(bus: events.Events) -> None:
    """Register the activity log's handlers on an app's events."""
    bus.listen(events.SignedIn, lambda s, e: record(s, e, LOGIN))
    bus.listen(events.SignInFailed, lambda s, e: record(s, e, LOGIN_FAILED))
    bus.listen(events.SignInsThrottled, on_throttled)
    bus.listen(events.ConsentGiven, lambda s, e: record(s, e, CONSENT_GIVEN, f"scope “{e.scope}”"))
    bus.listen(events.ConsentDenied, lambda s, e: record(s, e, CONSENT_DENIED))
    bus.listen(events.ConsentRevoked, lambda s, e: record(s, e, CONSENT_REVOKED))
    bus.listen(events.CodeIssued, lambda s, e: record(s, e, CODE_ISSUED, f"scope “{e.scope}”"))
    bus.listen(events.CodeRedeemed, lambda s, e: record(s, e, CODE_REDEEMED))
    bus.listen(events.TokensIssued, on_tokens_issued)
    bus.listen(events.TokensRevoked, lambda s, e: record(s, e, TOKEN_REVOKED, e.what))
    bus.listen(events.RequestRefused, lambda s, e: record(s, e, REFUSED, e.reason))
    bus.listen(events.SignedOutByApp, lambda s, e: record(s, e, SIGNED_OUT_BY_APP))
    bus.listen(
        events.DeviceApproved, lambda s, e: record(s, e, DEVICE_APPROVED, f"scope “{e.scope}”")
    )
    bus.listen(events.DeviceDenied, lambda s, e: record(s, e, DEVICE_DENIED))


def on_throttled(session: Session, event: events.SignInsThrottled) -> None:
    """Say why John's next sign-ins from that address will wait."""
    detail = f"The next try from that address must wait {event.wait_seconds} s."
    record(session, event, LOGIN_THROTTLED, detail)


def on_tokens_issued(session: Session, event: events.TokensIssued) -> None:
    """A code redemption's tokens only: a refresh every quarter hour would bury the rest, and a
    front-channel answer comes right after the consent the page already shows."""
    if event.grant in ("authorization_code", DEVICE_CODE):
        record(session, event, TOKEN_ISSUED, ", ".join(event.kinds))
    elif event.grant == TOKEN_EXCHANGE:
        # John should see that the app passed part of his access on (RFC 8693).
        detail = "a narrower access token, exchanged for one of yours (token exchange)"
        record(session, event, TOKEN_ISSUED, detail)


def record(session: Session, event: events.Event, kind: str, detail: str = "") -> None:
    """Add one line to the announcer's transaction: it lands, or not, with the change."""
    if event.user_id is None:
        return
    session.add(
        ActivityEvent(
            user_id=event.user_id, kind=kind, client_id=event.client_id, detail=detail[:500]
        )
    )


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
