"""The defences protocol code may be asked to skip, named, and the one question it asks.

Each defence below is checked at exactly one place in mockgram/oauth/, and only when it is about
to refuse: `if <the check fails> and defences.is_on(PKCE, ...)`. Normally nothing is registered
and every defence is on. In lab mode the attack lab registers a waiver (mockgram/lab.py) that
may switch one defence off for one request of one client, to show the attack succeeding.
One `Defences` object lives on each app (`app.state.defences`), and reaches protocol code as
part of its `Provider` (mockgram/deps.py).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

CLIENT_SECRET = "client_secret"
SINGLE_USE = "single_use"
PKCE = "pkce"

DEFENCES = {
    CLIENT_SECRET: "client authentication at the token endpoint (RFC 6749 §3.2.1)",
    SINGLE_USE: "single use of authorization codes (RFC 6749 §4.1.2)",
    PKCE: "the PKCE code_verifier check (RFC 7636 §4.6)",
}

# (session, defence, client_id) → True to let this one request through without the defence.
Waiver = Callable[[Session, str, str], bool]


class Defences:
    """Whether each named defence holds for a request; waivers are registered per app."""

    def __init__(self) -> None:
        self._waivers: list[Waiver] = []

    def allow_waiver(self, waiver: Waiver) -> None:
        """Register a hook that may switch a defence off (only the lab, only in lab mode)."""
        self._waivers.append(waiver)

    def is_on(self, defence: str, *, session: Session, client_id: str) -> bool:
        """True unless a waiver switches `defence` off for this request of this client."""
        if defence not in DEFENCES:
            raise ValueError(f"Unknown defence: {defence}")
        return not any(waiver(session, defence, client_id) for waiver in self._waivers)
