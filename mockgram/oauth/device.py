"""The device authorization grant (RFC 8628) — a device with no keyboard, approved on a phone.

AwesomeService's in-store print kiosk cannot show John a Mockgram sign-in page he could type
into. Instead (§1):

  (A) the kiosk's server asks Mockgram's device authorization endpoint for codes (§3.1);
  (B) it gets a device_code (its secret) and a short user_code, with where to type it (§3.2);
  (C) the kiosk shows the user_code, the verification URI and a QR code of both;
  (D) John opens that URI on his phone, signs in and approves (§3.3, mockgram/pages/device.py);
  (E) meanwhile the kiosk polls the token endpoint with the device_code (§3.4) …
  (F) … and, once John has approved, gets its access token (§3.5).

The device authorization endpoint: client authentication as at the token endpoint (§3.1: a
confidential client authenticates, a public one sends client_id), the grant registered for the
client (else unauthorized_client), the scope (optional: the client's registered scopes), one
stored row per request (counted against the address's hourly limit of authorization requests).

The token request with grant_type urn:ietf:params:oauth:grant-type:device_code, in this order:
device_code → issued to this client → not yet redeemed → not expired (expired_token) →
John's answer: denied (access_denied), approved (tokens, once), or still pending — then a poll
that comes sooner than the interval is slow_down and the interval grows by five seconds for
good; an on-time one is authorization_pending.

Decisions, written down:
- The device code is stored only as its hash, the user code too.
- Pace is one compare-and-set on the row's poll counter, so two racing polls cannot both be
  on time; the first poll may come at once.
- A redemption is an atomic claim (redeemed_at stamped once): two racing polls after the
  approval get one set of tokens between them, the other invalid_grant.
- Remembered consent never skips John's question here (§5.4, remote phishing): a user code
  can be read off an attacker's own kiosk and sent to John, so he confirms every device.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from starlette.responses import Response

from mockgram import rate_limits
from mockgram.clients import DEVICE_CODE, allowed_grant_types
from mockgram.deps import Provider
from mockgram.events import TokensIssued
from mockgram.models import Client, DeviceAuthorization, User
from mockgram.oauth import dpop, refresh, user_codes
from mockgram.oauth.back_channel import BackChannelCall, BackChannelDep, refuse_other_methods
from mockgram.oauth.errors import (
    NO_STORE_HEADERS,
    AccessDeniedError,
    AuthorizationPendingError,
    ExpiredTokenError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuthError,
    RateLimitedError,
    SlowDownError,
    UnauthorizedClientError,
)
from mockgram.oauth.grants import issue_tokens, kinds_in, new_grant
from mockgram.oauth.id_tokens import issue_id_token, numeric_date
from mockgram.scopes import SCOPES, has_openid, normalize_scope
from shared.clock import as_utc, utcnow
from shared.db import KEEP_EXPIRED, delete_older_than, stamp_unset
from shared.hashing import hash_secret, new_token

router = APIRouter()

DEVICE_AUTHORIZATION_PATH = "/oauth/device_authorization"
VERIFICATION_PATH = "/device"
DEVICE_CODE_BYTES = 32  # 256 bits: the device's secret, as strong as a refresh token
SLOW_DOWN_SECONDS = 5  # §3.5: "the interval MUST be increased by 5 seconds"
PENDING, APPROVED, DENIED = "pending", "approved", "denied"
NEW_CODE_ATTEMPTS = 5  # a user code that happens to be taken already is drawn again


# ── (A)–(B): the device authorization endpoint (§3.1, §3.2) ──────────────────────────────────


@router.post(DEVICE_AUTHORIZATION_PATH)
def device_authorization_endpoint(call: BackChannelDep) -> Response:
    """§3.1–3.2: a device_code for the device, a user_code for John, and where to type it."""
    try:
        form, client = call.form_and_client()
        check_device_client(client)
        scope = check_scope(client, form)
        settings = call.provider.settings
        limit = rate_limits.Limit(
            rate_limits.AUTHORIZATION_REQUESTS, settings.authorization_requests_per_hour
        )
        address = rate_limits.client_address(call.request)
        if wait := rate_limits.take(call.session, limit, address=address):
            raise RateLimitedError(
                f"Too many requests from this address; try again in {wait} seconds.",
                headers={"Retry-After": str(wait)},
            )
        device_code, user_code = store_request(call.session, call.provider, client, scope)
    except OAuthError as exc:
        return call.refused(exc)
    verification_uri = f"{settings.issuer}{VERIFICATION_PATH}"
    body = {
        "device_code": device_code,
        "user_code": user_codes.shown(user_code),
        "verification_uri": verification_uri,
        # §3.3.1: the code in the URI, for a QR code; John still confirms it on the page.
        "verification_uri_complete": verification_uri_complete(settings.issuer, user_code),
        "expires_in": settings.device_code_ttl_seconds,
        "interval": settings.device_poll_interval_seconds,
    }
    return JSONResponse(body, headers=NO_STORE_HEADERS)


refuse_other_methods(router, DEVICE_AUTHORIZATION_PATH, "device authorization")


def verification_uri_complete(issuer: str, user_code: str) -> str:
    """The verification URI with the user code in it (§3.3.1)."""
    return f"{issuer}{VERIFICATION_PATH}?" + urlencode({"user_code": user_codes.shown(user_code)})


def check_device_client(client: Client) -> None:
    """RFC 6749 §5.2 via RFC 8628 §3.2: only a client registered for the grant may start it."""
    if DEVICE_CODE not in allowed_grant_types(client):
        raise UnauthorizedClientError("This client is not registered for the device grant.")


def check_scope(client: Client, form: dict[str, str]) -> str:
    """§3.1: scope is optional (then the client's registered scopes); known and allowed."""
    requested = set(form.get("scope", client.allowed_scopes).split())
    unknown = requested - set(SCOPES)
    if unknown:
        raise InvalidScopeError(f"Unknown scope: {' '.join(sorted(unknown))}.")
    if not requested <= client.scope_set:
        extra = " ".join(sorted(requested - client.scope_set))
        raise InvalidScopeError(f"This client may not ask for: {extra}.")
    if not requested:
        raise InvalidScopeError("The client has no scope to ask for.")
    return normalize_scope(requested)


def store_request(
    session: Session, provider: Provider, client: Client, scope: str
) -> tuple[str, str]:
    """Keep the request, both codes hashed; returns them in the clear, once."""
    settings = provider.settings
    # Requests nobody finished would pile up: each new one sweeps those expired a day ago.
    expires_at = col(DeviceAuthorization.expires_at)
    delete_older_than(session, DeviceAuthorization, expires_at, KEEP_EXPIRED)
    for _attempt in range(NEW_CODE_ATTEMPTS):
        device_code, user_code = new_token(DEVICE_CODE_BYTES), user_codes.new_user_code()
        now = utcnow()
        session.add(
            DeviceAuthorization(
                device_code_hash=hash_secret(device_code),
                user_code_hash=hash_secret(user_code),
                client_id=client.client_id,
                scope=scope,
                interval=settings.device_poll_interval_seconds,
                created_at=now,
                expires_at=now + timedelta(seconds=settings.device_code_ttl_seconds),
            )
        )
        try:
            session.commit()
            return device_code, user_code
        except IntegrityError:
            session.rollback()  # that user code is someone else's right now: draw another
    raise RateLimitedError("No free user code right now; try again.")


# ── (E)–(F): the token request (§3.4, §3.5) ──────────────────────────────────────────────────


def device_code_grant(call: BackChannelCall, client: Client, form: dict[str, str]) -> Response:
    """The device_code grant, check by check (RFC 8628 §3.4, §3.5)."""
    session, provider = call.session, call.provider
    record = find_device_request(session, form)
    # §3.4: the device code was issued to this client.
    if record.client_id != client.client_id:
        raise InvalidGrantError("The device_code was issued to another client.")
    # Single use: the tokens went out once already.
    if record.redeemed_at is not None:
        raise InvalidGrantError("The device_code was already used.")
    # §3.5 expired_token: the device must start over with a new request.
    if as_utc(record.expires_at) <= utcnow():
        raise ExpiredTokenError("The device_code has expired; request a new one.")
    # §3.5 access_denied: John said no on /device.
    if record.status == DENIED:
        raise AccessDeniedError("The user denied the request.")
    if record.status == APPROVED:
        return redeem(session, provider, record, client, jkt=call.dpop_jkt)
    # Still pending: a poll sooner than the interval is slow_down, else authorization_pending.
    check_pace(session, record)
    raise AuthorizationPendingError("The user has not answered yet; keep polling.")


def find_device_request(session: Session, form: dict[str, str]) -> DeviceAuthorization:
    """§3.4: device_code is required; it is looked up by its hash."""
    device_code = form.get("device_code")
    if device_code is None:
        raise InvalidRequestError("device_code is required.")
    record = session.get(DeviceAuthorization, hash_secret(device_code))
    if record is None:
        raise InvalidGrantError("The device_code is invalid.")
    return record


def check_pace(session: Session, record: DeviceAuthorization) -> None:
    """§3.5: at most one poll per interval; a sooner one is slow_down, the interval + 5 s."""
    now = utcnow()
    due = record.next_poll_at
    this_row = col(DeviceAuthorization.device_code_hash) == record.device_code_hash
    if due is None or as_utc(due) <= now:
        # Compare-and-set on the poll counter read: of two racing polls, one is on time.
        on_time = session.exec(
            update(DeviceAuthorization)  # type: ignore[call-overload]
            .where(this_row, col(DeviceAuthorization.polls) == record.polls)
            .values(polls=record.polls + 1, next_poll_at=now + timedelta(seconds=record.interval))
            .execution_options(synchronize_session=False)
        ).rowcount
        session.commit()
        if on_time:
            return
    interval = record.interval + SLOW_DOWN_SECONDS
    session.exec(
        update(DeviceAuthorization)  # type: ignore[call-overload]
        .where(this_row)
        .values(
            polls=DeviceAuthorization.polls + 1,
            interval=DeviceAuthorization.interval + SLOW_DOWN_SECONDS,
            next_poll_at=now + timedelta(seconds=interval),
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    raise SlowDownError(f"Polling too fast: wait at least {interval} seconds between requests.")


def redeem(
    session: Session,
    provider: Provider,
    record: DeviceAuthorization,
    client: Client,
    *,
    jkt: str | None = None,
) -> Response:
    """§3.5: John approved: claim the request once, then issue the tokens (RFC 6749 §5.1)."""
    this_row = col(DeviceAuthorization.device_code_hash) == record.device_code_hash
    if stamp_unset(session, col(DeviceAuthorization.redeemed_at), this_row) != 1:
        raise InvalidGrantError("The device_code was already used.")
    user = session.get(User, record.user_id) if record.user_id is not None else None
    if user is None or user.id is None:
        raise InvalidGrantError("The user who approved this device no longer exists.")
    scope = record.granted_scope or record.scope
    grant = new_grant(
        client_id=client.client_id, user_id=user.id, scope=scope, auth_time=record.auth_time
    )
    # RFC 9449 §5: a proof with the poll binds the tokens (a public device's refresh token too).
    grant = replace(grant, jkt=dpop.refresh_binding(client, jkt))
    body = issue_tokens(
        session,
        provider,
        grant,
        scope=scope,
        with_refresh_token=refresh.gets_refresh_token(client, scope),
        jkt=jkt,
    )
    if has_openid(scope):
        # OIDC Core §3.1.3.3 by analogy: who approved, and when he signed in.
        auth_time = numeric_date(record.auth_time)
        body["id_token"] = issue_id_token(
            provider, client, user, scope, auth_time=auth_time, session=session
        )
    provider.events.announce(
        session,
        TokensIssued(
            user_id=user.id, client_id=client.client_id, grant=DEVICE_CODE, kinds=kinds_in(body)
        ),
    )
    session.commit()
    return JSONResponse(body, headers=NO_STORE_HEADERS)


# ── (D): what John's answer on /device does to the request (§3.3) ────────────────────────────


def open_request(session: Session, typed: str) -> DeviceAuthorization | None:
    """The pending, unexpired request whose user code John typed, or None."""
    code = user_codes.normalize(typed)
    if code is None:
        return None
    found = session.exec(
        select(DeviceAuthorization.device_code_hash).where(
            col(DeviceAuthorization.user_code_hash) == hash_secret(code)
        )
    ).first()
    if found is None:
        return None
    return still_open(session, found)


def still_open(session: Session, device_code_hash: str) -> DeviceAuthorization | None:
    """The request, when nobody answered it yet and it has not expired."""
    record = session.get(DeviceAuthorization, device_code_hash)
    if record is None or record.status != PENDING or as_utc(record.expires_at) <= utcnow():
        return None
    return record


def decide(
    session: Session,
    device_code_hash: str,
    *,
    approve: bool,
    user_id: int,
    scope: str | None = None,
    auth_time_epoch: int | None = None,
) -> bool:
    """Record John's answer once (compare-and-set on the status); the caller commits."""
    values: dict[str, object] = {
        "status": APPROVED if approve else DENIED,
        "user_id": user_id,
        "decided_at": utcnow(),
    }
    if approve:
        values["granted_scope"] = scope
        if auth_time_epoch is not None:
            values["auth_time"] = datetime.fromtimestamp(auth_time_epoch, tz=UTC)
    changed = session.exec(
        update(DeviceAuthorization)  # type: ignore[call-overload]
        .where(
            col(DeviceAuthorization.device_code_hash) == device_code_hash,
            col(DeviceAuthorization.status) == PENDING,
            col(DeviceAuthorization.expires_at) > utcnow(),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    return changed == 1
