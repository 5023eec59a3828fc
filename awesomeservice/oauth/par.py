"""Step 1 by the back channel — pushing the authorization request first (RFC 9126).

With PAR, AwesomeService's server POSTs the parameters of step 1 to Mockgram's
`pushed_authorization_request_endpoint` (found by discovery), authenticated like at the token
endpoint (§2), and gets a `request_uri` back (§2.2). The browser then carries only `client_id`
and `request_uri` (§4): nothing of the request can be read or changed on its way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
from sqlmodel import Session

from awesomeservice.backchannel import MockgramUnavailable, json_object
from awesomeservice.events import (
    AuthorizationRequestPushed,
    AuthorizationRequestSent,
    Events,
    RequestRefused,
)
from awesomeservice.oauth.authorization_request import AuthorizationRequest, build
from awesomeservice.oauth.discovery import ProviderMetadata, endpoint
from awesomeservice.oauth.token_endpoint import Client, TokenError, post
from shared.db import Database

# How the flow inspector names the front-channel half of a pushed request.
BY_REFERENCE = "Authorization request by reference: client_id and request_uri only (RFC 9126 §4)"


@dataclass(frozen=True)
class PushedRequest:
    """The pushed request (§2.2) and the two URLs: the one it replaces, the one John follows."""

    full: AuthorizationRequest  # every parameter in the address: the request without PAR
    short: AuthorizationRequest  # client_id and request_uri only (§4)
    request_uri: str
    expires_in: int


def par_endpoint(metadata: ProviderMetadata) -> str | None:
    """RFC 9126 §5: the provider's PAR endpoint, when its metadata names one."""
    return endpoint(metadata.document, "pushed_authorization_request_endpoint", required=False)


async def push(
    http: httpx.AsyncClient,
    events: Events,
    url: str,
    client: Client,
    full: AuthorizationRequest,
    *,
    authorization_endpoint: str,
) -> PushedRequest:
    """POST the request's parameters (§2.1); its request_uri (§2.2), or TokenError (§2.3)."""
    response = await post(http, url, client, dict(full.parameters))
    body = json_object(response)
    if response.status_code != 201:
        # §2.3: the error, as the token endpoint would answer it.
        error = body.get("error") if isinstance(body.get("error"), str) else "server_error"
        description = body.get("error_description")
        refused = TokenError(
            str(error),
            description[:300] if isinstance(description, str) else "",
            response.status_code,
        )
        await events.announce(RequestRefused(step=1, reason=refused.error))
        raise refused
    request_uri, expires_in = body.get("request_uri"), body.get("expires_in")
    # §2.2: both are REQUIRED.
    if not isinstance(request_uri, str) or not request_uri:
        raise MockgramUnavailable("bad_answer", "The pushed request's answer had no request_uri.")
    if not isinstance(expires_in, int) or isinstance(expires_in, bool) or expires_in <= 0:
        raise MockgramUnavailable("bad_answer", "The pushed request's answer had no expires_in.")
    # §4: the front channel carries client_id and request_uri, nothing else.
    short = build(
        authorization_endpoint, [("client_id", client.client_id), ("request_uri", request_uri)]
    )
    await events.announce(
        AuthorizationRequestPushed(
            request_uri=request_uri,
            expires_in=expires_in,
            full_length=len(full.url),
            short_length=len(short.url),
        )
    )
    return PushedRequest(full=full, short=short, request_uri=request_uri, expires_in=expires_in)


async def send_pushed(
    database: Database,
    events: Events,
    remember: Callable[[Session], AuthorizationRequest],
    *,
    http: httpx.AsyncClient,
    url: str,
    client: Client,
    authorization_endpoint: str,
) -> PushedRequest:
    """authorization_request.send with PAR: remember the request, push it, and announce the
    short URL the browser is really sent with."""
    full = await database.run(remember)
    pushed = await push(
        http, events, url, client, full, authorization_endpoint=authorization_endpoint
    )
    await events.announce(AuthorizationRequestSent(pushed.short.url, title=BY_REFERENCE))
    return pushed
