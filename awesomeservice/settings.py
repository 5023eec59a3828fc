"""AwesomeService's settings: one object, read from the environment (prefix AWESOMESERVICE_)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared import demo as demo_values
from shared.settings import default_sqlite_url


class AwesomeServiceSettings(BaseSettings):
    """Everything AwesomeService can be told; with `demo` on, the defaults give the demo."""

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
    client_secret: str = Field(
        default="", description="Unset: the demo's in demo mode; otherwise it must be set."
    )
    scope: str = "photos.read"
    demo: bool = Field(
        default=False,
        description="Demo mode: the published demo secrets, shown on pages (shared/demo.py).",
    )
    demo_password: str = Field(
        default="", description="Password of the seeded account john; unset: demo's or generated."
    )
    seed_demo_data: bool = True
    secret_key: str | None = Field(
        default=None,
        description="Keys the stored session ids; when unset, one is generated and kept in the DB.",
    )
    # OWASP Session Management: an idle and an absolute timeout, enforced on the server. Longer
    # than Mockgram's: the print shop holds no password of John's and no way to get one.
    session_idle_seconds: int = Field(
        default=2 * 3600, ge=60, description="A session ends after this long without a request."
    )
    session_absolute_seconds: int = Field(
        default=24 * 3600, ge=60, description="A session ends this long after its sign-in."
    )
    login_throttle: bool = Field(
        default=True, description="Growing delays after wrong passwords (shared/login_throttle.py)."
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies (comma-separated addresses or networks, '*' for any) whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed; empty: none.",
    )
    http_timeout_seconds: float = Field(
        default=5.0, description="Timeout for every call to Mockgram's back channel."
    )
    use_par: bool = Field(
        default=False,
        description="'Connect Mockgram' pushes its request first (RFC 9126); the step 1 page "
        "has a switch too.",
    )
    pending_authorization_seconds: int = Field(
        default=600, description="How long a 'Connect Mockgram' request (its state) stays usable."
    )
    # Teaching aids: the tour banners, on by default so a first visit is guided; lab mode, off
    # by default because it lets a visitor switch a defence off.
    tour_default: bool = Field(
        default=True, description="Whether a new browser sees the tour banners (one click hides)."
    )
    lab_mode: bool = Field(
        default=False,
        description="Lab mode: the attack lab may switch one defence off for one run (red banner).",
    )
    use_dpop: bool = Field(
        default=False,
        description="Connect Mockgram asks for DPoP-bound tokens and proves its key on every "
        "call (RFC 9449); the key is kept in the database, so every worker signs with it.",
    )
    lab_mockgram_username: str = Field(
        default="jane", description="The Mockgram demo account the attack lab signs in as."
    )
    lab_mockgram_password: str = Field(
        default="", description="Its password; unset: Mockgram's demo password in demo mode."
    )
    # "Log in with" (OpenID Connect): any standards-compliant provider; Mockgram by default.
    login_issuer: str = Field(
        default="", description="The OpenID provider's issuer; defaults to mockgram_url."
    )
    login_client_id: str = Field(
        default="", description="Client ID at the login provider; defaults to client_id."
    )
    login_client_secret: str = Field(
        default="", description="Client secret at the login provider; defaults to client_secret."
    )
    login_scope: str = "openid profile email"
    login_provider_name: str = Field(
        default="",
        description="The name on 'Log in with …'; unset: Mockgram for Mockgram, else the "
        "issuer's host.",
    )
    discovery_ttl_seconds: int = Field(
        default=300, description="How long a discovery document and JWKS are cached in process."
    )
    # The two single-page demos: public clients registered at Mockgram (no secret).
    spa_implicit_client_id: str = "awesomeservice-spa-implicit"
    spa_pkce_client_id: str = "awesomeservice-spa-pkce"
    # The in-store print kiosk's client at Mockgram (the device flow, RFC 8628; a public client).
    kiosk_client_id: str = "awesomeservice-kiosk"
    spa_scope: str = "photos.read"
    # The OAuth debugger's client at Mockgram: confidential, every response type (seeded there).
    debugger_client_id: str = Field(
        default="oauth-debugger", description="The client the debugger fills in for Mockgram."
    )
    debugger_client_secret: str = Field(
        default="",
        description="Its secret, used on the server when the form's is empty; unset: demo's.",
    )

    doctor_on_start: bool = Field(
        default=True,
        description="Compare Mockgram's metadata with these URLs at start; log any mismatch.",
    )

    @field_validator("url", "mockgram_url", "mockgram_internal_url", "login_issuer")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _internal_defaults_to_public(self) -> AwesomeServiceSettings:
        demo_values.apply_demo_mode(
            self,
            "AWESOMESERVICE_",
            {
                "client_secret": ("AWESOMESERVICE_CLIENT_SECRET", demo_values.CLIENT_SECRET),
                "demo_password": (
                    "AWESOMESERVICE_DEMO_PASSWORD",
                    demo_values.AWESOMESERVICE_PASSWORD,
                ),
                "debugger_client_secret": (
                    "AWESOMESERVICE_DEBUGGER_CLIENT_SECRET",
                    demo_values.DEBUGGER_CLIENT_SECRET,
                ),
                "lab_mockgram_password": (
                    "AWESOMESERVICE_LAB_MOCKGRAM_PASSWORD",
                    demo_values.MOCKGRAM_PASSWORD,
                ),
            },
        )
        if not self.mockgram_internal_url:
            self.mockgram_internal_url = self.mockgram_url
        if not self.login_issuer:
            self.login_issuer = self.mockgram_url
        if not self.login_client_id:
            self.login_client_id = self.client_id
        if not self.login_client_secret:
            self.login_client_secret = self.client_secret
        return self

    @property
    def back_channel_url(self) -> str:
        """Base URL for server-to-server calls to Mockgram."""
        return self.mockgram_internal_url or self.mockgram_url

    @property
    def login_provider(self) -> str:
        """The login provider's name as pages show it ("Log in with …")."""
        if self.login_provider_name:
            return self.login_provider_name
        if self.login_issuer == self.mockgram_url:
            return "Mockgram"
        return urlsplit(self.login_issuer).netloc or self.login_issuer

    @property
    def connect_redirect_uri(self) -> str:
        """The registered redirect URI of the 'Connect Mockgram' flow."""
        return f"{self.url}/connect/callback"

    @property
    def post_logout_redirect_uri(self) -> str:
        """Where Mockgram sends John back after signing him out (RP-Initiated Logout §3)."""
        return f"{self.url}/login/signed-out"

    @property
    def login_redirect_uri(self) -> str:
        """The registered redirect URI of 'Log in with Mockgram'."""
        return f"{self.url}/login/callback"
