"""Request capture: what each client actually sent to Mockgram's protocol endpoints, secrets masked.

For a developer whose app (or test suite) talks to Mockgram: every request to the authorization,
token, revocation, introspection, registration, userinfo, discovery and JWKS endpoints and to the
photos API is kept as one `CapturedRequest` row — endpoint, method, the parameters with every
secret replaced by "[redacted]" (as the access log does, shared/access_log.py), the client, the
answer's status and OAuth error code. The developer portal lists them (mockgram/pages/requests.py),
the report card grades them (mockgram/report_card.py), a control plane reads or clears them
(mockgram/capture_routes.py).

How, without blocking the event loop and so that replicas agree:
1. `RequestCapture`, a pure ASGI middleware, watches the captured paths: it keeps the query, the
   Authorization header and the first bytes of the body as they stream by, and the status, the
   Location and WWW-Authenticate headers and the start of a JSON answer.
2. Protocol code announces what only it knows (mockgram/events.py): which client authenticated,
   and that a refresh token came back after rotation. `listen` notes those on the request.
3. Before the answer's last bytes go out, the row is built (redaction, token signature check) and
   written in a worker thread; a client that asks the control plane right after its answer
   therefore finds its request there. The table is bounded: each write drops rows past the cap
   and rows older than a day.

What is kept of a secret is never the secret: "[redacted]" in the parameters, and for `state`
only its length, an entropy estimate and a short digest (to spot reuse) in the row's `facts`,
which only the report card reads.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Collection
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import anyio
from sqlalchemy import delete, func
from sqlmodel import Field, Session, col, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockgram import events
from mockgram.failures import body_pairs, current_error, keeping_body, redact_authorization
from mockgram.keys import SigningKeys
from mockgram.models import MockgramTable
from mockgram.oauth.client_auth import parse_basic
from mockgram.oauth.errors import OAuthError
from mockgram.tokens import InvalidAccessToken, signed_claims
from shared.access_log import SECRET_PARAMS
from shared.clock import as_utc, utcnow
from shared.oauth_spec import JWKS_PATH, OAUTH_METADATA_PATH, OIDC_DISCOVERY_PATH

log = logging.getLogger("mockgram")

MASK = "[redacted]"  # the access log's mask (shared/access_log.py)
# The access log's secrets, and the other credentials and browser bindings a request may carry.
SECRET_NAMES = SECRET_PARAMS | {
    "nonce",
    "id_token_hint",
    "client_assertion",
    "assertion",
    "registration_access_token",
    "csrf_token",
}
RETENTION = timedelta(days=1)
MAX_BODY_BYTES = 16 * 1024
MAX_ANSWER_BYTES = 8 * 1024
MAX_PARAMS = 40
MAX_VALUE_CHARS = 300
BACK_CHANNEL_PATHS = ("/oauth/token", "/oauth/revoke", "/oauth/introspect", "/oauth/par")
BACK_CHANNEL_PATHS += ("/oauth/device_authorization",)  # RFC 8628 §3.1


@dataclass(frozen=True)
class Endpoint:
    """A captured endpoint: what it is called and the specification section that defines it."""

    name: str
    rfc: str
    url: str


# Decisions that are tables: exact paths first, then the photos API by prefix.
ENDPOINTS: dict[str, Endpoint] = {
    "/oauth/authorize": Endpoint(
        "authorization", "RFC 6749 §4.1.1", "https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1"
    ),
    "/oauth/token": Endpoint(
        "token", "RFC 6749 §3.2", "https://www.rfc-editor.org/rfc/rfc6749#section-3.2"
    ),
    "/oauth/revoke": Endpoint(
        "revocation", "RFC 7009 §2", "https://www.rfc-editor.org/rfc/rfc7009#section-2"
    ),
    "/oauth/introspect": Endpoint(
        "introspection", "RFC 7662 §2", "https://www.rfc-editor.org/rfc/rfc7662#section-2"
    ),
    "/oauth/device_authorization": Endpoint(
        "device authorization",
        "RFC 8628 §3.1",
        "https://www.rfc-editor.org/rfc/rfc8628#section-3.1",
    ),
    "/device": Endpoint(
        "device verification", "RFC 8628 §3.3", "https://www.rfc-editor.org/rfc/rfc8628#section-3.3"
    ),
    "/oauth/register": Endpoint(
        "registration", "RFC 7591 §3", "https://www.rfc-editor.org/rfc/rfc7591#section-3"
    ),
    "/oauth/par": Endpoint(
        "pushed authorization request",
        "RFC 9126 §2",
        "https://www.rfc-editor.org/rfc/rfc9126#section-2",
    ),
    "/session/end": Endpoint(
        "end session",
        "OIDC RP-Initiated Logout §2",
        "https://openid.net/specs/openid-connect-rpinitiated-1_0.html#RPLogout",
    ),
    "/oauth/userinfo": Endpoint(
        "userinfo",
        "OIDC Core §5.3",
        "https://openid.net/specs/openid-connect-core-1_0.html#UserInfo",
    ),
    OIDC_DISCOVERY_PATH: Endpoint(
        "discovery",
        "OIDC Discovery §4",
        "https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig",
    ),
    OAUTH_METADATA_PATH: Endpoint(
        "metadata", "RFC 8414 §3", "https://www.rfc-editor.org/rfc/rfc8414#section-3"
    ),
    JWKS_PATH: Endpoint("jwks", "RFC 7517 §5", "https://www.rfc-editor.org/rfc/rfc7517#section-5"),
    # The pages of step 3, where the user signs in and answers (RFC 6749 §4.1.1 leaves how to
    # the server): a test driving the flow sees them in order with the endpoints around them.
    "/login": Endpoint(
        "sign-in", "RFC 6749 §3.1", "https://www.rfc-editor.org/rfc/rfc6749#section-3.1"
    ),
    "/consent": Endpoint(
        "consent", "RFC 6749 §4.1.1", "https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1"
    ),
}
PHOTOS_API = Endpoint(
    "photos API", "RFC 6750 §2", "https://www.rfc-editor.org/rfc/rfc6750#section-2"
)


def endpoint_for(path: str) -> Endpoint | None:
    """The captured endpoint a path belongs to, or None for paths not captured."""
    return ENDPOINTS.get(path) or (PHOTOS_API if path.startswith("/api/") else None)


class CapturedRequest(MockgramTable, table=True):
    """One request to a protocol endpoint, secrets masked; `facts` is for the report card only."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    method: str = Field(max_length=10)
    path: str = Field(max_length=300)
    endpoint: str = Field(max_length=40)
    client_id: str | None = Field(default=None, max_length=200, index=True)
    params: str = "[]"  # JSON list of {"in", "name", "value"}, already masked
    status: int
    error: str | None = Field(default=None, max_length=64)
    facts: str = "{}"  # JSON: derived, non-secret facts (auth method, state length and digest…)


