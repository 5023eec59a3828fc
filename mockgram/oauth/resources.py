"""Which resource server a token is for: resource indicators (RFC 8707) and audiences (RFC 8693).

A client may say where it means to use a token: `resource=<absolute URI>` at the authorization
and token endpoints (RFC 8707 §2), and at token exchange also `audience=<name>` (RFC 8693
§2.1). Mockgram knows its photos API (`{issuer}/api`, the default audience of every access
token) and whatever `MOCKGRAM_EXTRA_RESOURCES` adds; anything else is refused with
`invalid_target`, so a token can never be minted for a server Mockgram does not vouch for. The
named resources become the access token's `aud` (RFC 8707 §2.2, RFC 9068 §3).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from mockgram.oauth.errors import InvalidTargetError
from mockgram.settings import MockgramSettings


def known_resources(settings: MockgramSettings) -> list[str]:
    """The resource identifiers Mockgram issues tokens for: the photos API first."""
    return [settings.api_audience, *settings.extra_resources]


def requested_resources(values: list[str], settings: MockgramSettings) -> list[str]:
    """RFC 8707 §2: each `resource` an absolute URI without fragment, one Mockgram knows."""
    for value in values:
        try:
            parts = urlsplit(value)
        except ValueError:  # "http://[", say: not a URI at all
            raise InvalidTargetError("resource is not a URI.") from None
        # §2: "MUST be an absolute URI … MUST NOT include a fragment component".
        if not parts.scheme or not parts.netloc or "#" in value:
            raise InvalidTargetError("resource must be an absolute URI without a fragment.")
        if value not in known_resources(settings):
            raise InvalidTargetError(f"Mockgram issues no tokens for the resource {value}.")
    return list(dict.fromkeys(values))


def audience_for(resource: str | None, settings: MockgramSettings) -> list[str]:
    """The token's audience: the named resource, or the photos API when none was named.

    One `resource` per request: RFC 8707 §2 allows several, but Mockgram's forms take each
    parameter once (mockgram/oauth/back_channel.py), and one audience per token is the safer
    habit anyway (RFC 8707 §1: a token for many servers can be replayed at any of them)."""
    return requested_resources([resource], settings) if resource else [settings.api_audience]


def within(requested: list[str], allowed: list[str]) -> list[str]:
    """RFC 8707 §2.2: at the token endpoint, a subset of what the authorization request named."""
    if not set(requested) <= set(allowed):
        raise InvalidTargetError("resource must be one the authorization request named.")
    return requested
