"""Mockgram's sign-in throttle (SECURITY.md item 34): shared/login_throttle.py on its own tables."""

from __future__ import annotations

from mockgram.models import FailedSignIn, TrustedSignInAddress
from shared.login_throttle import (
    FREE_PER_ADDRESS,
    FREE_PER_USERNAME_AND_ADDRESS,
    MAX_DELAY_SECONDS,
    MAX_PER_ACCOUNT_AN_HOUR,
    LoginThrottle,
)

throttle = LoginThrottle(FailedSignIn, TrustedSignInAddress)
wait_seconds = throttle.wait_seconds
record_failure = throttle.record_failure
signed_in = throttle.signed_in

__all__ = [
    "FREE_PER_ADDRESS",
    "FREE_PER_USERNAME_AND_ADDRESS",
    "MAX_DELAY_SECONDS",
    "MAX_PER_ACCOUNT_AN_HOUR",
    "record_failure",
    "signed_in",
    "wait_seconds",
]
