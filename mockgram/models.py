"""Mockgram's tables: people and photos, registered clients, and the OAuth records.

Everything that must outlive a request lives here, so several workers or replicas can serve
one Mockgram: pending authorization requests, codes, issued tokens, consents, signing keys.
Secrets (passwords, client secrets, codes) are stored hashed, never in the clear.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.clock import utcnow
from shared.login_throttle import FailedSignInFields, TrustedSignInAddressFields
from shared.sessions import SessionFields


class MockgramTable(SQLModel, registry=registry()):
    """Base of Mockgram's tables: its own metadata, apart from AwesomeService's."""


class User(MockgramTable, table=True):
    """A person who signs in; what tokens say about them (mockgram/people.py writes these)."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=64)
    name: str = Field(max_length=120)
    email: str = Field(max_length=200)  # "" when the person has none: no email claim then
    email_verified: bool = False  # OIDC Core §5.1; the seeded demo people are verified
    password_hash: str
    # OIDC Core §2: the subject identifier; None means str(id), what the demo people have.
    sub: str | None = Field(default=None, unique=True, max_length=255)
    # Further claims, standard (given_name, locale…) or an app's own (groups, tenant…).
    extra_claims: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict)
    )
    # Release rules (mockgram/oauth/claims.py): claim names always put in the id_token and the
    # access token; at userinfo, None means every claim of the app's own.
    id_token_claims: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=list)
    )
    access_token_claims: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=list)
    )
    userinfo_claims: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def subject(self) -> str:
        """The `sub` every token and userinfo answer carries for this person (OIDC Core §2)."""
        return self.sub or str(self.id)


class Photo(MockgramTable, table=True):
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True)
    caption: str = Field(max_length=500)
    taken_at: datetime
    content_type: str = "image/png"
    width: int = 0
    height: int = 0
    image: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Client(MockgramTable, table=True):
    """A registered app (step 0). `secret_hash` is None for public clients."""

    client_id: str = Field(primary_key=True, max_length=100)
    name: str = Field(max_length=120)
    client_type: str = "confidential"  # "confidential" or "public" (RFC 6749 §2.1)
    secret_hash: str | None = None
    redirect_uris: str = ""  # newline-separated, compared as exact strings (RFC 6749 §3.1.2)
    allowed_scopes: str = "photos.read"  # space-separated
    token_endpoint_auth_method: str = "client_secret_basic"
    # RFC 7591 §2: the response_type words this client may combine (space-separated).
    response_types: str = "code"
    # RFC 7591 §2: the grant types it registered (space-separated); "" means those its
    # response types need (mockgram/clients.py allowed_grant_types).
    grant_types: str = ""
    # OIDC Dynamic Client Registration §2: RS256 (default) or ES256.
    id_token_signed_response_alg: str = "RS256"
    # RFC 9449 §5.2: every token request of this client must carry a DPoP proof.
    dpop_bound_access_tokens: bool = False
    owner_user_id: int | None = Field(default=None, foreign_key="user.id")
    # False for apps anyone registered (RFC 7591, the developer portal): Mockgram checked
    # neither their name nor their redirect URIs. Seeded and configured clients are verified.
    verified: bool = False
    # RFC 9126 §6: this client's authorization requests must be pushed first (PAR).
    require_pushed_authorization_requests: bool = False
    # FAPI 2.0 Security Profile for this client: PAR, PKCE S256, response_type code only
    # (mockgram/oauth/fapi.py).
    fapi2_security_profile: bool = False
    # OIDC RP-Initiated Logout §3.1: where the app may ask to be sent after signing out
    # (newline-separated, compared as exact strings).
    post_logout_redirect_uris: str = ""
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def post_logout_redirect_uri_list(self) -> list[str]:
        return [uri for uri in self.post_logout_redirect_uris.split("\n") if uri]

    @property
    def redirect_uri_list(self) -> list[str]:
        return [uri for uri in self.redirect_uris.split("\n") if uri]

    @property
    def scope_set(self) -> set[str]:
        return set(self.allowed_scopes.split())

    @property
    def is_public(self) -> bool:
        return self.client_type == "public"


class AuthorizationRequest(MockgramTable, table=True):
    """A validated authorization request waiting for John to log in and consent (steps 2–3)."""

    id: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(foreign_key="client.client_id", index=True)
    redirect_uri: str
    redirect_uri_in_request: bool = True
    response_type: str = "code"
    response_mode: str = "query"
    scope: str = ""
    state: str | None = None
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    # OIDC Core §3.1.2.1: prompt (space-separated), max_age, login_hint as asked.
    prompt: str | None = None
    max_age: int | None = None
    login_hint: str | None = None
    # RFC 8707 §2: the resource server the client named, if it named one.
    resource: str | None = None
    # Set when prompt=login or max_age demands a new sign-in; cleared by that sign-in.
    force_login: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    completed_at: datetime | None = None


class PushedAuthorizationRequest(MockgramTable, table=True):
    """A request a client pushed (RFC 9126 §2), waiting for the browser to bring its request_uri.

    `params` is the validated request as sent (name → values); the authorization endpoint
    validates it again when the request_uri arrives, then `used_at` makes it single use (§4).
    """

    request_uri: str = Field(primary_key=True, max_length=200)
    client_id: str = Field(foreign_key="client.client_id", index=True)
    params: dict[str, list[str]] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict)
    )
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    used_at: datetime | None = None


