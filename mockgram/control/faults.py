"""One-shot faults a test queues through the control plane, and the one question code asks.

Four kinds, each fired by the next matching request and then used up:

- `token_error`: the token endpoint answers the queued OAuth error (RFC 6749 §5.2)
  (asked in mockgram/oauth/token.py);
- `refuse_code`: the next code redeemed is refused with `invalid_grant`, and stays spent
  (mockgram/oauth/token.py);
- `unpublished_key`: the next id_token is signed with a key the JWKS does not publish
  (mockgram/oauth/id_tokens.py);
- `slow`: the next JWKS or token answer waits `delay_ms` first, never blocking the event loop
  (mockgram/control/middleware.py).

Protocol code asks `provider.faults` at one marked point per kind. Normally (control plane
off) no source is registered and the answer is "no fault" without a database trip; with the
control plane on, `install` registers `take_queued`, which claims the oldest queued fault of
that kind with an atomic UPDATE, so of several workers exactly one fires it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session, col, select

from mockgram.control.models import QueuedFault
from mockgram.oauth.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuthError,
    ServerError,
    TemporarilyUnavailableError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
)
from shared.db import stamp_unset

TOKEN_ERROR = "token_error"
REFUSE_CODE = "refuse_code"
UNPUBLISHED_KEY = "unpublished_key"
SLOW = "slow"
KINDS = (TOKEN_ERROR, REFUSE_CODE, UNPUBLISHED_KEY, SLOW)
SLOW_ENDPOINTS = ("jwks", "token")
MAX_DELAY_MS = 60_000  # a minute: longer than any client's timeout should be

# The errors a token endpoint may answer (RFC 6749 §5.2), and the two a server may fail with.
TOKEN_ERRORS: dict[str, type[OAuthError]] = {
    cls.error: cls
    for cls in (
        InvalidRequestError,
        InvalidClientError,
        InvalidGrantError,
        UnauthorizedClientError,
        UnsupportedGrantTypeError,
        InvalidScopeError,
        ServerError,
        TemporarilyUnavailableError,
    )
}

# (session, kind, endpoint) → the claimed fault, or None.
Source = Callable[[Session, str, str | None], QueuedFault | None]


class Faults:
    """Whether a queued fault applies to this request; a source is registered per app."""

    def __init__(self) -> None:
        self._source: Source | None = None

    def use(self, source: Source) -> None:
        """Register where queued faults come from (only the control plane, only when on)."""
        self._source = source

    def take(self, session: Session, kind: str, endpoint: str | None = None) -> QueuedFault | None:
        """Claim the oldest queued fault of `kind` (the caller commits), or None."""
        if self._source is None:
            return None
        return self._source(session, kind, endpoint)

    def token_error(self, session: Session) -> OAuthError | None:
        """The queued token error as the exception to answer with (its use is committed)."""
        fault = self.take(session, TOKEN_ERROR)
        if fault is None:
            return None
        session.commit()  # the refused request rolls back; the fault must stay used
        error_class = TOKEN_ERRORS.get(fault.error or "", InvalidRequestError)
        # RFC 6749 §5.2: invalid_client comes with the challenge for the scheme used.
        headers = {"WWW-Authenticate": 'Basic realm="mockgram"'}
        headers = headers if error_class is InvalidClientError else None
        return error_class(fault.error_description or "", headers=headers)


def take_queued(session: Session, kind: str, endpoint: str | None = None) -> QueuedFault | None:
    """Claim the oldest unused fault of `kind` (and `endpoint`): exactly one caller wins it."""
    for _ in range(5):  # another worker may claim the one we saw; then look again
        statement = select(QueuedFault).where(
            col(QueuedFault.kind) == kind, col(QueuedFault.used_at).is_(None)
        )
        if endpoint is not None:
            statement = statement.where(col(QueuedFault.endpoint) == endpoint)
        fault = session.exec(statement.order_by(col(QueuedFault.id))).first()
        if fault is None:
            return None
        if stamp_unset(session, col(QueuedFault.used_at), col(QueuedFault.id) == fault.id) == 1:
            return fault
    return None
