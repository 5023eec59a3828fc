"""'You decide': at the paused callback, the reader compares the `state` that came back with the
one AwesomeService sent, and chooses "it matches, continue" or "it's wrong, stop".

The reader's choice is a lesson, never a bypass: whatever is chosen, the callback that goes on
meets AwesomeService's own check (awesomeservice/oauth/callback.py, RFC 6749 §10.12), which
refuses a state it did not send. A "matches" on a forged state shows, as a simulation, what the
attacker would have gained (login CSRF), then lets the real app refuse it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from shared.hashing import new_token

MATCHES, WRONG, FORGE = "matches", "wrong", "forge"


@dataclass(frozen=True)
class Verdict:
    """What the reader's choice meant."""

    kind: str  # "go", "stopped_rightly", "false_alarm" or "fooled"
    title: str


# (the reader said it matches, it really matches) → what happens
VERDICTS: dict[tuple[bool, bool], Verdict] = {
    (True, True): Verdict("go", "It matches: the code is traded"),
    (False, False): Verdict("stopped_rightly", "Right: that answer was forged, and you stopped it"),
    (False, True): Verdict("false_alarm", "Look again: they are the same"),
    (True, False): Verdict("fooled", "That answer was forged — and you let it in"),
}


def judge(decision: str, sent: str, came_back: str) -> Verdict:
    """The reader's choice against the truth (compared in constant time, as the app does)."""
    really = bool(sent) and secrets.compare_digest(sent.encode(), came_back.encode())
    return VERDICTS[(decision == MATCHES, really)]


def forged_state() -> str:
    """A state from the attacker's own session: well-formed, and never sent by John's browser."""
    return new_token(24)