class AuthorizationCode(MockgramTable, table=True):
    """An issued code (step 4), bound to client, redirect URI, user, scope and PKCE challenge."""

    code_hash: str = Field(primary_key=True, max_length=128)
    client_id: str = Field(foreign_key="client.client_id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    redirect_uri: str
    redirect_uri_in_request: bool = True
    scope: str
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    auth_time: datetime | None = None
    resource: str | None = None  # RFC 8707 §2: what the authorization request named
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    redeemed_at: datetime | None = None


class DeviceAuthorization(MockgramTable, table=True):
    """A device authorization request (RFC 8628 §3.1), from the device's ask to its tokens.

    The device code is kept only as its hash, the user code too (John types it; a lookup by
    hash finds it). `status` is pending until John approves or denies on /device; polling
    stamps `next_poll_at` (§3.5 slow_down) and a redemption stamps `redeemed_at` (single use).
    """

    __tablename__ = "device_authorization"

    device_code_hash: str = Field(primary_key=True, max_length=128)
    user_code_hash: str = Field(index=True, unique=True, max_length=128)
    client_id: str = Field(foreign_key="client.client_id", index=True)
    scope: str
    status: str = Field(default="pending", max_length=16)  # pending, approved or denied
    interval: int = 5  # seconds between polls; slow_down adds 5 (RFC 8628 §3.5)
    polls: int = 0  # how many times the device asked so far
    next_poll_at: datetime | None = None
    user_id: int | None = Field(default=None, foreign_key="user.id")
    granted_scope: str | None = None  # what John allowed: the request's scope, or less
    auth_time: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    decided_at: datetime | None = None
    redeemed_at: datetime | None = None


class IssuedToken(MockgramTable, table=True):
    """One access token, by its `jti`: what the resource server checks for revocation."""

    jti: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(foreign_key="client.client_id", index=True)
    # None for a token the client got for itself (client credentials, RFC 6749 §4.4): no person.
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    scope: str
    # RFC 8707 §2: the resource servers it is for (its `aud`, space-separated).
    audience: str = ""
    code_hash: str | None = Field(default=None, index=True)
    issued_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None
    # The grant (refresh-token family) it belongs to: revoking the grant revokes it too.
    grant_id: str | None = Field(default=None, index=True, max_length=64)


class Consent(MockgramTable, table=True):
    """What John granted an app, per client and scope; revocable on 'Apps with access'."""

    __table_args__ = (UniqueConstraint("user_id", "client_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    client_id: str = Field(foreign_key="client.client_id", index=True)
    scope: str
    granted_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class SigningKey(MockgramTable, table=True):
    """A private JWK (JSON) that signs tokens; persisted so tokens survive a restart."""

    kid: str = Field(primary_key=True, max_length=64)
    alg: str = "RS256"
    private_jwk: str
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class AppSecret(MockgramTable, table=True):
    """Generated secrets every worker must share (the session-cookie key when none is set)."""

    name: str = Field(primary_key=True, max_length=64)
    value: str


class RefreshToken(MockgramTable, table=True):
    """One refresh token (RFC 6749 §1.5, §6), stored as its SHA-256 only.

    Tokens of one grant share a `grant_id` (the family): each use rotates to a new token and
    stamps `used_at` on the old one; a second use of a used token revokes the family (RFC 9700
    §4.14.2). `expires_at` is the family's absolute expiry, carried over on rotation.
    """

    token_hash: str = Field(primary_key=True, max_length=128)
    grant_id: str = Field(index=True, max_length=64)
    client_id: str = Field(foreign_key="client.client_id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    scope: str  # what John granted: a refresh may ask for this or less, never more (§6)
    auth_time: datetime | None = None  # when John signed in: the refreshed id_token's auth_time
    resource: str | None = None  # RFC 8707: the resource the grant is for (None: the photos API)
    issued_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None
    # RFC 9449 §5: a public client's refresh token is bound to its DPoP key (the thumbprint).
    jkt: str | None = Field(default=None, max_length=64)


class ActivityEvent(MockgramTable, table=True):
    """One thing that happened to a person's account: a sign-in, a consent, a code, a token,
    or a refused attempt. Shown to them on their activity page; never holds a secret."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    kind: str = Field(max_length=40)
    client_id: str | None = Field(default=None, max_length=200)
    detail: str = Field(default="", max_length=500)
    at: datetime = Field(default_factory=utcnow, index=True)


class FailedSignIn(FailedSignInFields, MockgramTable, table=True):
    """One wrong password at Mockgram's sign-in (shared/login_throttle.py, SECURITY.md item 34)."""


class TrustedSignInAddress(TrustedSignInAddressFields, MockgramTable, table=True):
    """An address someone signed in to Mockgram from (shared/login_throttle.py)."""

    __table_args__ = (UniqueConstraint("username_hash", "address_hash"),)


class BrowserSession(SessionFields, MockgramTable, table=True):
    """A signed-in (or anonymous) browser's session; the cookie holds only its random id."""

    __tablename__ = "browser_session"


class RateLimitCount(MockgramTable, table=True):
    """How many times one client address did one kind of thing in one fixed window.

    mockgram/rate_limits.py counts registrations and authorization requests here, so every
    worker and replica sees the same counts; the address is kept only as a hash, and a row is
    dropped once its window has ended.
    """

    __table_args__ = (UniqueConstraint("kind", "address_hash", "window_start"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    address_hash: str = Field(max_length=64)
    window_start: datetime
    window_end: datetime = Field(index=True)
    count: int = 0


class DpopProofSeen(MockgramTable, table=True):
    """A DPoP proof's `jti`, remembered until the proof would be too old anyway (RFC 9449 §11.1).

    In the database, not in memory, so every worker and replica refuses the same replay; a row
    is swept once `expires_at` has passed (mockgram/oauth/dpop.py).
    """

    __tablename__ = "dpop_proof_seen"

    key: str = Field(primary_key=True, max_length=64)  # SHA-256 of the key thumbprint and jti
    expires_at: datetime = Field(index=True)
