"""AwesomeService's event seam: protocol code says what happened; the teaching side jobs listen.

The protocol package (awesomeservice/oauth/) knows nothing of the flow inspector, step-through
or the attack lab. It announces what happened — an authorization request sent, a callback
received, a code exchanged, an id_token validated, a token refreshed or revoked, a request
refused — to the app's `Events`, and at one marked point per defence it asks whether the lab
has switched that defence off for this one run. The inspector's recorder listens; the lab
registers its switches; step-through registers the pause the page layer asks for between
protocol steps (a pause answers with a page, so it never happens inside oauth/).

One `Events` per app, on `app.state.events`, wired in `create_app`; a test may replace it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import Response

log = logging.getLogger("awesomeservice.events")


@dataclass(frozen=True)
class Event:
    """Something the protocol did; each kind below carries what a listener may use, no secret
    beyond what the browser itself saw."""


@dataclass(frozen=True)
class AuthorizationRequestSent(Event):
    """Step 1: the browser is sent to this authorization request URL."""

    url: str
    title: str = ""  # how the recording names it, when not the article's step 1


@dataclass(frozen=True)
class AuthorizationRequestPushed(Event):
    """Step 1 by the back channel (RFC 9126 §2): the request was pushed and stands for
    `request_uri`; the browser's URL shrank from `full_length` to `short_length` characters."""

    request_uri: str
    expires_in: int
    full_length: int
    short_length: int


@dataclass(frozen=True)
class CallbackReceived(Event):
    """Step 4: the authorization response came back (its `state` already checked, where the
    flow keeps one); `url` carries its parameters in the query, `mode` says how they came."""

    url: str
    title: str = ""
    mode: str = "query"  # "query", "form_post" or "fragment"


@dataclass(frozen=True)
class CodeExchanged(Event):
    """Step 5: the token endpoint traded a code for tokens."""

    client_id: str
    scope: str
    with_id_token: bool


@dataclass(frozen=True)
class IdTokenValidated(Event):
    """An id_token passed every check of OIDC Core §3.1.3.7."""

    issuer: str
    subject: str
    client_id: str


@dataclass(frozen=True)
class TokenRefreshed(Event):
    """The refresh_token grant answered (RFC 6749 §6); `rotated` when a new refresh token came."""

    client_id: str
    scope: str
    rotated: bool


@dataclass(frozen=True)
class TokenRevoked(Event):
    """One revocation request (RFC 7009 §2.1) and what came of it."""

    token_type_hint: str
    outcome: str  # "revoked", "refused", "unreachable", "unsupported"


@dataclass(frozen=True)
class RequestRefused(Event):
    """A check of ours, or the provider, refused at this step; `reason` as on /errors/{reason}."""

    step: int
    reason: str


@dataclass(frozen=True)
class DeviceCodesIssued(Event):
    """The kiosk got a device code and a user code (RFC 8628 §3.2)."""

    client_id: str
    verification_uri: str


@dataclass(frozen=True)
class DevicePolled(Event):
    """The kiosk polled the token endpoint (RFC 8628 §3.4); `answer` is "tokens" or the error."""

    client_id: str
    answer: str


@dataclass(frozen=True)
class PausePoint:
    """A place between protocol steps where step-through may hold the flow."""


@dataclass(frozen=True)
class BeforeRedirect(PausePoint):
    """Step 1: about to send the browser to `url`."""

    url: str


@dataclass(frozen=True)
class BeforeExchange(PausePoint):
    """Steps 4–5: the callback (the current request) is about to be redeemed."""


# The field a paused form carries when it is posted again by step-through's "Send".
CONFIRMED_FIELD = "step_confirmed"


@dataclass(frozen=True)
class BeforeRevocation(PausePoint):
    """ "Disconnect": about to revoke these tokens at the endpoint `endpoint()` names."""

    tokens: tuple[tuple[str, str], ...]  # (token_type_hint, token)
    endpoint: Callable[[], Awaitable[str]]  # asked only when the pause happens
    confirmed: str  # the form's CONFIRMED_FIELD, as posted


E = TypeVar("E", bound=Event)
Listener = Callable[[E], Awaitable[None]]
Pause = Callable[[Request, PausePoint], Awaitable[Response | None]]
# Given this browser's binding: True when the lab switched the defence off for this one run.
DefenceSwitch = Callable[[str | None], Awaitable[bool]]


class Events:
    """The app's listeners, its step-through pause and its lab switches; empty until wired."""

    def __init__(self) -> None:
        self._listeners: defaultdict[type[Event], list[Listener[Any]]] = defaultdict(list)
        self._pause: Pause | None = None
        self._switches: dict[str, DefenceSwitch] = {}

    def listen(self, kind: type[E], listener: Listener[E]) -> None:
        """Call `listener` with every announced event of this kind."""
        self._listeners[kind].append(listener)

    async def announce(self, event: Event) -> None:
        """Tell every listener; a listener that fails is logged and never breaks the flow."""
        for listener in self._listeners.get(type(event), ()):
            try:
                await listener(event)
            except Exception:
                log.warning("a listener of %s failed", type(event).__name__, exc_info=True)

    def pause_with(self, pause: Pause) -> None:
        """Register the step-through hook (one per app)."""
        self._pause = pause

    async def pause(self, request: Request, point: PausePoint) -> Response | None:
        """The page to show instead of going on, or None to go on."""
        return await self._pause(request, point) if self._pause else None

    def switch(self, defence: str, switch: DefenceSwitch) -> None:
        """Register the lab's switch for one named defence."""
        self._switches[defence] = switch

    async def switched_off(self, defence: str, *, browser_binding: str | None) -> bool:
        """Whether the named defence is off for this one run (only a registered lab switch
        can say so)."""
        switch = self._switches.get(defence)
        return switch is not None and await switch(browser_binding)


def get_events(request: Request) -> Events:
    return request.app.state.events  # type: ignore[no-any-return]


EventsDep = Annotated[Events, Depends(get_events)]
