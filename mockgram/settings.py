"""Mockgram's settings: one object, read from the environment (prefix MOCKGRAM_), injected."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mockgram.scopes import ScopeInfo
from shared import demo as demo_values
from shared.settings import default_sqlite_url

DEFAULT_CLIENT_ID = "awesomeservice"


class MockgramSettings(BaseSettings):
    """Everything Mockgram can be told; with `demo` on, the defaults give the local demo."""

    model_config = SettingsConfigDict(env_prefix="MOCKGRAM_", populate_by_name=True)

    issuer: str = Field(
        default="http://localhost:8001",
        description="Mockgram's public URL: the issuer in metadata, tokens and `iss`.",
    )
    database_url: str = Field(default_factory=lambda: default_sqlite_url("mockgram.db"))
    demo: bool = Field(
        default=False,
        description="Demo mode: the published demo secrets, shown on pages (shared/demo.py).",
    )
    demo_password: str = Field(
        default="", description="The seeded users' password; unset: the demo's, or generated."
    )
    seed_demo_data: bool = True
    secret_key: str | None = Field(
        default=None,
        description="Keys the stored session ids; when unset, one is generated and stored.",
    )
    # OWASP Session Management: an idle and an absolute timeout, enforced on the server.
    session_idle_seconds: int = Field(
        default=30 * 60, ge=60, description="A session ends after this long without a request."
    )
    session_absolute_seconds: int = Field(
        default=8 * 3600, ge=60, description="A session ends this long after its sign-in."
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies (comma-separated addresses or networks, '*' for any) whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed; empty: none.",
    )
    registration_open: bool = Field(
        default=True, description="Whether the RFC 7591 registration endpoint accepts requests."
    )
    registration_token: str | None = Field(
        default=None,
        description="When set, POST /oauth/register needs `Authorization: Bearer <it>` "
        "(RFC 7591 §3: an initial access token).",
    )
    # mockgram/rate_limits.py: per client address and hour; 0 switches a limit off.
    registrations_per_hour: int = Field(default=20, ge=0)
    authorization_requests_per_hour: int = Field(default=600, ge=0)
    login_throttle: bool = Field(
        default=True,
        description="Growing delays after wrong passwords (shared/login_throttle.py).",
    )
    capture_requests: bool = Field(
        default=True,
        description="Keep each protocol request, secrets masked, for /developers/requests.",
    )
    capture_limit: int = Field(
        default=1000, ge=1, description="How many captured requests to keep (the newest)."
    )
    code_ttl_seconds: int = 600
    access_token_ttl_seconds: int = 900
    # RFC 9700 §4.14.2: a refresh-token family ends this long after the sign-in, rotation or not.
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    id_token_ttl_seconds: int = 600  # OIDC Core §2 exp: the id_token is read once, at sign-in
    pending_request_ttl_seconds: int = 1800
    # RFC 9126 §2.2: a pushed request's request_uri is short-lived (and single use, §4).
    par_request_uri_ttl_seconds: int = Field(default=60, ge=1, le=600)
    require_pushed_authorization_requests: bool = Field(
        default=False,
        description="Every client must push its authorization request first (RFC 9126 §5).",
    )
    # RFC 8628 (mockgram/oauth/device.py): how long a device code lives, the polling interval
    # a device is told to keep (§3.2, §3.5), and how many user codes one address may type in
    # an hour (§5.1: against guessing; 0 switches the limit off).
    device_code_ttl_seconds: int = Field(default=600, ge=1, le=1800)
    device_poll_interval_seconds: int = Field(default=5, ge=1, le=60)
    user_code_entries_per_hour: int = Field(default=20, ge=0)
    # RFC 9449 (DPoP, mockgram/oauth/dpop.py): how old a proof's iat may be, and whether every
    # proof must carry a nonce Mockgram handed out (§8, §9).
    dpop_proof_max_age_seconds: int = Field(
        default=300, ge=10, le=3600, description="How long a DPoP proof is accepted after its iat."
    )
    dpop_require_nonce: bool = Field(
        default=False,
        description="Every DPoP proof must carry a DPoP-Nonce from Mockgram (RFC 9449 §8, §9).",
    )
    # The configuration file (mockgram/config.py): people, clients, scopes, keys, lifetimes.
    # What it sets fills in the settings below that the environment or the caller left unset.
    config: Path | None = Field(
        default=None, description="A TOML configuration file; the built-in demo when unset."
    )
    # RFC 7518 §3.1: what access tokens are signed with (id_tokens follow each client's choice).
    signing_alg: Literal["RS256", "ES256"] = "RS256"
    signing_key: str | None = Field(
        default=None,
        description="A fixed private key (JWK JSON or PEM) for signing_alg, so tests can pin it.",
    )
    signing_key_id: str | None = None  # its kid; else the JWK's own, else its thumbprint
    # Scopes the configuration adds or rewords (consent wording, claims they release).
    configured_scopes: tuple[ScopeInfo, ...] = ()
    # Teaching aids: the guided tour (on by default in the demo) and the attack lab's lab mode.
    tour_default: bool = True
    lab_mode: bool = Field(
        default=False,
        description="Lab mode: AwesomeService's attack lab may switch one defence off for one run.",
    )
    extra_resources: list[str] = Field(
        default_factory=list,
        description="Resource servers besides the photos API that a client may name with "
        "`resource` or `audience` (RFC 8707, RFC 8693): absolute URIs, as a JSON list.",
    )
    # For other projects' test suites (mockgram/control/, mockgram/testing/): both off by default.
    control: bool | None = Field(
        default=None,
        description="The /_control/ HTTP API; on when control_secret is set, unless false.",
    )
    control_secret: str | None = Field(
        default=None, description="The bearer secret the /_control/ API demands (required)."
    )
    non_interactive: bool = Field(
        default=False,
        description="Sign in the queued (or non_interactive_user) person and consent at once.",
    )
    non_interactive_user: str = Field(
        default="john", description="Who signs in non-interactively when nobody is queued."
    )

    # The seeded AwesomeService client reads the same variables AwesomeService itself reads.
    awesomeservice_url: str = Field(
        default="http://localhost:8000",
        validation_alias=AliasChoices("AWESOMESERVICE_URL", "awesomeservice_url"),
    )
    awesomeservice_client_id: str = Field(
        default=DEFAULT_CLIENT_ID,
        validation_alias=AliasChoices("AWESOMESERVICE_CLIENT_ID", "awesomeservice_client_id"),
    )
    awesomeservice_client_secret: str = Field(
        default="",  # unset: the demo's, or generated and kept in the database
        validation_alias=AliasChoices(
            "AWESOMESERVICE_CLIENT_SECRET", "awesomeservice_client_secret"
        ),
    )
    debugger_client_secret: str = Field(
        default="",  # the seeded `oauth-debugger` client's; unset: as above
        validation_alias=AliasChoices(
            "AWESOMESERVICE_DEBUGGER_CLIENT_SECRET", "debugger_client_secret"
        ),
    )

    @field_validator("issuer", "awesomeservice_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        # RFC 8414 §2: the issuer is compared as a string; one canonical form, no trailing slash.
        return value.rstrip("/")

    @model_validator(mode="after")
    def _published_secrets_only_in_demo(self) -> MockgramSettings:
        demo_values.apply_demo_mode(
            self,
            "MOCKGRAM_",
            {
                "demo_password": ("MOCKGRAM_DEMO_PASSWORD", demo_values.MOCKGRAM_PASSWORD),
                "awesomeservice_client_secret": (
                    "AWESOMESERVICE_CLIENT_SECRET",
                    demo_values.CLIENT_SECRET,
                ),
                "debugger_client_secret": (
                    "AWESOMESERVICE_DEBUGGER_CLIENT_SECRET",
                    demo_values.DEBUGGER_CLIENT_SECRET,
                ),
            },
        )
        return self

    @field_validator("registration_token")
    @classmethod
    def _empty_token_is_none(cls, value: str | None) -> str | None:
        # MOCKGRAM_REGISTRATION_TOKEN= (empty) means no token, not a token nobody can send.
        return value or None

    @field_validator("code_ttl_seconds")
    @classmethod
    def _code_ttl_at_most_ten_minutes(cls, value: int) -> int:
        # RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes is RECOMMENDED."
        if not 1 <= value <= 600:
            raise ValueError("code_ttl_seconds must be between 1 and 600")
        return value

    @model_validator(mode="after")
    def _control_needs_its_secret(self) -> MockgramSettings:
        if self.control and not self.control_secret:
            raise ValueError("MOCKGRAM_CONTROL=true needs MOCKGRAM_CONTROL_SECRET (its bearer).")
        return self

    @property
    def control_enabled(self) -> bool:
        """The control plane answers when a secret is set, unless MOCKGRAM_CONTROL=false."""
        return bool(self.control_secret) and self.control is not False

    @property
    def api_audience(self) -> str:
        """The resource server's identifier: the `aud` of every access token (RFC 9068 §3)."""
        return f"{self.issuer}/api"

    @property
    def awesomeservice_redirect_uris(self) -> list[str]:
        """Redirect URIs the seeded AwesomeService client is registered with."""
        return [
            f"{self.awesomeservice_url}/connect/callback",
            f"{self.awesomeservice_url}/login/callback",
            f"{self.awesomeservice_url}/debugger/callback",
        ]

    @property
    def spa_implicit_redirect_uri(self) -> str:
        """The implicit-flow demo page, a public client: kept to show what the flow exposes."""
        return f"{self.awesomeservice_url}/spa/implicit"

    @property
    def spa_pkce_redirect_uri(self) -> str:
        """The code + PKCE demo page: a public client done the recommended way."""
        return f"{self.awesomeservice_url}/spa/pkce"
