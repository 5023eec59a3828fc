"""AwesomeService's settings: one object, read from the environment (prefix AWESOMESERVICE_)."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import default_sqlite_url


class AwesomeServiceSettings(BaseSettings):
    """Everything AwesomeService can be told; defaults give a working local demo."""

    model_config = SettingsConfigDict(env_prefix="AWESOMESERVICE_", populate_by_name=True)

    url: str = Field(default="http://localhost:8000", description="AwesomeService's public URL.")
    database_url: str = Field(default_factory=lambda: default_sqlite_url("awesomeservice.db"))
    mockgram_url: str = Field(
        default="http://localhost:8001",
        description="Mockgram's public URL (its issuer): where browsers are sent.",
    )
    mockgram_internal_url: str | None = Field(
        default=None,
        description="Where this back end reaches Mockgram (token, API); defaults to mockgram_url.",
    )
    client_id: str = "awesomeservice"
    client_secret: str = "awesomeservice-demo-secret"
    scope: str = "photos.read"
    demo_mode: bool = True
    demo_password: str = Field(
        default="awesome-demo", description="Password of the seeded AwesomeService account john."
    )
    seed_demo_data: bool = True
    secret_key: str | None = Field(
        default=None,
        description="Signs the session cookie; when unset, one is generated and kept in the DB.",
    )
    http_timeout_seconds: float = Field(
        default=5.0, description="Timeout for every call to Mockgram's back channel."
    )
    pending_authorization_seconds: int = Field(
        default=600, description="How long a 'Connect Mockgram' request (its state) stays usable."
    )

    @field_validator("url", "mockgram_url", "mockgram_internal_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _internal_defaults_to_public(self) -> AwesomeServiceSettings:
        if not self.mockgram_internal_url:
            self.mockgram_internal_url = self.mockgram_url
        return self

    @property
    def back_channel_url(self) -> str:
        """Base URL for server-to-server calls to Mockgram."""
        return self.mockgram_internal_url or self.mockgram_url

    @property
    def connect_redirect_uri(self) -> str:
        """The registered redirect URI of the 'Connect Mockgram' flow."""
        return f"{self.url}/connect/callback"
