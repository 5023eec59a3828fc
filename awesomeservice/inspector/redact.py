"""Hide secrets before anything is stored or shown: the inspector records, it never leaks.

Client secrets and passwords are replaced whole; codes, verifiers and refresh tokens keep their
first four characters (enough to tell two apart); access and id tokens keep a short prefix and
are shown decoded instead (their claims are the interesting part, not the bearer string).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_plus, urlsplit, urlunsplit

HIDDEN = "****"
# Replaced completely: knowing even a prefix of these helps nobody reading the flow.
SECRET_FIELDS = frozenset({"client_secret", "password", "client_assertion"})
# Kept as a four-character prefix: one-time values and long-lived tokens.
PARTIAL_FIELDS = frozenset({"code", "code_verifier", "refresh_token", "token"})
# JWTs: a short prefix of the raw string; the inspector shows them decoded next to it.
TOKEN_FIELDS = frozenset({"access_token", "id_token"})
SAFE_HEADERS = frozenset(
    {
        "accept",
        "content-type",
        "content-length",
        "cache-control",
        "pragma",
        "www-authenticate",
        "location",
        "authorization",
    }
)


def partial(value: str) -> str:
    """The first four characters and an ellipsis, with the length: `abcd… (43 chars)`."""
    if not value:
        return ""
    return f"{value[:4]}… ({len(value)} chars)"


def truncated_token(value: str) -> str:
    """A JWT's first 12 characters: enough to recognise, useless to replay."""
    return f"{value[:12]}… ({len(value)} chars, shown decoded)" if value else ""


def redact_value(name: str, value: str) -> str:
    """One named value, hidden according to what it is."""
    lowered = name.lower()
    if lowered in SECRET_FIELDS:
        return HIDDEN
    if lowered in PARTIAL_FIELDS:
        return partial(value)
    if lowered in TOKEN_FIELDS:
        return truncated_token(value)
    return value


def redact_pairs(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Form or query parameters with their secrets hidden."""
    return [(name, redact_value(name, value)) for name, value in pairs]


def redact_url(url: str) -> str:
    """A URL whose query parameters are redacted (codes in callbacks, tokens in queries)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    shown = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        hidden = redact_value(name, value)
        # A redacted value is shown as is (it is not sent anywhere); the rest stays encoded.
        shown.append(f"{quote(name)}={hidden if hidden != value else quote(value, safe='')}")
    return urlunsplit(parts._replace(query="&".join(shown)))


def redact_authorization(header: str) -> str:
    """RFC 6749 §2.3.1 Basic → the client id decoded, the secret hidden; Bearer → a prefix."""
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return f"Basic {HIDDEN} (not valid Base64)"
        client_id, _, _ = decoded.partition(":")
        return f"Basic {HIDDEN}  (client_id “{unquote_plus(client_id)}”, secret hidden)"
    if scheme.lower() in ("bearer", "dpop"):  # RFC 9449 §7.1: DPoP-bound tokens, the same way
        return f"{scheme} {truncated_token(credentials.strip())}"
    return f"{scheme} {HIDDEN}"


def redact_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Only headers worth reading, with Authorization redacted; cookies are never kept."""
    kept: list[tuple[str, str]] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered not in SAFE_HEADERS:
            continue
        kept.append((lowered, redact_authorization(value) if lowered == "authorization" else value))
    return kept


def redact_json(value: Any) -> Any:
    """A JSON document with token and secret members redacted, at any depth."""
    if isinstance(value, dict):
        return {
            key: redact_value(key, item) if isinstance(item, str) else redact_json(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_json(item) for item in value]
    return value
