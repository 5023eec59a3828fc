"""AwesomeService's sign-in throttle (SECURITY.md A6): shared/login_throttle.py on its tables."""

from __future__ import annotations

from awesomeservice.models import FailedSignIn, TrustedSignInAddress
from shared.login_throttle import LoginThrottle

throttle = LoginThrottle(FailedSignIn, TrustedSignInAddress)
