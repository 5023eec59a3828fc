"""The response_type values the specifications define, for both apps (no app imports the other).

OIDC Core §3 and OAuth 2.0 Multiple Response Type Encoding Practices §5, in canonical order:
what Mockgram supports, and what the AwesomeService debugger offers to compose.
"""

from __future__ import annotations

RESPONSE_TYPES: tuple[str, ...] = (
    "code",
    "token",
    "id_token",
    "id_token token",
    "code id_token",
    "code token",
    "code id_token token",
)
