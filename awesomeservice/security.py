"""Password hashing (argon2id) and the small secret helpers AwesomeService needs."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Checked when the username is unknown, so a failed login takes as long either way.
_DUMMY_HASH = _hasher.hash("no such user: compare anyway")


def hash_password(password: str) -> str:
    """An argon2id hash of a person's password."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (unknown user) still spend the same time, then fail."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def hash_secret(value: str) -> str:
    """SHA-256 of a high-entropy value (the OAuth `state`): safe to store, fast to look up."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random value; 32 bytes is 256 bits."""
    return secrets.token_urlsafe(nbytes)
