"""The control plane's routes, all under /_control/, all JSON, all behind its bearer secret.

Any test suite drives them over HTTP (`curl -H "Authorization: Bearer $SECRET" …`); the
pytest plugin (mockgram/testing/) wraps them. Without the right bearer: 401 with a
`WWW-Authenticate: Bearer` challenge (RFC 6750 §3); with the control plane off the routes are
not mounted at all, so every path here is a 404.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import Session, col, delete, select

from mockgram import keys as signing_keys
from mockgram.control import accounts
from mockgram.control.faults import MAX_DELAY_MS, SLOW, SLOW_ENDPOINTS, TOKEN_ERROR, TOKEN_ERRORS
from mockgram.control.logins import queue_login
from mockgram.control.models import STATE_ID, ControlState, QueuedFault, QueuedLogin
from mockgram.db import SessionDep
from mockgram.deps import SettingsDep
from shared.hashing import constant_equals

REALM = 'Bearer realm="mockgram-control"'


class Unauthorized(Exception):
    """No control secret, or a wrong one: answered 401 with a Bearer challenge (`answer`)."""

    def __init__(self, description: str, *, error: str | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.error = error

    def answer(self) -> JSONResponse:
        challenge = REALM if self.error is None else f'{REALM}, error="{self.error}"'
        body = {"error": self.error or "unauthorized", "error_description": self.description}
        return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": challenge})


async def require_control_secret(request: Request, settings: SettingsDep) -> None:
    """RFC 6750 §2.1, §3: the control secret as a bearer token, compared in constant time."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        # §3.1: no credentials at all → the challenge, without an error code.
        raise Unauthorized("The control plane needs its bearer secret.")
    if not constant_equals(settings.control_secret or "", token.strip()):
        raise Unauthorized("Wrong control secret.", error="invalid_token")


router = APIRouter(
    prefix="/_control", dependencies=[Depends(require_control_secret)], include_in_schema=False
)


def control_state(session: Session) -> ControlState:
    """The one row; made on first use."""
    state = session.get(ControlState, STATE_ID)
    if state is None:
        state = ControlState()
        session.add(state)
    return state


def real_now() -> datetime:
    """The machine's clock, unskewed: offsets are measured from it."""
    return datetime.now(UTC)


# --- the clock --------------------------------------------------------------------------------


class ClockChange(BaseModel):
    """Exactly one of: an instant to jump to, an offset from real time, or a step forward."""

    at: datetime | None = None
    offset_seconds: float | None = None
    advance_seconds: float | None = None


def clock_answer(state: ControlState) -> dict[str, object]:
    offset = timedelta(milliseconds=state.clock_offset_ms)
    return {"now": (real_now() + offset).isoformat(), "offset_seconds": offset.total_seconds()}


@router.get("/clock")
def read_clock(session: SessionDep) -> dict[str, object]:
    """Mockgram's time as every worker sees it, and its offset from the machine's."""
    return clock_answer(control_state(session))


@router.post("/clock")
def set_clock(change: ClockChange, session: SessionDep) -> dict[str, object]:
    """Set or skew the clock for every worker: it keeps ticking from the new time."""
    given = [v for v in (change.at, change.offset_seconds, change.advance_seconds) if v is not None]
    if len(given) != 1:
        raise HTTPException(400, "Send exactly one of at, offset_seconds, advance_seconds.")
    state = control_state(session)
    if change.at is not None:
        at = change.at if change.at.tzinfo else change.at.replace(tzinfo=UTC)
        offset = at - real_now()
    elif change.offset_seconds is not None:
        offset = timedelta(seconds=change.offset_seconds)
    else:
        offset = timedelta(milliseconds=state.clock_offset_ms)
        offset += timedelta(seconds=change.advance_seconds or 0)
    if abs(offset) > timedelta(days=365 * 100):
        raise HTTPException(400, "The clock can move at most a hundred years.")
    state.clock_offset_ms = round(offset.total_seconds() * 1000)
    session.add(state)
    session.commit()
    return clock_answer(state)


# --- signing keys -----------------------------------------------------------------------------


class Rotation(BaseModel):
    retire_old: bool = False


@router.post("/keys/rotate")
def rotate_keys(
    request: Request, session: SessionDep, rotation: Rotation | None = None
) -> dict[str, object]:
    """New signing keys from now on; the old ones stay published unless `retire_old`."""
    app_state = request.app.state
    if signing_keys.pinned_key(app_state.settings) is not None:
        # The configuration names the one key that signs; rotating would quietly replace it.
        raise HTTPException(
            409,
            "The signing key is pinned by the configuration ([signing] or "
            "MOCKGRAM_SIGNING_KEY); remove the pin to rotate keys.",
        )
    keys = signing_keys.rotate(app_state.engine, retire_old=bool(rotation and rotation.retire_old))
    state = control_state(session)
    state.keys_version += 1
    session.add(state)
    session.commit()
    # This worker at once; the others when their next request reads the new version.
    app_state.keys, app_state.keys_version = keys, state.keys_version
    published = [str(key["kid"]) for key in keys.public_set.as_dict()["keys"]]
    return {"kid": keys.kid, "published_kids": published}


# --- faults -----------------------------------------------------------------------------------


