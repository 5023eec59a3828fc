"""Pushed requests kept for the front channel: request_uri in, parameters out (RFC 9126 §2.2, §4).

A pushed request is stored under a `request_uri` of the form
`urn:ietf:params:oauth:request_uri:<random>` (§2.2): 256 random bits, so it cannot be guessed
(§7.1). It is bound to the client that pushed it (§4), lives `par_request_uri_ttl_seconds`
(60 s by default: long enough to send a browser on its way, §2.2 `expires_in`) and serves once:
an atomic UPDATE stamps `used_at`, so two tabs racing with one request_uri cannot both win.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col

from mockgram.models import PushedAuthorizationRequest
from shared.clock import as_utc, utcnow
from shared.db import KEEP_EXPIRED, delete_older_than, stamp_unset
from shared.hashing import new_token

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"

Params = dict[str, list[str]]


class RequestUriError(Exception):
    """The request_uri cannot be used; str() says why, for the page John sees."""


def store_pushed(
    session: Session, *, client_id: str, params: Params, ttl_seconds: int
) -> PushedAuthorizationRequest:
    """Keep a validated pushed request under a new request_uri (§2.2); commits."""
    # Rows nobody used are kept a day past expiry (to say "expired"), then dropped.
    delete_older_than(
        session, PushedAuthorizationRequest, PushedAuthorizationRequest.expires_at, KEEP_EXPIRED
    )
    pushed = PushedAuthorizationRequest(
        request_uri=REQUEST_URI_PREFIX + new_token(32),
        client_id=client_id,
        params={**params, "client_id": [client_id]},
        expires_at=utcnow() + timedelta(seconds=ttl_seconds),
    )
    session.add(pushed)
    session.commit()
    return pushed


def pushed_params(session: Session, params: Params) -> Params:
    """The parameters pushed under the request's request_uri, claimed once (§4); commits."""
    uris = params.get("request_uri", [])
    client_ids = params.get("client_id", [])
    if len(uris) != 1:
        raise RequestUriError("The parameter request_uri was sent more than once.")
    # §4: client_id is REQUIRED beside request_uri, and must be the client that pushed it.
    if len(client_ids) != 1:
        raise RequestUriError("A request_uri must come with exactly one client_id.")
    pushed = session.get(PushedAuthorizationRequest, uris[0])
    if pushed is None:
        raise RequestUriError("Mockgram does not know this request_uri.")
    if pushed.client_id != client_ids[0]:
        raise RequestUriError("This request_uri was pushed by another app.")
    if as_utc(pushed.expires_at) <= utcnow():
        raise RequestUriError("This request_uri has expired: it is short-lived.")
    # §4 and §7.3: one use only; claimed atomically, before anything else can fail.
    used = col(PushedAuthorizationRequest.used_at)
    where = col(PushedAuthorizationRequest.request_uri) == pushed.request_uri
    if stamp_unset(session, used, where) != 1:
        session.rollback()
        raise RequestUriError("This request_uri was already used.")
    session.commit()
    return {name: list(values) for name, values in pushed.params.items()}
