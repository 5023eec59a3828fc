"""What both sides compute the same way because the specifications say so, once.

Nothing app-specific lives here: each function is a rule of an RFC or of OpenID Connect, used
by Mockgram (which issues) and AwesomeService (which checks) alike.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from shared.response_types import RESPONSE_TYPES

# RFC 8414 §3 and OpenID Connect Discovery §4: where a provider publishes its metadata.
OIDC_DISCOVERY_PATH = "/.well-known/openid-configuration"
OAUTH_METADATA_PATH = "/.well-known/oauth-authorization-server"
# Mockgram's key set; other providers name theirs in metadata (`jwks_uri`).
JWKS_PATH = "/.well-known/jwks.json"


def new_state() -> str:
    """An unguessable `state` (RFC 6749 §10.12) or `nonce` (OIDC Core §15.5.2): 256 bits."""
    return secrets.token_urlsafe(32)


def left_half_hash(value: str, alg: str) -> str | None:
    """at_hash / c_hash: base64url of the left half of the hash the JWS `alg` uses (OIDC Core
    §3.3.2.11, §3.1.3.6); None for an alg with no such hash (`none`, or one not known here)."""
    if alg == "EdDSA":
        digest = hashlib.sha512(value.encode("ascii")).digest()  # Ed25519 hashes with SHA-512
    elif alg[-3:] in ("256", "384", "512") and alg[:2] in ("RS", "PS", "ES", "HS"):
        digest = hashlib.new(f"sha{alg[-3:]}", value.encode("ascii")).digest()
    else:
        return None
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


def canonical_response_type(value: str | frozenset[str]) -> str:
    """The response_type with its words in canonical order ("id_token code" → "code id_token"),
    or "" when the words make none the specifications define (Multiple Response Types §5)."""
    words = frozenset(value.split()) if isinstance(value, str) else value
    return next((known for known in RESPONSE_TYPES if frozenset(known.split()) == words), "")
