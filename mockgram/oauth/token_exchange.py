"""Token exchange: a narrower token, for someone downstream, from one the client holds (RFC 8693).

AwesomeService holds John's access token (from the code flow) and hands one print job to its
print lab. It should not hand over John's whole token: it trades it at the token endpoint for
one that carries only what the print lab needs (`scope`), only for the server it will be used
at (`resource` or `audience`), and that says who is acting for John (the `act` claim). The
checklist (§2.1, §2.2): the parameters → the subject token → the target → the scope → the token.

Decisions, written down:
- Only clients that registered the grant may exchange (RFC 7591 §2, checked by token.py:
  unauthorized_client otherwise), and only tokens issued to themselves: a client cannot turn
  a token it found into one of its own.
- The subject token is one of Mockgram's access tokens
  (`urn:ietf:params:oauth:token-type:access_token`), valid, unexpired, unrevoked and
  speaking for a person. Anything wrong with it is `invalid_request` — §2.2.2 says so in as
  many words ("if either the subject_token or actor_token are invalid for any reason, or are
  unacceptable based on policy … MUST be the invalid_request error code"), not invalid_grant.
- No actor_token: the acting party is the authenticated client itself, named in `act.sub`
  (§4.1); an `act` the subject token already carries is kept inside, so a chain stays visible.
- The scope may only narrow (§2.1, like a refresh, RFC 6749 §6): more is invalid_scope.
- `resource` and `audience` must be resources Mockgram knows (mockgram/oauth/resources.py),
  else invalid_target (§2.2.2); they become `aud`. None named: the photos API.
- The new token lives no longer than the subject token, has no refresh token, and belongs to
  the subject token's grant: when John takes AwesomeService's access away, it goes too.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from starlette.responses import Response

from mockgram.events import TokensIssued
from mockgram.models import Client, IssuedToken
from mockgram.oauth.back_channel import BackChannelCall
from mockgram.oauth.errors import NO_STORE_HEADERS, InvalidRequestError, InvalidScopeError
from mockgram.oauth.grants import kinds_in
from mockgram.oauth.resources import known_resources, requested_resources
from mockgram.scopes import normalize_scope
from mockgram.tokens import AccessToken, InvalidAccessToken, issue_access_token, verify_access_token
from shared.clock import utcnow

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
# RFC 8693 §3: the token type identifiers; Mockgram exchanges access tokens for access tokens.
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


def token_exchange_grant(call: BackChannelCall, client: Client, form: dict[str, str]) -> Response:
    """§2.1–§2.2: a narrower access token for the same person, with the client as actor."""
    check_parameters(form)
    subject = subject_token(call, client, form["subject_token"])
    settings = call.provider.settings
    # §2.1: resource (an absolute URI) and audience (a name; here, the same identifiers).
    targets = [form[name] for name in ("resource", "audience") if name in form]
    audience = requested_resources(targets, settings) or [settings.api_audience]
    scope = narrowed_scope(subject, form.get("scope"))
    record = call.session.get(IssuedToken, subject.jti)
    remaining = int(subject.claims.get("exp", 0)) - int(utcnow().timestamp())
    token, expires_in = issue_access_token(
        call.session,
        keys=call.provider.keys,
        settings=settings,
        user_id=subject.user_id,
        client_id=client.client_id,
        scope=scope,
        grant_id=None if record is None else record.grant_id,
        audience=audience,
        act=actor(client, subject.claims),
        max_ttl=remaining,
        jkt=call.dpop_jkt,  # RFC 9449 §5: bound to the key the request proved, if any
    )
    # §2.2.1: issued_token_type is required; no refresh token for a hand-me-down.
    body: dict[str, str | int] = {
        "access_token": token,
        "issued_token_type": ACCESS_TOKEN_TYPE,
        "token_type": "Bearer" if call.dpop_jkt is None else "DPoP",
        "expires_in": expires_in,
        "scope": scope,
    }
    issued = TokensIssued(
        user_id=subject.user_id,
        client_id=client.client_id,
        grant=TOKEN_EXCHANGE,
        kinds=kinds_in(body),
    )
    call.provider.events.announce(call.session, issued)
    call.session.commit()
    return JSONResponse(body, headers=NO_STORE_HEADERS)


def check_parameters(form: dict[str, str]) -> None:
    """§2.1: subject_token and its type are required; what Mockgram does not do is said so."""
    if "subject_token" not in form:
        raise InvalidRequestError("subject_token is required.")
    if "subject_token_type" not in form:
        raise InvalidRequestError("subject_token_type is required.")
    if form["subject_token_type"] != ACCESS_TOKEN_TYPE:
        raise InvalidRequestError(f"Mockgram exchanges access tokens only ({ACCESS_TOKEN_TYPE}).")
    # §2.1: actor_token_type goes with actor_token; Mockgram takes neither (the client acts).
    if "actor_token" in form or "actor_token_type" in form:
        raise InvalidRequestError("actor_token is not supported: the client itself is the actor.")
    requested = form.get("requested_token_type", ACCESS_TOKEN_TYPE)
    if requested != ACCESS_TOKEN_TYPE:
        raise InvalidRequestError(f"Mockgram issues access tokens only ({ACCESS_TOKEN_TYPE}).")


def subject_token(call: BackChannelCall, client: Client, token: str) -> AccessToken:
    """§2.2.2: a valid access token of this client's, for a person; else invalid_request."""
    settings = call.provider.settings
    try:
        subject = verify_access_token(
            call.session,
            token,
            keys=call.provider.keys,
            settings=settings,
            audiences=known_resources(settings),
        )
    except InvalidAccessToken as exc:
        raise InvalidRequestError(f"subject_token: {exc}") from exc
    # Policy (§2.2.2 "unacceptable based on policy"): only the client's own tokens.
    if subject.client_id != client.client_id:
        raise InvalidRequestError("subject_token was issued to another client.")
    if subject.user_id is None:
        raise InvalidRequestError("subject_token speaks for no person; there is nobody to act for.")
    return subject


def narrowed_scope(subject: AccessToken, requested: str | None) -> str:
    """The requested scope, never more than the subject token's (§2.1; else invalid_scope)."""
    if requested is None:
        return normalize_scope(subject.scopes)
    wanted = set(requested.split())
    if not wanted or not wanted <= subject.scopes:
        raise InvalidScopeError("An exchanged token may carry the subject token's scope or less.")
    return normalize_scope(wanted)


def actor(client: Client, claims: dict[str, Any]) -> dict[str, Any]:
    """§4.1: the acting party, the client; an earlier actor nests inside (a delegation chain)."""
    act: dict[str, Any] = {"sub": client.client_id}
    if isinstance(claims.get("act"), dict):
        act["act"] = claims["act"]
    return act
