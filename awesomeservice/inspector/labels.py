"""Name each recorded call after the article's step and the RFC section that defines it."""

from __future__ import annotations

from dataclasses import dataclass

BROWSER = "browser"
CLIENT = "awesomeservice"
AUTH_SERVER = "mockgram"
PHOTOS_API = "api"
LANES: dict[str, str] = {
    BROWSER: "John's browser",
    CLIENT: "AwesomeService",
    AUTH_SERVER: "Mockgram authorization server",
    PHOTOS_API: "Mockgram photos API",
}


def rfc_url(rfc: int, section: str = "") -> str:
    """A link to an RFC section at the RFC Editor."""
    anchor = f"#section-{section}" if section else ""
    return f"https://www.rfc-editor.org/rfc/rfc{rfc}{anchor}"


OIDC_CORE = "https://openid.net/specs/openid-connect-core-1_0.html"
OIDC_DISCOVERY = "https://openid.net/specs/openid-connect-discovery-1_0.html"


@dataclass(frozen=True)
class Label:
    """How one event is shown: step (or None), kind, title, RFC label and link, lanes."""

    step: int | None
    kind: str
    title: str
    rfc_label: str
    rfc_url: str
    actor_from: str
    actor_to: str


AUTHORIZATION_REQUEST = Label(
    1,
    "authorization_request",
    "Authorization request: the browser is sent to Mockgram",
    "RFC 6749 §4.1.1",
    rfc_url(6749, "4.1.1"),
    CLIENT,
    AUTH_SERVER,
)
AUTHORIZATION_REQUEST_EDITED = Label(
    1,
    "authorization_request_edited",
    "Authorization request, as sent after you edited it (step-through)",
    "RFC 6749 §4.1.1",
    rfc_url(6749, "4.1.1"),
    CLIENT,
    AUTH_SERVER,
)
CALLBACK = Label(
    4,
    "callback",
    "Callback: Mockgram sends the browser back with a code",
    "RFC 6749 §4.1.2",
    rfc_url(6749, "4.1.2"),
    AUTH_SERVER,
    CLIENT,
)
CALLBACK_ERROR = Label(
    4,
    "callback",
    "Callback: Mockgram sends the browser back with an error",
    "RFC 6749 §4.1.2.1",
    rfc_url(6749, "4.1.2.1"),
    AUTH_SERVER,
    CLIENT,
)


def for_back_channel(method: str, path: str, form: dict[str, str]) -> Label:
    """The label of a server-to-server call, from its path and (for the token endpoint) grant."""
    if path.endswith("/oauth/token") or path.endswith("/token"):
        grant = form.get("grant_type", "")
        if grant == "refresh_token":
            return Label(
                None,
                "refresh",
                "Refresh: a new access token for an old refresh token",
                "RFC 6749 §6",
                rfc_url(6749, "6"),
                CLIENT,
                AUTH_SERVER,
            )
        return Label(
            5,
            "token_request",
            "Token request: the code and the secret are traded for tokens",
            "RFC 6749 §4.1.3",
            rfc_url(6749, "4.1.3"),
            CLIENT,
            AUTH_SERVER,
        )
    if path.endswith("/revoke"):
        return Label(
            None,
            "revocation",
            "Revocation: the token is handed back",
            "RFC 7009 §2.1",
            rfc_url(7009, "2.1"),
            CLIENT,
            AUTH_SERVER,
        )
    if path.endswith("/introspect"):
        return Label(
            None,
            "introspection",
            "Introspection: is this token still active?",
            "RFC 7662 §2.1",
            rfc_url(7662, "2.1"),
            CLIENT,
            AUTH_SERVER,
        )
    if path.endswith("/userinfo"):
        return Label(
            None,
            "userinfo",
            "UserInfo: who signed in",
            "OpenID Connect Core §5.3",
            f"{OIDC_CORE}#UserInfo",
            CLIENT,
            AUTH_SERVER,
        )
    if "/.well-known/openid-configuration" in path or "/.well-known/oauth-authorization" in path:
        return Label(
            None,
            "discovery",
            "Discovery: the authorization server's metadata",
            "RFC 8414 §3",
            rfc_url(8414, "3"),
            CLIENT,
            AUTH_SERVER,
        )
    if path.endswith("jwks.json") or path.endswith("/jwks"):
        return Label(
            None,
            "jwks",
            "JWKS: the public keys that sign Mockgram's tokens",
            "RFC 7517 §5",
            rfc_url(7517, "5"),
            CLIENT,
            AUTH_SERVER,
        )
    if path.startswith("/api/"):
        return Label(
            6,
            "api_call",
            f"API call: {method} {path}",
            "RFC 6750 §2.1",
            rfc_url(6750, "2.1"),
            CLIENT,
            PHOTOS_API,
        )
    return Label(
        None, "back_channel", f"Back-channel call: {method} {path}", "", "", CLIENT, AUTH_SERVER
    )
