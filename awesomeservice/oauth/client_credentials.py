"""The nightly print-queue job's own token: the client credentials grant (RFC 6749 §4.4).

No person is involved: AwesomeService authenticates as itself (RFC 6749 §2.3.1, the same
client_secret_basic as in step 5) and asks for a token for itself. It names the scope it
needs (§4.4.2) and the resource server it will call (RFC 8707 §2); the answer carries no
refresh token (§4.4.3), because the job can simply ask again next night.
"""

from __future__ import annotations

import httpx

from awesomeservice.events import Events, RequestRefused
from awesomeservice.oauth.token_endpoint import Client, TokenError, TokenSet, post, token_set

CLIENT_CREDENTIALS = "client_credentials"


def request_form(*, scope: str, resource: str | None) -> dict[str, str]:
    """§4.4.2: grant_type and scope; RFC 8707 §2: the resource, when one is named."""
    form = {"grant_type": CLIENT_CREDENTIALS, "scope": scope}
    if resource:
        form["resource"] = resource
    return form


async def machine_token(
    http: httpx.AsyncClient,
    events: Events,
    url: str,
    client: Client,
    *,
    scope: str,
    resource: str | None = None,
) -> TokenSet:
    """§4.4.2–§4.4.3: an access token for AwesomeService itself."""
    form = request_form(scope=scope, resource=resource)
    try:
        return token_set(await post(http, url, client, form), scope)
    except TokenError as refused:
        await events.announce(RequestRefused(step=5, reason=refused.error))
        raise