class FaultRequest(BaseModel):
    kind: Literal["token_error", "refuse_code", "unpublished_key", "slow"]
    error: str | None = None
    error_description: str | None = Field(default=None, max_length=200)
    endpoint: Literal["jwks", "token"] | None = None
    delay_ms: int | None = Field(default=None, ge=0, le=MAX_DELAY_MS)


def fault_answer(fault: QueuedFault) -> dict[str, object]:
    shown = {"id": fault.id, "kind": fault.kind}
    for name in ("error", "error_description", "endpoint", "delay_ms"):
        if getattr(fault, name) is not None:
            shown[name] = getattr(fault, name)
    return shown


@router.post("/faults", status_code=201)
def queue_fault(wanted: FaultRequest, session: SessionDep) -> dict[str, object]:
    """Queue one fault for the next matching request (see mockgram/control/faults.py)."""
    if wanted.kind == TOKEN_ERROR and wanted.error not in TOKEN_ERRORS:
        raise HTTPException(400, f"error must be one of: {', '.join(TOKEN_ERRORS)}.")
    if wanted.kind == SLOW and (wanted.endpoint not in SLOW_ENDPOINTS or wanted.delay_ms is None):
        raise HTTPException(400, "A slow fault needs endpoint (jwks or token) and delay_ms.")
    fault = QueuedFault(
        kind=wanted.kind,
        error=wanted.error if wanted.kind == TOKEN_ERROR else None,
        error_description=wanted.error_description if wanted.kind == TOKEN_ERROR else None,
        endpoint=wanted.endpoint if wanted.kind == SLOW else None,
        delay_ms=wanted.delay_ms if wanted.kind == SLOW else None,
    )
    session.add(fault)
    session.commit()
    return fault_answer(fault)


@router.get("/faults")
def queued_faults(session: SessionDep) -> list[dict[str, object]]:
    """The faults still waiting for their request, oldest first."""
    waiting = select(QueuedFault).where(col(QueuedFault.used_at).is_(None))
    return [fault_answer(f) for f in session.exec(waiting.order_by(col(QueuedFault.id)))]


# --- who signs in next ------------------------------------------------------------------------


class NextLogin(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    claims: dict[str, object] = Field(default_factory=dict)


@router.post("/next-login", status_code=201)
def next_login(wanted: NextLogin, session: SessionDep) -> dict[str, object]:
    """The next non-interactive sign-in is this person, with these claims (made if new)."""
    try:
        queued = queue_login(session, username=wanted.username, claims=wanted.claims)
    except accounts.AccountError as exc:
        raise HTTPException(400, str(exc)) from exc
    session.commit()
    return {"id": queued.id, "username": queued.username, "claims": queued.claims}


# --- people and clients -----------------------------------------------------------------------


class UserRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str | None = Field(default=None, min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=120)
    email: str | None = Field(default=None, max_length=200)
    email_verified: bool | None = None
    sub: str | None = Field(default=None, min_length=1, max_length=255)
    claims: dict[str, object] | None = None
    replace_claims: bool = False
    id_token_claims: list[str] | None = None
    access_token_claims: list[str] | None = None
    userinfo_claims: list[str] | None = None


@router.post("/users")
def upsert_user(wanted: UserRequest, session: SessionDep) -> dict[str, object]:
    """Create a person, or change what is sent and keep the rest (claims are added to)."""
    try:
        user = accounts.upsert_user(session, **wanted.model_dump())
    except accounts.AccountError as exc:
        raise HTTPException(400, str(exc)) from exc
    session.commit()
    return {
        "sub": user.subject,
        "username": user.username,
        "name": user.name,
        "email": user.email,
        "email_verified": user.email_verified,
        "claims": user.extra_claims,
        "id_token_claims": user.id_token_claims,
        "access_token_claims": user.access_token_claims,
        "userinfo_claims": user.userinfo_claims,
    }


class ClientRequest(BaseModel):
    client_id: str | None = Field(default=None, min_length=1, max_length=100)
    name: str | None = None
    redirect_uris: list[str] = Field(min_length=1)
    public: bool = False
    scopes: str | None = None
    secret: str | None = Field(default=None, min_length=1, max_length=200)
    response_types: str | None = None
    id_token_signed_response_alg: str | None = None


@router.post("/clients")
def upsert_client(wanted: ClientRequest, session: SessionDep) -> dict[str, object]:
    """Register a client (or change one); the answer carries a secret set or made now."""
    try:
        client, secret = accounts.upsert_client(session, **wanted.model_dump())
    except accounts.AccountError as exc:
        raise HTTPException(400, str(exc)) from exc
    session.commit()
    answer: dict[str, object] = {
        "client_id": client.client_id,
        "name": client.name,
        "redirect_uris": client.redirect_uri_list,
        "scope": client.allowed_scopes,
        "response_types": client.response_types.split(),
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
    }
    if secret is not None:
        answer["client_secret"] = secret
    return answer


# --- reset ------------------------------------------------------------------------------------


@router.post("/reset")
def reset(session: SessionDep) -> dict[str, object]:
    """Back to normal: no queued faults or logins, the clock on real time. Users, clients and
    keys stay."""
    session.exec(delete(QueuedFault))  # type: ignore[call-overload]
    session.exec(delete(QueuedLogin))  # type: ignore[call-overload]
    state = control_state(session)
    state.clock_offset_ms = 0
    session.add(state)
    session.commit()
    return {"reset": True, "now": real_now().isoformat()}
