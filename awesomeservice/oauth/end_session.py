"""Signing out at the provider too — OIDC RP-Initiated Logout 1.0 §2–§3, the client's side.

After signing John out of AwesomeService, a session that began with "Log in with Mockgram" sends
his browser to the provider's `end_session_endpoint` (from discovery) with:
- `id_token_hint`: the id_token of that login, so the provider knows whom we signed out (§2);
- `client_id` (§2) and a `post_logout_redirect_uri` we registered (§3);
- a fresh `state` (§2), which must come back with him: only then do we know the provider ended
  his session and sent him back.
"""

from __future__ import annotations

from awesomeservice.oauth.authorization_request import build
from awesomeservice.oauth.discovery import ProviderMetadata, endpoint


def end_session_endpoint(metadata: ProviderMetadata) -> str | None:
    """RP-Initiated Logout §2.1: the provider's end_session_endpoint, when it names one."""
    return endpoint(metadata.document, "end_session_endpoint", required=False)


def end_session_url(
    metadata: ProviderMetadata,
    *,
    id_token_hint: str,
    client_id: str,
    post_logout_redirect_uri: str,
    state: str,
) -> str | None:
    """The logout request's URL (§2), or None when the provider offers no such endpoint."""
    url = end_session_endpoint(metadata)
    if url is None:
        return None
    parameters = [
        ("id_token_hint", id_token_hint),
        ("client_id", client_id),
        ("post_logout_redirect_uri", post_logout_redirect_uri),
        ("state", state),
    ]
    return build(url, parameters).url
