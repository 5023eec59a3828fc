"""Sign-in throttling: growing delays after wrong passwords (SECURITY.md 34, A6; OWASP ASVS V6.3).

Both apps' password forms use it, each on its own two tables (`FailedSignInFields`,
`TrustedSignInAddressFields`). Failures are counted in the database, so every worker and replica
sees the same ones, by the typed username and by the client's address (the peer's, or
X-Forwarded-For from a trusted proxy only: shared/proxies.py):

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
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from shared.clock import as_utc, utcnow
from shared.hashing import hash_secret

WINDOW = timedelta(minutes=15)
FREE_PER_USERNAME_AND_ADDRESS = 5
FREE_PER_ADDRESS = 20
MAX_DELAY_SECONDS = 300
ACCOUNT_WINDOW = timedelta(hours=1)
MAX_PER_ACCOUNT_AN_HOUR = 100
TRUSTED_FOR = timedelta(days=30)


class FailedSignInFields(SQLModel):
    """One wrong password (or unknown username); each app declares its own table with these.

    The typed username and the client address are kept only as hashes: what someone typed into
    the username field (a password, by mistake) is never stored. Rows older than an hour go.
    """

    id: int | None = Field(default=None, primary_key=True)
    username_hash: str = Field(max_length=64, index=True)
    address_hash: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, index=True)


class TrustedSignInAddressFields(SQLModel):
    """An address a person signed in from with the right password (hashed, like the failures).

    The hourly cap on an account's failures does not shut out such an address: a stranger
    hammering John's account from elsewhere cannot lock John out of his own. Each app's table
    adds a unique constraint on (username_hash, address_hash).
    """

    id: int | None = Field(default=None, primary_key=True)
    username_hash: str = Field(max_length=64, index=True)
    address_hash: str = Field(max_length=64)
    last_success_at: datetime = Field(default_factory=utcnow)


def too_many_attempts(wait: int) -> str:
    """The sign-in form's message while a wait is on (answered 429 with Retry-After)."""
    return (
        f"Too many sign-in attempts. Wait {wait} second{'' if wait == 1 else 's'}, then try again."
    )


def _key(value: str) -> str:
    return hash_secret(value.strip().lower()[:200])


def _delay_after(failures: int, free: int) -> int:
    """Seconds to wait after the last failure, once `free` failures have been used up."""
    if failures < free:
        return 0
    return min(2 ** (failures - free), MAX_DELAY_SECONDS)


class LoginThrottle:
    """The throttle on one app's two tables (its FailedSignIn and TrustedSignInAddress)."""

    def __init__(
        self, failed: type[FailedSignInFields], trusted: type[TrustedSignInAddressFields]
    ) -> None:
        self.failed: Any = failed
        self.trusted: Any = trusted

    def _count_and_last(self, db: Session, *conditions: object) -> tuple[int, datetime | None]:
        count, last = db.exec(
            select(func.count(), func.max(self.failed.at)).where(*conditions)  # type: ignore[call-overload]
        ).one()
        return int(count), as_utc(last) if last is not None else None

    def wait_seconds(
        self, db: Session, *, username: str, address: str, now: datetime | None = None
    ) -> int:
        """How long this username from this address must wait before its next try; 0: go ahead."""
        now = now or utcnow()
        user_key, address_key = _key(username), _key(address)
        recent = col(self.failed.at) > now - WINDOW
        waits = [0]
        for conditions, free in (
            (
                (
                    col(self.failed.username_hash) == user_key,
                    col(self.failed.address_hash) == address_key,
                    recent,
                ),
                FREE_PER_USERNAME_AND_ADDRESS,
            ),
            ((col(self.failed.address_hash) == address_key, recent), FREE_PER_ADDRESS),
        ):
            failures, last = self._count_and_last(db, *conditions)
            if last is not None:
                ready = last + timedelta(seconds=_delay_after(failures, free))
                waits.append(int((ready - now).total_seconds() + 0.999))
        if self._trusted(db, user_key, address_key, now):
            return max(0, *waits)  # John's own address: the account-wide cap is not for him
        # ASVS: at most 100 failed attempts an hour per account, wherever they come from.
        hour = db.exec(
            select(self.failed.at)
            .where(
                col(self.failed.username_hash) == user_key,
                col(self.failed.at) > now - ACCOUNT_WINDOW,
            )
            .order_by(col(self.failed.at).desc())
            .offset(MAX_PER_ACCOUNT_AN_HOUR - 1)
            .limit(1)
        ).first()
        if hour is not None:
            # The 100th most recent failure leaves the hour's window: then one more try is allowed.
            waits.append(int((as_utc(hour) + ACCOUNT_WINDOW - now).total_seconds() + 0.999))
        return max(0, *waits)

    def _trusted(self, db: Session, user_key: str, address_key: str, now: datetime) -> bool:
        seen = db.exec(
            select(self.trusted.last_success_at).where(
                col(self.trusted.username_hash) == user_key,
                col(self.trusted.address_hash) == address_key,
            )
        ).first()
        return seen is not None and as_utc(seen) > now - TRUSTED_FOR

    def record_failure(
        self, db: Session, *, username: str, address: str, now: datetime | None = None
    ) -> None:
        """Count one failed sign-in, and drop the failures too old to matter."""
        now = now or utcnow()
        db.exec(delete(self.failed).where(col(self.failed.at) < now - ACCOUNT_WINDOW))  # type: ignore[call-overload]
        db.add(self.failed(username_hash=_key(username), address_hash=_key(address), at=now))
        db.commit()

    def signed_in(self, db: Session, *, username: str, address: str) -> None:
        """A successful sign-in: forget this address's failures for the username; trust it."""
        user_key, address_key = _key(username), _key(address)
        db.exec(
            delete(self.failed).where(  # type: ignore[call-overload]
                col(self.failed.username_hash) == user_key,
                col(self.failed.address_hash) == address_key,
            )
        )
        db.commit()
        # One row per (username, address): update it, or insert it (a racing sign-in may win).
        touched = db.exec(
            update(self.trusted)  # type: ignore[call-overload]
            .where(
                col(self.trusted.username_hash) == user_key,
                col(self.trusted.address_hash) == address_key,
            )
            .values(last_success_at=utcnow())
        ).rowcount
        if not touched:
            db.add(self.trusted(username_hash=user_key, address_hash=address_key))
            try:
                db.commit()
            except IntegrityError:
                db.rollback()  # the other sign-in stored it: the same fact
        else:
            db.commit()
