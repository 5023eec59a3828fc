"""Steps 5–6 of 'Log in with Mockgram' — OpenID Connect Core 1.0 §3.1.3 and §5.3.

The code is traded as the login client; the answer to an `openid` request must hold an
id_token (§3.1.3.3), which is validated with the nonce the request sent (§3.1.3.7,
awesomeservice/oauth/id_token.py); then userinfo, whose `sub` must be the id_token's (§5.3.2,
SECURITY.md C5). Which account that person gets is not protocol: awesomeservice/linked_accounts.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from awesomeservice.backchannel import back_channel, json_object, send
from awesomeservice.events import Events, RequestRefused
from awesomeservice.models import PendingLogin
from awesomeservice.oauth.discovery import Discovery, ProviderMetadata
from awesomeservice.oauth.id_token import IdToken
from awesomeservice.oauth.refused import Refused
from awesomeservice.oauth.token_endpoint import (
    TokenSet,
    checked_id_token,
    client_for,
    redeem_code,
)
from awesomeservice.settings import AwesomeServiceSettings


class LoginRefused(Refused):
    """The login cannot go on."""


@dataclass(frozen=True)
class LoginAnswer:
    """What the provider said about who logged in: the checked id_token and userinfo."""

    id_token: IdToken
    userinfo: dict[str, Any]
    raw_id_token: str = ""  # the id_token as received: the sign-out's id_token_hint


async def fetch_userinfo(
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    metadata: ProviderMetadata,
    tokens: TokenSet,
    id_token: IdToken,
) -> dict[str, Any]:
    """OIDC Core §5.3: the userinfo claims; their sub must be the id_token's (§5.3.2, C5)."""
    if metadata.userinfo_endpoint is None:
        return {}
    response = await send(
        http,
        "GET",
        back_channel(metadata.userinfo_endpoint, settings),
        headers={"Authorization": f"Bearer {tokens.access_token}", "Accept": "application/json"},
    )
    if response.status_code != 200:
        raise LoginRefused("userinfo_refused", "OIDC Core §5.3.3", str(response.status_code))
    claims = json_object(response)
    # OIDC Core §5.3.2: "The sub Claim in the UserInfo Response MUST be verified to exactly
    # match the sub Claim in the ID Token; if they do not match, the UserInfo Response values
    # MUST NOT be used."
    if claims.get("sub") != id_token.sub:
        raise LoginRefused("userinfo_sub_mismatch", "OIDC Core §5.3.2")
    return claims


async def finish_login(
    http: httpx.AsyncClient,
    events: Events,
    settings: AwesomeServiceSettings,
    discovery: Discovery,
    metadata: ProviderMetadata,
    *,
    pending: PendingLogin,
    code: str,
) -> LoginAnswer:
    """Code for tokens, the id_token required and checked, then userinfo."""
    tokens = await redeem_code(
        http,
        events,
        back_channel(metadata.token_endpoint, settings),
        client_for(metadata, settings.login_client_id, settings.login_client_secret),
        code=code,
        redirect_uri=pending.redirect_uri,
        code_verifier=pending.code_verifier,
        requested_scope=settings.login_scope,
    )
    try:
        id_token = await checked_id_token(
            http,
            events,
            discovery,
            metadata,
            client_id=settings.login_client_id,
            tokens=tokens,
            nonce=pending.nonce,
        )
        # OIDC Core §3.1.3.3: a successful token response to an openid request has an id_token.
        if id_token is None:
            raise LoginRefused("id_token_missing", "OIDC Core §3.1.3.3")
        userinfo = await fetch_userinfo(http, settings, metadata, tokens, id_token)
    except LoginRefused as refused:
        await events.announce(RequestRefused(step=5, reason=refused.reason))
        raise
    return LoginAnswer(id_token, userinfo, tokens.id_token or "")
