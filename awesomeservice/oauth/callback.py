"""Step 4 — the authorization response, checked before any code is redeemed (RFC 6749 §4.1.2).

In this order: `state` first (SECURITY.md C1; RFC 6749 §10.12, RFC 9700 §4.7) — only an
answer to a request this browser started is believed, error answers included — then `iss`
(C3; RFC 9207 §2.4), then the error answer (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6) or the code.

The state is looked at (`receive`) before anything else happens to the answer — before the
inspector records it or step-through holds it — and used up (`accept`) only when the code is
about to be redeemed, so an answer held by step-through can still go on. Refusals carry a
reason code; what John reads is the page's (awesomeservice/pages/wording.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from sqlmodel import Session, col

from awesomeservice.events import CallbackReceived, Events, RequestRefused
from awesomeservice.models import PendingAuthorization, PendingLogin
from awesomeservice.oauth.discovery import ProviderMetadata
from awesomeservice.oauth.refused import Refused
from shared.clock import as_utc, utcnow
from shared.db import Database, stamp_unset
from shared.hashing import constant_equals, hash_secret

STATE_RFC = "RFC 6749 §10.12; RFC 9700 §4.7"
Pending = TypeVar("Pending", PendingAuthorization, PendingLogin)


class CallbackRefused(Refused):
    """The answer cannot be trusted; for iss_mismatch, `detail` is the iss it claimed."""


@dataclass(frozen=True)
class Binding:
    """Whose answer this may be: the browser session and the account that started the flow."""

    browser_binding: str | None
    user_id: int | None


def find_pending(
    session: Session, model: type[Pending], state: str | None, binding: Binding
) -> Pending:
    """C1, looked at: the unexpired, unused request of this browser that `state` names."""
    # RFC 6749 §4.1.2: the state must come back exactly as sent.
    if not state:
        raise CallbackRefused("state_missing", STATE_RFC)
    pending = session.get(model, hash_secret(state))
    if pending is None:
        raise CallbackRefused("state_unknown", STATE_RFC)
    # RFC 9700 §4.7.1: the state is bound to the browser session that started the flow
    # (and to the same account: the signed-in user, or nobody for a login).
    if (
        not binding.browser_binding
        or not constant_equals(pending.browser_binding, binding.browser_binding)
        or pending.user_id != binding.user_id
    ):
        raise CallbackRefused("state_other_session", STATE_RFC)
    if pending.used_at is not None:
        raise CallbackRefused("state_used", STATE_RFC)
    if as_utc(pending.expires_at) <= utcnow():
        raise CallbackRefused("state_expired", STATE_RFC)
    return pending


def use_up_state(
    session: Session, model: type[Pending], state: str | None, binding: Binding
) -> Pending:
    """C1, used: the request `state` names, checked again and marked used, once."""
    pending = find_pending(session, model, state, binding)
    # Single use even under a race: only one UPDATE can see used_at still empty.
    claimed = stamp_unset(
        session, col(model.used_at), col(model.state_hash) == pending.state_hash, at=utcnow()
    )
    session.commit()
    if claimed != 1:
        raise CallbackRefused("state_used", STATE_RFC)  # another request won the race
    session.refresh(pending)
    return pending


def check_issuer(iss: str | None, expected: str, *, required: bool = True) -> None:
    """RFC 9207 §2.4: the `iss` of the answer must equal the provider's issuer, exactly."""
    if not iss and not required:
        return  # RFC 9207 §2.4: a provider that does not advertise iss may omit it.
    if not iss:
        # The provider advertises authorization_response_iss_parameter_supported: iss required.
        raise CallbackRefused("iss_missing", "RFC 9207 §2.4")
    # RFC 9207 §2.4: simple string comparison, no normalisation.
    if not constant_equals(iss, expected):
        raise CallbackRefused("iss_mismatch", "RFC 9207 §2.4; RFC 9700 §4.4", iss[:200])


@dataclass(frozen=True)
class ErrorAnswer:
    """The provider answered with an error instead of a code (RFC 6749 §4.1.2.1)."""

    error: str
    description: str
    uri: str  # the provider's page about it, as sent (not yet checked)


def error_answer(params: Mapping[str, str]) -> ErrorAnswer | None:
    """The answer's error, if it is one (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6)."""
    error = params.get("error")
    if not error:
        return None
    return ErrorAnswer(
        error[:64], (params.get("error_description") or "")[:200], params.get("error_uri") or ""
    )


def code_of(params: Mapping[str, str]) -> str:
    """RFC 6749 §4.1.2, OIDC Core §3.1.2.5: a successful answer carries a code."""
    code = params.get("code")
    if not code:
        raise CallbackRefused("code_missing", "RFC 6749 §4.1.2; OIDC Core §3.1.2.5")
    return code


async def _refused(events: Events, refused: CallbackRefused) -> CallbackRefused:
    await events.announce(RequestRefused(step=4, reason=refused.reason))
    return refused


async def receive(
    database: Database,
    events: Events,
    model: type[Pending],
    *,
    url: str,
    params: Mapping[str, str],
    binding: Binding,
) -> None:
    """The answer arrived: C1 looked at first, then announced (nothing is used up yet)."""
    try:
        await database.run(find_pending, model, params.get("state"), binding)
    except CallbackRefused as refused:
        raise await _refused(events, refused) from None
    await events.announce(CallbackReceived(url))


async def accept(
    database: Database,
    events: Events,
    model: type[Pending],
    *,
    params: Mapping[str, str],
    binding: Binding,
    metadata: ProviderMetadata,
) -> Pending:
    """C1 then C3: the state used up, then the issuer checked — error answers included, and
    before any redemption; returns the pending request the answer belongs to."""
    try:
        pending = await database.run(use_up_state, model, params.get("state"), binding)
        # ── Lab hook point: the attack lab may switch the iss check off for one run ──
        if not await events.switched_off("iss", browser_binding=binding.browser_binding):
            check_issuer(
                params.get("iss"),
                metadata.issuer,
                # RFC 9207 §2.4: iss required when the provider advertises it.
                required=metadata.authorization_response_iss_parameter_supported,
            )
    except CallbackRefused as refused:
        raise await _refused(events, refused) from None
    return pending
