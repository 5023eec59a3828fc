"""Hashing and randomness both apps use: argon2id for passwords, SHA-256 for random secrets."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Replaceable: the test suite swaps in a cheaper argon2 profile (tests/conftest.py).
hasher = PasswordHasher()
# Checked when the username is unknown, so a failed login takes as long either way.
_DUMMY_PASSWORD = "no such user: compare anyway"  # noqa: S105
_dummy_hashes: dict[int, str] = {}


def hash_password(password: str) -> str:
    """An argon2id hash of a person's password."""
    return hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (unknown user) spend the same time anyway, then fail."""
    try:
        return hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def _dummy_hash() -> str:
    key = id(hasher)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash(_DUMMY_PASSWORD)
    return _dummy_hashes[key]


def hash_secret(value: str) -> str:
    """SHA-256 of a random secret (client secret, code, state): safe to store, fast to check."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def constant_equals(expected: str, presented: str) -> bool:
    """Compare two strings in constant time; any text, not only ASCII, is a plain mismatch."""
    # secrets.compare_digest raises TypeError on non-ASCII str: compare the UTF-8 bytes.
    return secrets.compare_digest(expected.encode("utf-8"), presented.encode("utf-8"))


def secret_matches(stored_hash: str | None, presented: str) -> bool:
    """Constant-time comparison of a presented secret with its stored hash."""
    if not stored_hash:
        return False
    return constant_equals(stored_hash, hash_secret(presented))


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random value; 32 bytes is 256 bits, well above RFC 6749 §10.10's 128."""
    return secrets.token_urlsafe(nbytes)
