"""PKCE helpers (RFC 7636): the verifier, the S256 challenge, and the shape rules."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

from shared.hashing import constant_equals

# RFC 7636 §4.1: 43–128 characters from the unreserved set.
_VERIFIER_OR_CHALLENGE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def make_verifier() -> str:
    """A fresh high-entropy code_verifier (RFC 7636 §4.1): 32 random bytes, 43 characters."""
    return secrets.token_urlsafe(32)


def s256_challenge(verifier: str) -> str:
    """code_challenge = BASE64URL(SHA256(ASCII(code_verifier))) (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def is_well_formed(value: str) -> bool:
    """True when `value` has the shape of a verifier or challenge (RFC 7636 §4.1, §4.2)."""
    return bool(_VERIFIER_OR_CHALLENGE.match(value))


def verify_s256(verifier: str, challenge: str) -> bool:
    """Compare the verifier's S256 transform with the stored challenge in constant time (§4.6)."""
    if not is_well_formed(verifier):
        return False
    return constant_equals(s256_challenge(verifier), challenge)
