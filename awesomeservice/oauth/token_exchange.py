"""Handing a print job to the print lab: token exchange (RFC 8693 §2).

AwesomeService holds John's access token. The print lab needs to read a few of his photos,
and nothing else: so AwesomeService trades John's token at Mockgram's token endpoint for a new
one with a narrower `scope`, for one `resource` (RFC 8707), which names AwesomeService as the
actor (`act`, RFC 8693 §4.1). John's own token never leaves AwesomeService.
"""

from __future__ import annotations

import httpx

from awesomeservice.backchannel import MockgramUnavailable, json_object
from awesomeservice.events import Events, RequestRefused
from awesomeservice.oauth.token_endpoint import Client, TokenError, TokenSet, post, token_set

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


def request_form(*, subject_token: str, scope: str, resource: str | None) -> dict[str, str]:
    """§2.1: the grant, the subject token and its type, and what the new token is for."""
    form = {
        "grant_type": TOKEN_EXCHANGE,
        "subject_token": subject_token,
        "subject_token_type": ACCESS_TOKEN_TYPE,
        "requested_token_type": ACCESS_TOKEN_TYPE,
        "scope": scope,
    }
    if resource:
        form["resource"] = resource
    return form


async def exchange(
    http: httpx.AsyncClient,
    events: Events,
    url: str,
    client: Client,
    *,
    subject_token: str,
    scope: str,
    resource: str | None = None,
) -> TokenSet:
    """§2.1–§2.2: a narrower access token for the print lab; §2.2.1's answer checked."""
    form = request_form(subject_token=subject_token, scope=scope, resource=resource)
    try:
        response = await post(http, url, client, form)
        tokens = token_set(response, scope)
    except TokenError as refused:
        await events.announce(RequestRefused(step=5, reason=refused.error))
        raise
    # §2.2.1: issued_token_type is required; we asked for an access token and use it as one.
    if json_object(response).get("issued_token_type") != ACCESS_TOKEN_TYPE:
        raise MockgramUnavailable("bad_answer", "The exchange did not return an access token.")
    return tokens
