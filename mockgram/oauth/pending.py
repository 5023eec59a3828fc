"""Pending authorization requests: what step 1 asked, kept until steps 2–3 answer it.

The request lives in the database (any worker can pick it up) and its id is bound to the
browser session that made it, so a request id seen in a URL or a log is useless in another
browser. Answering it is single use: an atomic UPDATE marks it completed exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col
from starlette.requests import Request

from mockgram.models import AuthorizationRequest, Client
from shared.clock import as_utc, utcnow
from shared.db import stamp_unset
from shared.tour import tour_on

SESSION_KEY = "pending_requests"
# Keep only the few most recent requests of this browser: the session stays small.
MAX_PENDING_IN_SESSION = 5


@dataclass(frozen=True)
class Approved:
    """A pending request John approved: everything its answer is issued from."""

    pending: AuthorizationRequest
    user_id: int
    scope: str  # what John granted: the request's scope, or less (RFC 6749 §3.3)
    auth_time: int | None  # when he last typed his password (an id_token's auth_time)


def bind_to_session(request: Request, request_id: str) -> None:
    """Remember that this browser started the request."""
    pending = [rid for rid in request.session.get(SESSION_KEY, []) if rid != request_id]
    request.session[SESSION_KEY] = [*pending, request_id][-MAX_PENDING_IN_SESSION:]


def is_bound_to_session(request: Request, request_id: str) -> bool:
    """True when this browser started the request (consent is bound to it: SECURITY.md item 28)."""
    return request_id in request.session.get(SESSION_KEY, [])


def unbind_from_session(request: Request, request_id: str) -> None:
    """Forget a request once it is answered."""
    pending = request.session.get(SESSION_KEY, [])
    if request_id in pending:
        request.session[SESSION_KEY] = [rid for rid in pending if rid != request_id]


def load_open_request(session: Session, request_id: str | None) -> AuthorizationRequest | None:
    """The pending request if it exists, is not answered yet and has not expired."""
    if not request_id:
        return None
    pending = session.get(AuthorizationRequest, request_id)
    if pending is None or pending.completed_at is not None:
        return None
    if as_utc(pending.expires_at) <= utcnow():
        return None
    return pending


def claim(session: Session, request_id: str) -> bool:
    """Mark the request answered; False if someone else already did (single use, no race)."""
    completed = col(AuthorizationRequest.completed_at)
    return stamp_unset(session, completed, col(AuthorizationRequest.id) == request_id) == 1


def prompts(pending: AuthorizationRequest) -> frozenset[str]:
    """The request's prompt values (OIDC Core §3.1.2.1), e.g. {"login"} or {"consent"}."""
    return frozenset((pending.prompt or "").split())


def mark_signed_in(session: Session, request_id: str) -> None:
    """John just typed his password for this request: prompt=login / max_age are satisfied."""
    pending = session.get(AuthorizationRequest, request_id)
    if pending is not None and pending.force_login:
        pending.force_login = False
        session.add(pending)
        session.commit()


def tells_the_story(pending: AuthorizationRequest, client: Client | None) -> bool:
    """Whether this request is the article's: a print shop's server (a confidential client)
    asking for a code to read photos (the tour's steps 2–3).

    An OpenID login, the implicit flow's token, or a single-page app (a public client) is
    another flow: its pages carry no banner promising the story's next step. Nor does an
    unverified client's request: a stranger's app is not the article's print shop, whatever
    it calls itself.
    """
    scopes = pending.scope.split()
    return (
        pending.response_type == "code"
        and "photos.read" in scopes
        and "openid" not in scopes
        and client is not None
        and client.verified
        and client.secret_hash is not None
    )


def narrates_skipped_consent(
    request: Request, pending: AuthorizationRequest, client: Client | None
) -> bool:
    """Whether the tour pauses on a skipped step 3 to say why: for the story's request, in a
    browser whose tour is on, on a top-level navigation (`Sec-Fetch-Mode: navigate`, which
    browsers send and apps and libraries do not). Everyone else goes straight back, as always."""
    return (
        tells_the_story(pending, client)
        and tour_on(request)
        and request.headers.get("sec-fetch-mode") == "navigate"
    )
