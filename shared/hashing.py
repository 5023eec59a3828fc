"""Hashing and randomness both apps use: argon2id for passwords, SHA-256 for random secrets."""

from __future__ import annotations

import ctypes
import hashlib
import secrets
import sys
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2id with OWASP's recommended minimum (Password Storage Cheat Sheet: 19 MiB, two passes,
# one lane): about 20 ms a sign-in on one core, where argon2-cffi's default profile (64 MiB, three
# passes, four lanes) took about 300 ms and 64 MiB per sign-in in flight. Hashes keep their
# parameters, so passwords stored with the old profile still verify.
# Replaceable: the test suite swaps in a cheaper argon2 profile (tests/conftest.py).
hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def _return_large_blocks_to_the_system() -> None:
    """Have glibc hand every block of 128 KiB or more straight back to the system when freed.

    Each argon2 hash mallocs its 19 MiB in whichever worker thread runs it. By default glibc
    raises its mmap threshold after the first such block is freed, so later ones come from the
    threads' own heaps and stay there: measured, 16 threads signing people in held 330 MB for
    good; with the threshold fixed, the peak is under 100 MB and the memory goes back at once.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None)
        m_mmap_threshold = -3  # malloc.h
        libc.mallopt(m_mmap_threshold, 128 * 1024)
    except (OSError, AttributeError):  # not glibc (musl has no mallopt): nothing to tune
        pass


_return_large_blocks_to_the_system()
# Hashing is CPU and memory: more at once than there are cores only queues inside the hash
# itself, and each one in flight holds its memory. A burst of sign-ins waits here instead.
_hashing_slots = threading.BoundedSemaphore(4)
# Checked when the username is unknown, so a failed login takes as long either way.
_DUMMY_PASSWORD = "no such user: compare anyway"  # noqa: S105
_dummy_hashes: dict[int, str] = {}


def hash_password(password: str) -> str:
    """An argon2id hash of a person's password."""
    with _hashing_slots:
        return hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (unknown user) spend the same time anyway, then fail."""
    stored = password_hash or _dummy_hash()
    try:
        with _hashing_slots:
            return hasher.verify(stored, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def _dummy_hash() -> str:
    key = id(hasher)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hash_password(_DUMMY_PASSWORD)
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
