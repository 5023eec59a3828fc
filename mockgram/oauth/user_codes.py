"""User codes for the device flow — what John types on his phone (RFC 8628 §6.1).

Eight characters from twenty consonants, BCDFGHJKLMNPQRSTVWXZ: no vowels (no words spelled by
accident), no digits and no look-alikes (0/O, 1/I/L are not both there). Shown as XXXX-XXXX;
typed in any case, with or without the dash or spaces. 20^8 ≈ 2.6·10^10 codes (34.6 bits):
with the per-address limit on entries (mockgram/rate_limits.py, SECURITY.md) and a code's ten
minutes of life, guessing one that is waiting is hopeless.
"""

from __future__ import annotations

import secrets

ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
LENGTH = 8
# RFC 8628 §6.1: characters a person may add while typing are ignored, not refused.
_IGNORED = str.maketrans("", "", "- \t")


def new_user_code() -> str:
    """A fresh code, without its dash (as stored and compared)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize(typed: str) -> str | None:
    """The code John typed, upper-case, dashes and spaces dropped; None when it cannot be one."""
    code = typed.translate(_IGNORED).upper()
    if len(code) != LENGTH or any(char not in ALPHABET for char in code):
        return None
    return code


def shown(code: str) -> str:
    """The code as people read it: XXXX-XXXX (§6.1: easier to read and to type)."""
    half = LENGTH // 2
    return f"{code[:half]}-{code[half:]}"