# ── What one request looked like ─────────────────────────────────────────────────────────────


@dataclass
class Seen:
    """A watched request as it streams by, and what protocol code said about it."""

    method: str
    path: str
    query: str
    authorization: str | None
    content_type: str
    body: bytearray = field(default_factory=bytearray)
    status: int = 0
    location: str = ""
    challenge: str = ""
    answer_type: str = ""
    answer: bytearray = field(default_factory=bytearray)
    page_error: str | None = None  # the code an error page named (mockgram/failures.py)
    authenticated_client: str | None = None
    notes: set[str] = field(default_factory=set)


_current: ContextVar[Seen | None] = ContextVar("mockgram_capture", default=None)


def listen(bus: events.Events) -> None:
    """Note on the current request what protocol code announced about it."""
    bus.listen(events.ClientAuthenticated, _on_client_authenticated)
    bus.listen(events.RefreshTokenReused, _on_refresh_token_reused)


def _on_client_authenticated(_session: Session, event: events.ClientAuthenticated) -> None:
    seen = _current.get()
    if seen is not None:
        seen.authenticated_client = event.client_id


def _on_refresh_token_reused(_session: Session, event: events.RefreshTokenReused) -> None:
    seen = _current.get()
    if seen is not None:
        seen.notes.add("refresh_token_reused")


# ── Masking ──────────────────────────────────────────────────────────────────────────────────


def _short(value: str) -> str:
    """The value cut to a readable length, NUL shown as \\0 (PostgreSQL cannot store it)."""
    value = value.replace("\x00", "\\0")
    return value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS] + "…"


