"""Check-up runs in the database: any worker may serve the next leg's answer, and each signed-in
person sees their own runs. The client secret is kept only while the run needs it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Field, Session, col, select

from awesomeservice.checkup.legs import LEGS, Outbound, merge
from awesomeservice.models import AwesomeTable
from shared.clock import as_utc, utcnow

# An unfinished run forgets its client secret after this long (nobody came back).
KEEP_SECRET = timedelta(hours=1)
SHOWN_RUNS = 20
MAX_URL = 2000  # an issuer or endpoint longer than this is refused, not cut
MAX_VALUE = 500  # client_id, client_secret, scope


class CheckupRun(AwesomeTable, table=True):
    """One check-up of one provider, by one AwesomeService user."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    issuer: str = Field(max_length=MAX_URL)
    client_id: str = Field(max_length=MAX_VALUE)
    client_secret: str = Field(default="", max_length=MAX_VALUE)
    auth_method: str = Field(max_length=40)
    authorization_endpoint: str = Field(max_length=MAX_URL)
    token_endpoint: str = Field(max_length=MAX_URL)
    redirect_uri: str = Field(max_length=MAX_URL)
    scope: str = Field(max_length=MAX_VALUE)
    iss_advertised: bool = False
    # The leg the browser is on (len(LEGS) when done), and whether its answer is awaited.
    leg: int = 0
    awaiting: bool = False
    leg_state: str = Field(default="", max_length=200)
    leg_verifier: str = Field(default="", max_length=200)
    leg_url: str = Field(default="", max_length=8000)
    results: str = "{}"  # row key → {"grade", "detail"} (JSON)

    def outcome(self) -> dict[str, dict[str, str]]:
        loaded = json.loads(self.results or "{}")
        return loaded if isinstance(loaded, dict) else {}


def create(session: Session, run: CheckupRun, outbound: Outbound | None) -> CheckupRun:
    """Store a new run waiting at its first leg; the user's older runs stop waiting, and
    forget their secrets (nobody will finish them)."""
    session.exec(
        update(CheckupRun)
        .where(col(CheckupRun.user_id) == run.user_id, col(CheckupRun.awaiting).is_(True))
        .values(awaiting=False, client_secret="")
    )
    session.exec(  # secrets of runs nobody finished are forgotten
        update(CheckupRun)
        .where(col(CheckupRun.created_at) < utcnow() - KEEP_SECRET)
        .values(client_secret="")
    )
    _point_at(run, 0, outbound)
    session.add(run)
    session.flush()
    return run


def _point_at(run: CheckupRun, leg: int, outbound: Outbound | None) -> None:
    run.leg = leg
    run.awaiting = outbound is not None
    run.leg_state = outbound.state if outbound else ""
    run.leg_verifier = outbound.verifier if outbound else ""
    run.leg_url = outbound.url if outbound else ""
    if outbound is None:
        run.finished_at = utcnow()
        run.client_secret = ""  # used up: nothing secret outlives the run


def waiting_run(session: Session, user_id: int) -> CheckupRun | None:
    """The user's run whose leg answer is awaited (the newest, should there be several)."""
    return session.exec(
        select(CheckupRun)
        .where(col(CheckupRun.user_id) == user_id, col(CheckupRun.awaiting).is_(True))
        .order_by(col(CheckupRun.id).desc())
    ).first()


def claim(session: Session, run_id: int, leg: int) -> bool:
    """Take the awaited answer of leg `leg` once: of two tabs or workers exactly one wins."""
    claimed = session.exec(
        update(CheckupRun)
        .where(
            col(CheckupRun.id) == run_id,
            col(CheckupRun.leg) == leg,
            col(CheckupRun.awaiting).is_(True),
        )
        .values(awaiting=False)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1  # type: ignore[attr-defined]


def advance(
    session: Session,
    run_id: int,
    rows: dict[str, dict[str, str]],
    outbound: Outbound | None,
) -> CheckupRun | None:
    """Record a leg's rows and point the run at the next leg (None: the run is finished)."""
    run = session.get(CheckupRun, run_id)
    if run is None:
        return None
    run.results = json.dumps(merge(run.outcome(), rows))
    _point_at(run, run.leg + 1, outbound)
    session.add(run)
    return run


def owned(session: Session, run_id: int, user_id: int) -> CheckupRun | None:
    """The run, if it is this user's (an id no column can hold is no run at all)."""
    run = session.get(CheckupRun, run_id) if 0 < run_id < 2**62 else None
    return run if run is not None and run.user_id == user_id else None


def recent(session: Session, user_id: int) -> list[CheckupRun]:
    """The user's latest runs, newest first."""
    return list(
        session.exec(
            select(CheckupRun)
            .where(col(CheckupRun.user_id) == user_id)
            .order_by(col(CheckupRun.id).desc())
            .limit(SHOWN_RUNS)
        )
    )


@dataclass(frozen=True)
class Snapshot:
    """A run's fields, read in one short session and used after it closed."""

    id: int
    leg: int
    issuer: str
    iss_advertised: bool
    client_id: str
    client_secret: str
    auth_method: str
    authorization_endpoint: str
    token_endpoint: str
    redirect_uri: str
    scope: str
    state: str
    verifier: str

    @property
    def done(self) -> bool:
        return self.leg >= len(LEGS)


def snapshot(run: CheckupRun) -> Snapshot:
    assert run.id is not None
    return Snapshot(
        id=run.id,
        leg=run.leg,
        issuer=run.issuer,
        iss_advertised=run.iss_advertised,
        client_id=run.client_id,
        client_secret=run.client_secret,
        auth_method=run.auth_method,
        authorization_endpoint=run.authorization_endpoint,
        token_endpoint=run.token_endpoint,
        redirect_uri=run.redirect_uri,
        scope=run.scope,
        state=run.leg_state,
        verifier=run.leg_verifier,
    )


def is_stale(run: CheckupRun) -> bool:
    """Unfinished and older than the secret is kept."""
    return run.finished_at is None and as_utc(run.created_at) < utcnow() - KEEP_SECRET


def dumps(rows: dict[str, dict[str, str]]) -> str:
    """Rows as stored."""
    return json.dumps(rows)
