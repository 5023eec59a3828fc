"""Name each recorded call after the article's step and the RFC section that defines it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from shared.oauth_spec import OAUTH_METADATA_PATH, OIDC_DISCOVERY_PATH

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
# Each lane's role in the article's vocabulary (RFC 6749 §1.1), shown above its name.
ROLES: dict[str, str] = {
    BROWSER: "Resource owner",
    CLIENT: "Client",
    AUTH_SERVER: "Authorization server",
    PHOTOS_API: "Resource server",
}


def rfc_url(rfc: int, section: str = "") -> str:
    """A link to an RFC section at the RFC Editor."""
    anchor = f"#section-{section}" if section else ""
    return f"https://www.rfc-editor.org/rfc/rfc{rfc}{anchor}"


OIDC_CORE = "https://openid.net/specs/openid-connect-core-1_0.html"


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


@dataclass(frozen=True)
class _Rule:
    """One row of the back-channel table: which calls it matches, and how they are shown."""

    matches: Callable[[str, Mapping[str, str]], bool]
    label: Label


# First match wins: the refresh grant is checked before the token endpoint's other grants,
# and the table ends in the catch-all. "{method}" and "{path}" in a title are filled in.
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"  # RFC 8628 §3.4
DEVICE_AUTHORIZATION = Label(
    None,
    "device_authorization",
    "Device authorization: the kiosk asks for a device code and a user code",
    "RFC 8628 §3.1",
    rfc_url(8628, "3.1"),
    CLIENT,
    AUTH_SERVER,
)
# Polls repeat every few seconds: the recorder folds alike ones into one row with a count.
DEVICE_POLL = Label(
    None,
    "device_poll",
    "Device token request: has John approved yet?",
    "RFC 8628 §3.4",
    rfc_url(8628, "3.4"),
    CLIENT,
    AUTH_SERVER,
)
_BACK_CHANNEL: tuple[_Rule, ...] = (
    _Rule(lambda path, form: path.endswith("/device_authorization"), DEVICE_AUTHORIZATION),
    _Rule(
        lambda path, form: path.endswith("/token") and form.get("grant_type") == DEVICE_CODE_GRANT,
        DEVICE_POLL,
    ),
    _Rule(
        lambda path, form: path.endswith("/token") and form.get("grant_type") == "refresh_token",
        Label(
            None,
            "refresh",
            "Refresh: a new access token for an old refresh token",
            "RFC 6749 §6",
            rfc_url(6749, "6"),
            CLIENT,
            AUTH_SERVER,
        ),
    ),
    _Rule(
        lambda path, form: (
            path.endswith("/token") and form.get("grant_type") == "client_credentials"
        ),
        Label(
            None,
            "client_credentials",
            "Client credentials: AwesomeService asks a token for itself, no person involved",
            "RFC 6749 §4.4.2",
            rfc_url(6749, "4.4.2"),
            CLIENT,
            AUTH_SERVER,
        ),
    ),
    _Rule(
        lambda path, form: (
            path.endswith("/token")
            and form.get("grant_type") == "urn:ietf:params:oauth:grant-type:token-exchange"
        ),
        Label(
            None,
            "token_exchange",
            "Token exchange: John's token traded for a narrower one for the print lab",
            "RFC 8693 §2.1",
            rfc_url(8693, "2.1"),
            CLIENT,
            AUTH_SERVER,
        ),
    ),
    _Rule(
        lambda path, form: path.endswith("/token"),
        Label(
            5,
            "token_request",
            "Token request: the code and the secret are traded for tokens",
            "RFC 6749 §4.1.3",
            rfc_url(6749, "4.1.3"),
            CLIENT,
            AUTH_SERVER,
        ),
    ),
    _Rule(
        lambda path, form: path.endswith("/par"),
        Label(
            1,
            "pushed_authorization_request",
            "Pushed authorization request: the parameters go to Mockgram first",
            "RFC 9126 §2.1",
            rfc_url(9126, "2.1"),
            CLIENT,
            AUTH_SERVER,
        ),
    ),
    _Rule(
        lambda path, form: path.endswith("/revoke"),
        Label(
            None,
            "revocation",
            "Revocation: the token is handed back",
            "RFC 7009 §2.1",
            rfc_url(7009, "2.1"),
            CLIENT,
            AUTH_SERVER,
        ),
    ),
    _Rule(
        lambda path, form: path.endswith("/introspect"),
        Label(
            None,
            "introspection",
            "Introspection: is this token still active?",
            "RFC 7662 §2.1",
            rfc_url(7662, "2.1"),
            CLIENT,
            AUTH_SERVER,
        ),
    ),
    _Rule(
        lambda path, form: path.endswith("/userinfo"),
        Label(
            None,
            "userinfo",
            "UserInfo: who signed in",
            "OpenID Connect Core §5.3",
            f"{OIDC_CORE}#UserInfo",
            CLIENT,
            AUTH_SERVER,
        ),
    ),
    _Rule(
        lambda path, form: path.endswith(OIDC_DISCOVERY_PATH) or OAUTH_METADATA_PATH in path,
        Label(
            None,
            "discovery",
            "Discovery: the authorization server's metadata",
            "RFC 8414 §3",
            rfc_url(8414, "3"),
            CLIENT,
            AUTH_SERVER,
        ),
    ),
    _Rule(
        lambda path, form: path.endswith(("jwks.json", "/jwks")),
        Label(
            None,
            "jwks",
            "JWKS: the public keys that sign Mockgram's tokens",
            "RFC 7517 §5",
            rfc_url(7517, "5"),
            CLIENT,
            AUTH_SERVER,
        ),
    ),
    _Rule(
        lambda path, form: "/.well-known/oauth-protected-resource" in path,
        Label(
            None,
            "resource_metadata",
            "Resource metadata: the photos API says who issues its tokens",
            "RFC 9728 §3",
            rfc_url(9728, "3"),
            CLIENT,
            PHOTOS_API,
        ),
    ),
    _Rule(
        lambda path, form: path.startswith("/api/"),
        Label(
            6,
            "api_call",
            "API call: {method} {path}",
            "RFC 6750 §2.1",
            rfc_url(6750, "2.1"),
            CLIENT,
            PHOTOS_API,
        ),
    ),
    _Rule(
        lambda path, form: True,
        Label(
            None, "back_channel", "Back-channel call: {method} {path}", "", "", CLIENT, AUTH_SERVER
        ),
    ),
)


def for_back_channel(method: str, path: str, form: Mapping[str, str]) -> Label:
    """The label of a server-to-server call, from its path and (for the token endpoint) grant."""
    label = next(rule.label for rule in _BACK_CHANNEL if rule.matches(path, form))
    return replace(label, title=label.title.format(method=method, path=path))
