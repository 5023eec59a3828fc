"""Mockgram's settings: one object, read from the environment (prefix MOCKGRAM_), injected."""

from __future__ import annotations

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import default_sqlite_url

DEFAULT_DEMO_PASSWORD = "mockgram-demo"
DEFAULT_CLIENT_ID = "awesomeservice"
DEFAULT_CLIENT_SECRET = "awesomeservice-demo-secret"


class MockgramSettings(BaseSettings):
    """Everything Mockgram can be told; defaults give a working local demo."""

    model_config = SettingsConfigDict(env_prefix="MOCKGRAM_", populate_by_name=True)

    issuer: str = Field(
        default="http://localhost:8001",
        description="Mockgram's public URL: the issuer in metadata, tokens and `iss`.",
    )
    database_url: str = Field(default_factory=lambda: default_sqlite_url("mockgram.db"))
    demo_mode: bool = True
    demo_password: str = DEFAULT_DEMO_PASSWORD
    seed_demo_data: bool = True
    secret_key: str | None = Field(
        default=None,
        description="Signs the session cookie; when unset, one is generated and stored.",
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
        description="Growing delays after wrong passwords (mockgram/login_throttle.py).",
    )
    code_ttl_seconds: int = 600
    access_token_ttl_seconds: int = 900
    # RFC 9700 §4.14.2: a refresh-token family ends this long after the sign-in, rotation or not.
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    id_token_ttl_seconds: int = 600  # OIDC Core §2 exp: the id_token is read once, at sign-in
    pending_request_ttl_seconds: int = 1800
    # Teaching aids: the guided tour (on by default in the demo) and the attack lab's lab mode.
    tour_default: bool = True
    lab_mode: bool = Field(
        default=False,
        description="Lab mode: AwesomeService's attack lab may switch one defence off for one run.",
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
        default=DEFAULT_CLIENT_SECRET,
        validation_alias=AliasChoices(
            "AWESOMESERVICE_CLIENT_SECRET", "awesomeservice_client_secret"
        ),
    )

    @field_validator("issuer", "awesomeservice_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        # RFC 8414 §2: the issuer is compared as a string; one canonical form, no trailing slash.
        return value.rstrip("/")

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
