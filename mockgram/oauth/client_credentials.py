"""The client credentials grant: an app asks for a token for itself (RFC 6749 §4.4).

No person is present and none is named: AwesomeService's nightly print-queue job signs in as
AwesomeService (its client secret) and gets an access token that speaks for AwesomeService
alone. The checklist: a confidential client (§4.4.2) → the scope it may have (§3.3) → the
resource it names (RFC 8707) → the token, and no refresh token (§4.4.3).

Decisions, written down:
- Only confidential clients: the grant is the client's secret, and a public client has none
  (§4.4: "MUST only be used by confidential clients"); a public one gets unauthorized_client.
- The scope is what the client registered, minus what only a person can give: `openid`,
  `profile`, `email` (there is nobody to name) and `offline_access` (no refresh token here).
  Asking for those, or for anything unregistered, is invalid_scope (§5.2); asking for nothing
  gets the rest of what it registered (§3.3: the server's default).
- The token's `sub` is the client_id (RFC 9068 §2.2) and it is stored without a user, so every
  reader of tokens (photos API, userinfo, introspection) knows it speaks for nobody.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.responses import Response

from mockgram.events import TokensIssued
from mockgram.models import Client
from mockgram.oauth.back_channel import BackChannelCall
from mockgram.oauth.errors import NO_STORE_HEADERS, InvalidScopeError, UnauthorizedClientError
from mockgram.oauth.grants import kinds_in
from mockgram.oauth.resources import audience_for
from mockgram.scopes import normalize_scope
from mockgram.tokens import issue_access_token

CLIENT_CREDENTIALS = "client_credentials"
# Scopes that only mean something when a person is there to grant them (OIDC Core §5.4, §11).
PERSON_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})


def client_credentials_grant(
    call: BackChannelCall, client: Client, form: dict[str, str]
) -> Response:
    """§4.4.2–§4.4.3: an access token for the client itself."""
    # §4.4: confidential clients only; the client was authenticated before we got here.
    if client.is_public:
        raise UnauthorizedClientError("The client credentials grant is for confidential clients.")
    scope = machine_scope(client, form.get("scope"))
    settings = call.provider.settings
    audience = audience_for(form.get("resource"), settings)
    token, expires_in = issue_access_token(
        call.session,
        keys=call.provider.keys,
        settings=settings,
        user_id=None,
        client_id=client.client_id,
        scope=scope,
        audience=audience,
        jkt=call.dpop_jkt,  # RFC 9449 §5: bound to the key the request proved, if any
    )
    # §4.4.3: "A refresh token SHOULD NOT be included."
    body: dict[str, str | int] = {
        "access_token": token,
        "token_type": "Bearer" if call.dpop_jkt is None else "DPoP",
        "expires_in": expires_in,
        "scope": scope,
    }
    issued = TokensIssued(
        user_id=None, client_id=client.client_id, grant=CLIENT_CREDENTIALS, kinds=kinds_in(body)
    )
    call.provider.events.announce(call.session, issued)
    call.session.commit()
    return JSONResponse(body, headers=NO_STORE_HEADERS)


def machine_scope(client: Client, requested: str | None) -> str:
    """§3.3: what the client registered and a machine can hold; the default is all of that."""
    allowed = client.scope_set - PERSON_SCOPES
    if requested is None:
        if not allowed:
            raise InvalidScopeError(
                "This client registered no scope a token without a person can hold."
            )
        return normalize_scope(allowed)
    wanted = set(requested.split())
    if wanted & PERSON_SCOPES:
        names = " ".join(sorted(wanted & PERSON_SCOPES))
        raise InvalidScopeError(f"{names}: only a person can grant that; no person is here.")
    if not wanted or not wanted <= client.scope_set:
        raise InvalidScopeError("Ask only for scopes this client registered.")
    return normalize_scope(wanted)
