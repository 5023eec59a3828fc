"""Which authorization server the photos API trusts: its metadata (RFC 9728).

Before asking for a token meant for the photos API, AwesomeService reads the API's own
description at `/.well-known/oauth-protected-resource/api` and checks it (RFC 9728 §3.3): the
`resource` is the identifier it will name with `resource=` (RFC 8707), and Mockgram is among
its `authorization_servers`. A document that fails either check is not used.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from awesomeservice.backchannel import MockgramUnavailable, json_object, send

METADATA_PATH = "/.well-known/oauth-protected-resource/api"


@dataclass(frozen=True)
class ResourceMetadata:
    resource: str
    authorization_servers: tuple[str, ...]
    scopes_supported: tuple[str, ...]


def _strings(value: object) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


async def photos_api_metadata(http: httpx.AsyncClient, *, issuer: str) -> ResourceMetadata:
    """GET the photos API's metadata; §3.3: its resource and its authorization server checked.

    The API lives at `{issuer}/api` (Mockgram is both), so that is the identifier expected."""
    response = await send(http, "GET", METADATA_PATH, headers={"Accept": "application/json"})
    if response.status_code != 200:
        raise MockgramUnavailable("bad_answer", "The photos API did not describe itself.")
    body = json_object(response)
    resource = body.get("resource")
    servers = _strings(body.get("authorization_servers"))
    # §3.3: the resource is the API's identifier: the URL the metadata was derived from.
    if resource != f"{issuer}/api":
        raise MockgramUnavailable("bad_answer", "The photos API's metadata names another resource.")
    if issuer not in servers:
        raise MockgramUnavailable("bad_answer", "The photos API does not trust Mockgram's tokens.")
    return ResourceMetadata(resource, servers, _strings(body.get("scopes_supported")))
