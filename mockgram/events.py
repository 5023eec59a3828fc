"""What happened at Mockgram, announced by the code that did it and heard by whoever cares.

Protocol code (mockgram/oauth/) and John's pages announce facts — a code issued, tokens issued,
a refresh token reused, a consent given, a request refused — and know nothing of who listens.
Listeners are the teaching side jobs: John's activity page (mockgram/activity.py) today, any
inspector tomorrow. Like node-oidc-provider's `provider.on('grant.revoked', …)`, but typed:
an event is a frozen dataclass and a listener is registered for one event class.

A listener runs at once, in the announcer's thread, with the announcer's database session, so
what it writes lands (or not) with the change it describes; the announcer commits. One `Events`
object lives on each app (`app.state.events`; `EventsDep`, or `Provider.events` in protocol
code), so a test can give an app its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlmodel import Session


@dataclass(frozen=True, kw_only=True)
class Event:
    """Something that happened to a person's account (user_id None when nobody is known)."""

    user_id: int | None
    client_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class SignedIn(Event):
    """John typed the right password."""


@dataclass(frozen=True, kw_only=True)
class SignedOutByApp(Event):
    """An app asked Mockgram to end John's session (OIDC RP-Initiated Logout), and it ended."""


@dataclass(frozen=True, kw_only=True)
class SignInFailed(Event):
    """A wrong password, or a username nobody has (then user_id is None)."""


@dataclass(frozen=True, kw_only=True)
class SignInsThrottled(Event):
    """From now on, sign-ins to this account from that address must wait."""

    wait_seconds: int


@dataclass(frozen=True, kw_only=True)
class ConsentGiven(Event):
    """John allowed an app `scope` (RFC 6749 §3.3)."""

    scope: str


@dataclass(frozen=True, kw_only=True)
class ConsentDenied(Event):
    """John refused an app (RFC 6749 §4.1.2.1 access_denied)."""


@dataclass(frozen=True, kw_only=True)
class ConsentRevoked(Event):
    """John took an app's access away on his apps page."""


@dataclass(frozen=True, kw_only=True)
class CodeIssued(Event):
    """An authorization code for `scope` went back to the app (RFC 6749 §4.1.2)."""

    scope: str


@dataclass(frozen=True, kw_only=True)
class CodeRedeemed(Event):
    """An app traded its code at the token endpoint (RFC 6749 §4.1.3)."""


@dataclass(frozen=True, kw_only=True)
class TokensIssued(Event):
    """Tokens went to an app; `kinds` names them, `grant` says how they were earned."""

    grant: str  # "authorization_code", "refresh_token" or "implicit"
    kinds: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class TokensRevoked(Event):
    """Tokens stopped working before they expired; `what` says which, in words."""

    what: str


@dataclass(frozen=True, kw_only=True)
class RefreshTokenReused(Event):
    """A rotated refresh token came back: its whole grant is revoked (RFC 9700 §4.14.2)."""

    grant_id: str


@dataclass(frozen=True, kw_only=True)
class RequestRefused(Event):
    """A request about this account was refused; `reason` says why, without any secret."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class ClientAuthenticated(Event):
    """A client proved who it is (RFC 6749 §2.3); `method` as in token_endpoint_auth_method."""

    method: str


@dataclass(frozen=True, kw_only=True)
class ClientAuthenticationFailed(Event):
    """A client's credentials were missing or wrong (RFC 6749 §5.2 invalid_client)."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class DeviceApproved(Event):
    """John approved a device's sign-in on /device (RFC 8628 §3.3)."""

    scope: str


@dataclass(frozen=True, kw_only=True)
class DeviceDenied(Event):
    """John refused a device's sign-in on /device (RFC 8628 §3.5 access_denied)."""


E = TypeVar("E", bound=Event)
Listener = Callable[[Session, Any], None]


class Events:
    """The announcements of one app and the listeners registered for them."""

    def __init__(self) -> None:
        self._listeners: dict[type[Event], list[Listener]] = {}

    def listen(self, kind: type[E], listener: Callable[[Session, E], None]) -> None:
        """Call `listener` for every announced event of class `kind`."""
        self._listeners.setdefault(kind, []).append(listener)

    def announce(self, session: Session, event: Event) -> None:
        """Tell every listener of this event's class, in the order they were registered."""
        for listener in self._listeners.get(type(event), ()):
            listener(session, event)
