"""Sign-in throttling: growing delays after wrong passwords (checklist item 34, OWASP ASVS V6.3).

Failures are counted in the database, so every worker and replica sees the same ones, by the
typed username and by the client's address:

- one username from one address: 5 failures within 15 minutes are free; after that each try
  waits 2^(n-5) seconds after the last failure (1 s, 2 s, 4 s, … at most 5 minutes);
- one address, whatever usernames it tries (password spraying): the same, after 20 failures;
- one username, from anywhere: at most 100 failures an hour (ASVS).

The check runs before the password is looked at, and an unknown username is counted exactly like
a known one: a "wait" answer tells neither whether the password was right nor whether the
account exists. A stranger at one address only slows their own tries at John's account (John
signs in from his own address); locking him out for the hour takes a hundred failures from
several addresses. A successful sign-in forgets that address's failures for that username.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from mockgram.models import FailedSignIn
from shared.clock import as_utc, utcnow
from shared.hashing import hash_secret

WINDOW = timedelta(minutes=15)
FREE_PER_USERNAME_AND_ADDRESS = 5
FREE_PER_ADDRESS = 20
MAX_DELAY_SECONDS = 300
ACCOUNT_WINDOW = timedelta(hours=1)
MAX_PER_ACCOUNT_AN_HOUR = 100


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


def record_failure(
    db: Session, *, username: str, address: str, now: datetime | None = None
) -> None:
    """Count one failed sign-in, and drop the failures too old to matter."""
    now = now or utcnow()
    db.exec(delete(FailedSignIn).where(col(FailedSignIn.at) < now - ACCOUNT_WINDOW))  # type: ignore[call-overload]
    db.add(FailedSignIn(username_hash=_key(username), address_hash=_key(address), at=now))
    db.commit()


def forget_failures(db: Session, *, username: str, address: str) -> None:
    """A successful sign-in: this address's failures for this username no longer count."""
    db.exec(
        delete(FailedSignIn).where(  # type: ignore[call-overload]
            col(FailedSignIn.username_hash) == _key(username),
            col(FailedSignIn.address_hash) == _key(address),
        )
    )
    db.commit()
