"""Sign-in throttling: growing delays after wrong passwords (SECURITY.md item 34; OWASP ASVS V6.3).

Failures are counted in the database, so every worker and replica sees the same ones, by the
typed username and by the client's address:

- one username from one address: 5 failures within 15 minutes are free; after that each try
  waits 2^(n-5) seconds after the last failure (1 s, 2 s, 4 s, … at most 5 minutes);
- one address, whatever usernames it tries (password spraying): the same, after 20 failures;
- one username, from anywhere: at most 100 failures an hour (ASVS) — except from an address
  that signed in to it with the right password in the last 30 days.

The check runs before the password is looked at, and an unknown username is counted exactly like
a known one: a "wait" answer tells neither whether the password was right nor whether the
account exists. A stranger only slows their own tries at John's account: the per-address
delays are theirs, and the hourly cap, which a stranger with many addresses could reach, does
not apply at an address John has signed in from before. A successful sign-in forgets that
address's failures for that username and remembers the address (hashed) as John's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mockgram.models import FailedSignIn, TrustedSignInAddress
from shared.clock import as_utc, utcnow
from shared.hashing import hash_secret

WINDOW = timedelta(minutes=15)
FREE_PER_USERNAME_AND_ADDRESS = 5
FREE_PER_ADDRESS = 20
MAX_DELAY_SECONDS = 300
ACCOUNT_WINDOW = timedelta(hours=1)
MAX_PER_ACCOUNT_AN_HOUR = 100
TRUSTED_FOR = timedelta(days=30)


def _key(value: str) -> str:
    return hash_secret(value.strip().lower()[:200])


def _delay_after(failures: int, free: int) -> int:
    """Seconds to wait after the last failure, once `free` failures have been used up."""
    if failures < free:
        return 0
    return min(2 ** (failures - free), MAX_DELAY_SECONDS)


def _count_and_last(db: Session, *conditions: object) -> tuple[int, datetime | None]:
    count, last = db.exec(
        select(func.count(), func.max(FailedSignIn.at)).where(*conditions)  # type: ignore[call-overload]
    ).one()
    return int(count), as_utc(last) if last is not None else None


def wait_seconds(db: Session, *, username: str, address: str, now: datetime | None = None) -> int:
    """How long this username from this address must wait before its next try; 0: go ahead."""
    now = now or utcnow()
    user_key, address_key = _key(username), _key(address)
    recent = col(FailedSignIn.at) > now - WINDOW
    waits = [0]
    for conditions, free in (
        (
            (
                col(FailedSignIn.username_hash) == user_key,
                col(FailedSignIn.address_hash) == address_key,
                recent,
            ),
            FREE_PER_USERNAME_AND_ADDRESS,
        ),
        ((col(FailedSignIn.address_hash) == address_key, recent), FREE_PER_ADDRESS),
    ):
        failures, last = _count_and_last(db, *conditions)
        if last is not None:
            ready = last + timedelta(seconds=_delay_after(failures, free))
            waits.append(int((ready - now).total_seconds() + 0.999))
    if _trusted(db, user_key, address_key, now):
        return max(0, *waits)  # John's own address: the account-wide cap is not for him
    # ASVS: at most 100 failed attempts an hour per account, wherever they come from.
    hour = db.exec(
        select(FailedSignIn.at)
        .where(
            col(FailedSignIn.username_hash) == user_key,
            col(FailedSignIn.at) > now - ACCOUNT_WINDOW,
        )
        .order_by(col(FailedSignIn.at).desc())
        .offset(MAX_PER_ACCOUNT_AN_HOUR - 1)
        .limit(1)
    ).first()
    if hour is not None:
        # The 100th most recent failure leaves the hour's window: then one more try is allowed.
        waits.append(int((as_utc(hour) + ACCOUNT_WINDOW - now).total_seconds() + 0.999))
    return max(0, *waits)


def _trusted(db: Session, user_key: str, address_key: str, now: datetime) -> bool:
    seen = db.exec(
        select(TrustedSignInAddress.last_success_at).where(
            col(TrustedSignInAddress.username_hash) == user_key,
            col(TrustedSignInAddress.address_hash) == address_key,
        )
    ).first()
    return seen is not None and as_utc(seen) > now - TRUSTED_FOR


def record_failure(
    db: Session, *, username: str, address: str, now: datetime | None = None
) -> None:
    """Count one failed sign-in, and drop the failures too old to matter."""
    now = now or utcnow()
    db.exec(delete(FailedSignIn).where(col(FailedSignIn.at) < now - ACCOUNT_WINDOW))  # type: ignore[call-overload]
    db.add(FailedSignIn(username_hash=_key(username), address_hash=_key(address), at=now))
    db.commit()


def signed_in(db: Session, *, username: str, address: str) -> None:
    """A successful sign-in: forget this address's failures for the username; trust it."""
    user_key, address_key = _key(username), _key(address)
    db.exec(
        delete(FailedSignIn).where(  # type: ignore[call-overload]
            col(FailedSignIn.username_hash) == user_key,
            col(FailedSignIn.address_hash) == address_key,
        )
    )
    db.commit()
    # One row per (username, address): update it, or insert it (a racing sign-in may win).
    touched = db.exec(
        update(TrustedSignInAddress)  # type: ignore[call-overload]
        .where(
            col(TrustedSignInAddress.username_hash) == user_key,
            col(TrustedSignInAddress.address_hash) == address_key,
        )
        .values(last_success_at=utcnow())
    ).rowcount
    if not touched:
        db.add(TrustedSignInAddress(username_hash=user_key, address_hash=address_key))
        try:
            db.commit()
        except IntegrityError:
            db.rollback()  # the other sign-in stored it: the same fact
    else:
        db.commit()
