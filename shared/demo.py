"""Demo mode, and the secrets an app makes for itself outside it.

Demo mode (MOCKGRAM_DEMO=true, AWESOMESERVICE_DEMO=true; scripts/demo.py and docker-compose.yml
set it) uses the demo passwords and secrets README publishes, and shows them on pages. Outside it
a published value opens nothing: a setting equal to one is refused at start, and each secret left
unset is generated on first start, kept in the app's database and printed once (RFC 9700 §2.5:
client secrets must not be guessable; a published one is).
"""

from __future__ import annotations

import secrets
import sys
from typing import Any

# The values README publishes. Nowhere but in demo mode may one of them open anything.
MOCKGRAM_PASSWORD = "mockgram-demo"
AWESOMESERVICE_PASSWORD = "awesome-demo"
CLIENT_SECRET = "awesomeservice-demo-secret"
DEBUGGER_CLIENT_SECRET = "oauth-debugger-demo-secret"
PUBLISHED = frozenset(
    {MOCKGRAM_PASSWORD, AWESOMESERVICE_PASSWORD, CLIENT_SECRET, DEBUGGER_CLIENT_SECRET}
)


def apply_demo_mode(settings: Any, prefix: str, demo_values: dict[str, tuple[str, str]]) -> None:
    """Fill unset secrets with their demo values in demo mode; outside it refuse published ones.

    `demo_values` maps a field to (its environment variable, its demo value). Called from a
    settings class's after-validator; a ValueError becomes the one message the app starts with.
    """
    if settings.lab_mode and not settings.demo:
        raise ValueError(
            f"Lab mode switches defences off and is for the demo only: set {prefix}DEMO=true "
            f"as well, or unset {prefix}LAB_MODE."
        )
    for field, (variable, demo_value) in demo_values.items():
        value = getattr(settings, field)
        if settings.demo and not value:
            setattr(settings, field, demo_value)
        elif not settings.demo and value in PUBLISHED:
            raise ValueError(
                f"{variable} is set to a demo secret published in README, and {prefix}DEMO is "
                "not on. Choose another value, or leave it unset (README: Outside demo mode)."
            )


def new_password() -> str:
    """A password for a seeded account outside demo mode (96 random bits)."""
    return secrets.token_urlsafe(12)


def announce(app: str, lines: list[str]) -> None:
    """Print what was generated at this start, once, where the person starting the app looks."""
    if not lines:
        return
    rule = "─" * 78
    text = "\n".join(
        [
            rule,
            f"{app} generated these (demo mode is off); they are shown only now.",
            *lines,
            rule,
        ]
    )
    print(text, file=sys.stderr, flush=True)
