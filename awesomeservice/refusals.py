"""The request behind a refusal: every AwesomeService refusal page keeps a small,
redacted record of what it refused, under a random reference, so that its explanation page,
`/errors/{reason}?ref=…`, can show the request that failed.

The same idea as Mockgram's error_uri pages (mockgram/failures.py), on the client's side. What
must outlive the request lives in the database, so the explanation can be served by any worker;
a record is kept an hour. Nothing worth stealing is stored: client secrets, passwords, state,
nonce, tokens and verifiers never; a code keeps only its first four characters, enough to tell
two apart (awesomeservice/inspector/redact.py's `partial`). The reference is 128 random bits.

The provider's own `error_uri` (RFC 6749 §4.1.2.1, §5.2) is kept too, but only when it is an
absolute http(s) URL made of the characters RFC 6749 allows: it is shown as a plain link, never
followed, and never redirected to.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import Request
from sqlalchemy import delete
from sqlmodel import Field, Session, col

from awesomeservice.inspector.redact import partial
from awesomeservice.models import AwesomeTable
from shared.clock import as_utc, utcnow
from shared.db import keep_newest

log = logging.getLogger("awesomeservice")
RETENTION = timedelta(hours=1)
# At most this many are kept, however many come in an hour: a flood cannot fill the disk.
MAX_KEPT = 1000
REDACTED = "[redacted]"
MAX_PARAMS = 40
MAX_VALUE_CHARS = 200
# Never stored, never shown: credentials, tokens — and state and nonce, which bind a browser.
SECRET_NAMES = frozenset(
    {
        "client_secret",
        "client_assertion",
        "password",
        "code_verifier",
        "access_token",
        "refresh_token",
        "id_token",
        "id_token_hint",
        "token",
        "state",
        "nonce",
        "csrf_token",
        "session_state",
    }
)
# Kept as a four-character prefix: the code, so two answers can be told apart.
PARTIAL_NAMES = frozenset({"code"})
# A reason that can go in a path segment as it is; anything else is explained generically.
_SLUG = re.compile(r"[A-Za-z0-9_-]{1,64}")
UNKNOWN_SLUG = "unknown_error"
_REF = re.compile(r"[A-Za-z0-9_-]{1,32}")
# RFC 6749 §4.1.2.1, §5.2: error_uri values are %x21 / %x23-5B / %x5D-7E (no space, ", \).
_URI_CHARS = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,500}")


class RefusedRequest(AwesomeTable, table=True):
    """One refusal AwesomeService showed, redacted, kept an hour for its explanation page."""

    ref: str = Field(primary_key=True, max_length=32)
    reason: str = Field(max_length=64)
    step: int | None = None
    title: str = Field(default="", max_length=200)
    message: str = Field(default="", max_length=300)  # what AwesomeService told John
    detail: str = Field(default="", max_length=300)  # the provider's own words, if any
    method: str = Field(max_length=10)
    path: str = Field(max_length=200)
    # JSON lists of [name, value] pairs, already redacted.
    query: str = "[]"
    answer: str = "[]"  # what the provider answered on the back channel, when it did
    provider_error_uri: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, index=True)


def _short(value: str, limit: int = MAX_VALUE_CHARS) -> str:
    # PostgreSQL text cannot hold NUL (shared/unstorable.py); a record must store anyway.
    value = value.replace("\x00", "\ufffd")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def redact_pairs(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Parameter pairs with secrets replaced, codes cut to a prefix, long values cut."""
    shown = []
    for name, value in list(pairs)[:MAX_PARAMS]:
        lowered = name.lower()
        if lowered in SECRET_NAMES:
            hidden = REDACTED
        elif lowered in PARTIAL_NAMES:
            # Four characters of a long code tell two apart; of a short one, too much.
            hidden = partial(value) if len(value) >= 16 else REDACTED
        else:
            hidden = _short(value)
        shown.append((_short(name, 64), hidden))
    return shown


def safe_error_uri(value: object) -> str:
    """The provider's error_uri when it is an absolute http(s) URL of legal characters, else ""."""
    if not isinstance(value, str) or not _URI_CHARS.fullmatch(value):
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return value


def slug(reason: str) -> str:
    """The path segment of a reason's page: the reason itself, or the generic one."""
    return reason if _SLUG.fullmatch(reason) else UNKNOWN_SLUG


def explanation_url(reason: str, ref: str = "") -> str:
    """`/errors/{reason}`, naming the recorded request when there is one."""
    url = f"/errors/{quote(slug(reason), safe='')}"
    return f"{url}?{urlencode({'ref': ref})}" if ref else url


async def record(
    request: Request,
    *,
    reason: str,
    step: int | None = None,
    title: str = "",
    message: str = "",
    detail: str = "",
    answer: Sequence[tuple[str, str]] = (),
    provider_error_uri: str = "",
) -> str:
    """Store one refusal, redacted; its reference, or "" when it could not be stored.

    A lost record only costs the explanation page its "request that failed": the refusal
    page itself must never fail because of it. The writing is done in a worker thread.
    """
    ref = secrets.token_urlsafe(16)
    row = RefusedRequest(
        ref=ref,
        reason=_short(reason, 64),
        step=step,
        title=_short(title),
        message=_short(message, 300),
        detail=_short(detail, 300),
        method=request.method[:10],
        path=_short(request.url.path),
        query=json.dumps(redact_pairs(parse_qsl(request.url.query, keep_blank_values=True))),
        answer=json.dumps(redact_pairs(answer)),
        provider_error_uri=safe_error_uri(provider_error_uri),
    )
    try:
        await request.app.state.database.run(_keep, row)
    except Exception:
        log.warning("could not record the refusal %s", reason[:64], exc_info=True)
        return ""
    return ref


def _keep(db: Session, row: RefusedRequest) -> None:
    """Store one refusal record, sweeping away those older than the retention and all but the
    newest first."""
    stale = col(RefusedRequest.created_at) < utcnow() - RETENTION
    db.exec(delete(RefusedRequest).where(stale))  # type: ignore[call-overload]
    keep_newest(db, RefusedRequest, RefusedRequest.created_at, MAX_KEPT - 1)
    db.add(row)


def load(db: Session, ref: str) -> RefusedRequest | None:
    """The refusal a reference names, while it is kept."""
    if not _REF.fullmatch(ref):
        return None
    row = db.get(RefusedRequest, ref)
    if row is None or as_utc(row.created_at) < utcnow() - RETENTION:
        return None
    return row