def masked(where: str, pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Parameters as shown: every secret's value replaced by the mask, long values cut."""
    return [
        {
            "in": where,
            "name": _short(name),
            # An empty value hides nothing, and shows that the parameter was sent empty.
            "value": MASK if name.lower() in SECRET_NAMES and value else _short(value),
        }
        for name, value in pairs[:MAX_PARAMS]
    ]


# ── Facts the report card grades, derived here so no secret is stored ────────────────────────


def entropy_bits(value: str) -> float:
    """A generous estimate of a random string's entropy: length × log2 of its alphabet.

    The alphabet is the character classes the value uses (digits, lower, upper, others); a value
    of few distinct characters counts only those, so "aaaa…" or "1212…" scores low.
    """
    classes = (
        (str.isdigit, 10),
        (str.islower, 26),
        (str.isupper, 26),
    )
    alphabet = sum(size for test, size in classes if any(test(ch) for ch in value))
    alphabet += len({ch for ch in value if not ch.isalnum()})
    alphabet = min(alphabet, len(set(value)) ** 2)
    return len(value) * math.log2(alphabet) if alphabet > 1 else 0.0


def digest(value: str) -> str:
    """A short fingerprint, to tell whether the same value came twice."""
    return hashlib.sha256(value.encode("utf-8", errors="replace")).hexdigest()[:16]


def auth_method(authorization: str | None, query: dict[str, str], body: dict[str, str]) -> str:
    """How a back-channel request authenticated its client (RFC 6749 §2.3.1, RFC 7591 §2)."""
    if "client_secret" in query:
        return "client_secret_query"
    if authorization and authorization.split(" ", 1)[0].lower() == "basic":
        return "client_secret_basic"
    if "client_secret" in body:
        return "client_secret_post"
    return "none" if "client_id" in body else "absent"


def facts_of(seen: Seen, query: dict[str, str], body: dict[str, str]) -> dict[str, Any]:
    """The derived facts of one request (never a secret's value)."""
    facts: dict[str, Any] = {}
    if seen.path == "/oauth/authorize":
        params = body if seen.method == "POST" else query
        if state := params.get("state"):
            facts["state"] = {
                "length": len(state),
                "bits": round(entropy_bits(state)),
                "digest": digest(state),
            }
    if seen.path in BACK_CHANNEL_PATHS:
        facts["auth_method"] = auth_method(seen.authorization, query, body)
    in_query = sorted(name for name in ("access_token", "refresh_token", "token") if name in query)
    if in_query:
        facts["tokens_in_query"] = in_query
    if seen.notes:
        facts["notes"] = sorted(seen.notes)
    return facts


# ── Whose request, and how it ended ──────────────────────────────────────────────────────────


def client_of(
    seen: Seen, query: dict[str, str], body: dict[str, str], keys: SigningKeys | None
) -> str | None:
    """The client: authenticated, else as claimed (Basic, parameter), else its token's holder."""
    if seen.authenticated_client:
        return seen.authenticated_client
    if seen.authorization and seen.authorization.split(" ", 1)[0].lower() == "basic":
        try:
            return parse_basic(seen.authorization)[0]
        except OAuthError:
            pass  # malformed: fall back to what the body claims
    claimed = body.get("client_id") or query.get("client_id")
    if claimed:
        return claimed
    token = query.get("access_token") or body.get("access_token") or _bearer(seen.authorization)
    if token and keys is not None:
        try:  # only a token Mockgram signed names a client; a forged one names nobody
            return str(signed_claims(token, keys=keys).get("client_id") or "") or None
        except InvalidAccessToken:
            return None
    if seen.path == "/oauth/register" and seen.status == 201:
        return _answer_json(seen).get("client_id")
    return None


def _bearer(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").strip().partition(" ")
    # RFC 9449 §7.1: a DPoP-bound token names its client the same way.
    return token.strip() or None if scheme.lower() in ("bearer", "dpop") else None


def _answer_json(seen: Seen) -> dict[str, Any]:
    if seen.answer_type != "application/json":
        return {}
    try:
        data = json.loads(bytes(seen.answer).decode("utf-8", errors="replace"))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def error_of(seen: Seen) -> str | None:
    """The OAuth error code of the answer: JSON body, redirect, bearer challenge or error page."""
    code = _answer_json(seen).get("error")
    if isinstance(code, str):
        return code
    if seen.location:
        target = urlsplit(seen.location)
        for part in (target.query, target.fragment):
            if error := dict(parse_qsl(part)).get("error"):
                return error
    if 'error="' in seen.challenge:
        return seen.challenge.split('error="', 1)[1].split('"', 1)[0]
    return seen.page_error


def row_of(seen: Seen, keys: SigningKeys | None) -> CapturedRequest:
    """The row for a watched request: masked parameters, client, status, error, facts."""
    endpoint = endpoint_for(seen.path)
    query_pairs = parse_qsl(seen.query, keep_blank_values=True)
    body_list = body_pairs(seen.content_type, bytes(seen.body))
    query, body = dict(query_pairs), dict(body_list)
    params = masked("query", query_pairs) + masked("body", body_list)
    if seen.authorization is not None:
        shown = redact_authorization(seen.authorization)
        params.append({"in": "header", "name": "Authorization", "value": shown})
    error = error_of(seen)
    return CapturedRequest(
        method=seen.method,
        path=_short(seen.path),
        endpoint=endpoint.name if endpoint else "",
        client_id=_short(client_of(seen, query, body, keys) or "")[:200] or None,
        params=json.dumps(params),
        status=seen.status,
        error=_short(error)[:64] if error else None,
        facts=json.dumps(facts_of(seen, query, body)),
    )


# ── Storing and reading ──────────────────────────────────────────────────────────────────────


def save(session: Session, row: CapturedRequest, *, limit: int) -> None:
    """Store the row, keeping only the newest `limit` rows and none older than a day."""
    session.add(row)
    session.flush()
    newest = session.exec(select(func.max(CapturedRequest.id))).one() or 0
    stale = delete(CapturedRequest).where(
        (col(CapturedRequest.id) <= newest - limit)
        | (col(CapturedRequest.at) < utcnow() - RETENTION)
    )
    session.exec(stale)  # type: ignore[call-overload]
    session.commit()


def as_json(row: CapturedRequest) -> dict[str, Any]:
    """A captured request, JSON-ready, as the portal and the control plane show it."""
    endpoint = endpoint_for(row.path)
    return {
        "at": as_utc(row.at).isoformat(),
        "method": row.method,
        "path": row.path,
        "endpoint": row.endpoint,
        "rfc": endpoint.rfc if endpoint else None,
        "rfc_url": endpoint.url if endpoint else None,
        "client_id": row.client_id,
        "params": json.loads(row.params),
        "status": row.status,
        "error": row.error,
    }


def rows(
    session: Session,
    *,
    client_id: str | None = None,
    client_ids: Collection[str] | None = None,
    limit: int = 200,
) -> list[CapturedRequest]:
    """Captured rows, newest first; one client's, or those of `client_ids`, when given."""
    statement = select(CapturedRequest)
    if client_id is not None:
        statement = statement.where(CapturedRequest.client_id == client_id)
    if client_ids is not None:
        statement = statement.where(col(CapturedRequest.client_id).in_(list(client_ids)))
    statement = statement.order_by(col(CapturedRequest.id).desc()).limit(max(1, min(limit, 5000)))
    return list(session.exec(statement).all())


def recent(
    session: Session, *, client_id: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """The latest captured requests as JSON-ready dicts, newest first."""
    return [as_json(row) for row in rows(session, client_id=client_id, limit=limit)]


def clear(session: Session) -> int:
    """Forget every captured request (a new test run starts clean); returns how many went."""
    result = session.exec(delete(CapturedRequest))  # type: ignore[call-overload]
    session.commit()
    return int(result.rowcount or 0)


# ── The middleware ───────────────────────────────────────────────────────────────────────────


class RequestCapture:
    """Pure ASGI: watches captured paths and stores each request before its answer ends."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or endpoint_for(scope["path"]) is None:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        seen = Seen(
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            authorization=headers.get("authorization"),
            content_type=headers.get("content-type", "").split(";")[0].strip().lower(),
        )
        app_state = scope["app"].state
        stored = False

        async def store() -> None:
            nonlocal stored
            stored = True
            try:
                await anyio.to_thread.run_sync(self._save, app_state, seen)
            except Exception:  # a lost record must never cost the client its answer
                log.exception("could not capture the request to %s", seen.path)

        tee_receive = keeping_body(receive, seen, MAX_BODY_BYTES)

        async def watch_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen.status = message["status"]
                seen.page_error = current_error()
                answer = {
                    k.decode("latin-1").lower(): v.decode("latin-1")
                    for k, v in message.get("headers", [])
                }
                seen.location = answer.get("location", "")
                seen.challenge = answer.get("www-authenticate", "")
                seen.answer_type = answer.get("content-type", "").split(";")[0].strip().lower()
            elif message["type"] == "http.response.body":
                if seen.answer_type == "application/json" and len(seen.answer) < MAX_ANSWER_BYTES:
                    seen.answer += message.get("body", b"")[: MAX_ANSWER_BYTES - len(seen.answer)]
                if not message.get("more_body", False) and not stored:
                    await store()  # written before the answer ends: read-after-answer holds
            await send(message)

        token = _current.set(seen)
        try:
            await self.app(scope, tee_receive, watch_send)
        except Exception:
            if not stored:
                seen.status = seen.status or 500
                await store()
            raise
        finally:
            _current.reset(token)

    def _save(self, app_state: Any, seen: Seen) -> None:
        row = row_of(seen, getattr(app_state, "keys", None))
        with Session(app_state.engine) as session:
            save(session, row, limit=self.limit)
