"""Client authentication at the token endpoint (RFC 6749 §2.3.1, §3.2.1; RFC 7636 for `none`).

Three ways in, exactly one per request (§2.3: "MUST NOT use more than one method"):
- client_secret_basic: `Authorization: Basic base64(urlencode(id):urlencode(secret))`;
- client_secret_post: client_id and client_secret in the form body;
- none: a public client sends only its client_id (PKCE then stands in for the secret).
Mockgram accepts either secret method from any confidential client, whatever it registered as
preferred. A secret in the query string is refused: URLs end up in logs (§2.3.1).
A public client that sends a secret anyway (even an empty Basic password) gets `invalid_client`
(401): it has no secret, so whatever it sent cannot match — the same answer as a wrong secret.
The token, revocation (RFC 7009 §2.1) and introspection (RFC 7662 §2.1) endpoints share this.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from sqlmodel import Session
from starlette.requests import Request

from mockgram.defences import CLIENT_SECRET, Defences
from mockgram.deps import Provider
from mockgram.events import ClientAuthenticated, ClientAuthenticationFailed
from mockgram.models import Client
from mockgram.oauth.errors import InvalidClientError, InvalidRequestError
from shared.hashing import secret_matches

# RFC 6749 §5.2: after a failed Authorization header, answer 401 with a matching challenge.
BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="mockgram"'}


def authenticate_client(
    request: Request, form: dict[str, str], session: Session, provider: Provider
) -> Client:
    """The client making this request, authenticated, or an OAuthError; either is announced."""
    events = provider.events
    try:
        client, method = identify_client(request, form, session, provider.defences)
    except InvalidClientError as exc:
        claimed = form.get("client_id")
        failed = ClientAuthenticationFailed(user_id=None, client_id=claimed, reason=exc.description)
        events.announce(session, failed)
        raise
    events.announce(
        session, ClientAuthenticated(user_id=None, client_id=client.client_id, method=method)
    )
    return client


def identify_client(
    request: Request, form: dict[str, str], session: Session, defences: Defences
) -> tuple[Client, str]:
    """The client and the method it used (§2.3.1), exactly one method per request."""
    # §2.3.1: the secret must not travel in the request URI.
    if "client_secret" in request.query_params:
        raise InvalidRequestError("Never send client_secret in the query string.")
    header = request.headers.get("authorization")
    body_id = form.get("client_id")
    body_secret = form.get("client_secret")

    if header is not None:
        if body_secret is not None:
            raise InvalidRequestError("Use one way to authenticate: Basic or client_secret.")
        client_id, secret = parse_basic(header)
        if body_id is not None and body_id != client_id:
            raise InvalidRequestError("client_id in the body differs from the Basic credentials.")
        client = check_secret(session, client_id, secret, headers=BASIC_CHALLENGE)
        return client, "client_secret_basic"

    if body_secret is not None:
        if body_id is None:
            raise InvalidClientError("client_secret was sent without client_id.")
        return check_secret(session, body_id, body_secret, headers={}), "client_secret_post"

    if body_id is not None:
        client = session.get(Client, body_id)
        if client is None:
            raise InvalidClientError("Unknown client.")
        # Defence (client_secret): a confidential client must prove who it is (§3.2.1).
        if not client.is_public and defences.is_on(
            CLIENT_SECRET, session=session, client_id=body_id
        ):
            raise InvalidClientError("This client must authenticate with its secret.")
        return client, "none"

    raise InvalidClientError("Client authentication is required.", headers=BASIC_CHALLENGE)


def parse_basic(header: str) -> tuple[str, str]:
    """Decode `Basic …`: Base64, then split at the first colon, then form-url-decode (§2.3.1)."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise InvalidClientError("Malformed Authorization header.", headers=BASIC_CHALLENGE)
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidClientError("Malformed Basic credentials.", headers=BASIC_CHALLENGE) from exc
    raw_id, colon, raw_secret = decoded.partition(":")
    if not colon or not raw_id:
        raise InvalidClientError("Malformed Basic credentials.", headers=BASIC_CHALLENGE)
    return unquote_plus(raw_id), unquote_plus(raw_secret)


def check_secret(
    session: Session, client_id: str, secret: str, *, headers: dict[str, str]
) -> Client:
    """A confidential client whose stored hash matches the secret (constant-time)."""
    client = session.get(Client, client_id)
    if client is None or client.is_public or not secret_matches(client.secret_hash, secret):
        raise InvalidClientError("Client authentication failed.", headers=headers)
    return client
