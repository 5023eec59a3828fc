"""Step 0 — registering an app: one set of rules for the developer portal and RFC 7591.

The server chooses the client_id (random, RFC 9700 §4.15) and, for confidential clients, a
256-bit secret shown once and stored only as its hash. Redirect URIs must be absolute, carry
no fragment, and use https — or http on a loopback host for local development (RFC 6749
§3.1.2, RFC 7591 §2, RFC 8252 §7.3). A public client (a native app) may also register a
private-use URI scheme in reverse-domain form, `com.example.app:/callback` (RFC 8252 §7.1).
They are later compared as exact strings, except for the port of a loopback IP address
(mockgram/oauth/redirect_uris.py).

Every client registered here is unverified: anyone may have registered it, and Mockgram checked
neither its name nor its redirect URIs (the consent page says so). A client registered without
`scope` may ask for DEFAULT_SCOPE: signing in with OpenID Connect and reading photos.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlmodel import Session

from mockgram.models import Client
from mockgram.oauth.errors import InvalidClientMetadataError, InvalidRedirectUriError
from mockgram.scopes import SCOPES, normalize_scope
from shared.hashing import hash_secret, new_token
from shared.oauth_spec import canonical_response_type
from shared.response_types import RESPONSE_TYPES  # OIDC Core §3, in canonical order

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
ID_TOKEN_ALGS = ("RS256", "ES256")  # never "none" (OIDC Core §2)
DEFAULT_ID_TOKEN_ALG = "RS256"
GRANT_TYPES = (
    "authorization_code",
    "implicit",
    "refresh_token",
    "client_credentials",  # RFC 6749 §4.4: the app for itself, no person
    "urn:ietf:params:oauth:grant-type:token-exchange",  # RFC 8693
)
# RFC 8628 §3.4: the device authorization grant (a kiosk or TV, approved on John's phone).
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_TYPES += (DEVICE_CODE,)
# Grants that send a person's browser somewhere: only they need redirect URIs and response types.
REDIRECTING_GRANTS = frozenset({"authorization_code", "implicit"})
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# What a client registered without `scope` may ask for (RFC 7591 §2: the server's default):
# "Log in with Mockgram" (OIDC Core §5.4) and reading photos, never writing them.
DEFAULT_SCOPE = "openid profile email photos.read"
MAX_REDIRECT_URIS = 10
MAX_URI_LENGTH = 2000
MAX_NAME_LENGTH = 120
# Whitespace and control characters: never valid in a URI, and our storage is newline-separated.
_UNSAFE_URI_CHARS = re.compile(r"[\x00-\x20\x7f]")
_UNSAFE_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# RFC 8252 §7.1: a private-use scheme is a reverse domain name (at least one dot), e.g.
# com.example.app; RFC 3986 §3.1 scheme characters.
_PRIVATE_USE_SCHEME = re.compile(r"[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+")


def shown_name(client: Client) -> str:
    """The app's name as a page may say it: an unverified client's is quoted and marked so."""
    return client.name if client.verified else f"“{client.name}” (unverified)"


def destination(uri: str) -> str:
    """Where a redirect URI sends the browser, for people: its host, or a native app's scheme."""
    parts = urlsplit(uri)
    return parts.netloc or f"{parts.scheme}: (an app on your device)"


def validate_redirect_uri(uri: object, *, public: bool = False) -> str:
    """One redirect URI, or InvalidRedirectUriError saying what is wrong with it.

    `public`: the client is public (a native app may be), so a private-use scheme is allowed.
    """
    if not isinstance(uri, str) or not uri:
        raise InvalidRedirectUriError("Each redirect URI must be a non-empty string.")
    if len(uri) > MAX_URI_LENGTH:
        raise InvalidRedirectUriError(f"A redirect URI may be at most {MAX_URI_LENGTH} characters.")
    if _UNSAFE_URI_CHARS.search(uri):
        raise InvalidRedirectUriError(
            "A redirect URI may not contain spaces or control characters."
        )
    # RFC 6749 §3.1.2: "The endpoint URI MUST NOT include a fragment component."
    if "#" in uri:
        raise InvalidRedirectUriError("A redirect URI must not contain a fragment (#).")
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError as exc:
        raise InvalidRedirectUriError("A redirect URI could not be parsed.") from exc
    if _PRIVATE_USE_SCHEME.fullmatch(parts.scheme):
        return validate_private_use_uri(uri, public=public)
    # RFC 6749 §3.1.2: "The redirection endpoint URI MUST be an absolute URI."
    if not parts.scheme or not parts.netloc or not parts.hostname:
        raise InvalidRedirectUriError("A redirect URI must be absolute (https://host/path).")
    if "@" in parts.netloc:
        raise InvalidRedirectUriError("A redirect URI must not contain a user name or password.")
    # RFC 9700 §2.6 / RFC 8252 §7.3: TLS, except on the loopback interface.
    if parts.scheme == "https":
        return uri
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return uri
    raise InvalidRedirectUriError(
        "A redirect URI must use https (plain http is allowed only on localhost, 127.0.0.1 "
        "or [::1])."
    )


def validate_private_use_uri(uri: str, *, public: bool) -> str:
    """A native app's private-use URI scheme redirect, `com.example.app:/path` (RFC 8252 §7.1)."""
    parts = urlsplit(uri)
    # RFC 8252 §8.5: a confidential client's secret could not be kept in a native app anyway.
    if not public:
        raise InvalidRedirectUriError(
            "A private-use URI scheme (com.example.app:/callback) is for native apps, which "
            "are public clients: register with token_endpoint_auth_method none."
        )
    # RFC 8252 §7.1: no naming authority, so a single slash after the scheme.
    if parts.netloc or uri.startswith(f"{parts.scheme}://") or not parts.path.startswith("/"):
        raise InvalidRedirectUriError(
            "A private-use URI scheme redirect has a single slash after the scheme, like "
            "com.example.app:/callback."
        )
    return uri


def validate_redirect_uris(
    value: object, *, public: bool = False, response_types: str = "code"
) -> list[str]:
    """A non-empty list of valid redirect URIs, duplicates dropped.

    A client with no response types never sends a browser to the authorization endpoint
    (a device, RFC 8628): it needs none, and may leave them out.
    """
    if not response_types and value in (None, []):
        return []
    if not isinstance(value, list) or not value:
        raise InvalidRedirectUriError("redirect_uris is required: a list of at least one URI.")
    if len(value) > MAX_REDIRECT_URIS:
        raise InvalidRedirectUriError(f"At most {MAX_REDIRECT_URIS} redirect URIs.")
    uris = [validate_redirect_uri(uri, public=public) for uri in value]
    return list(dict.fromkeys(uris))


def validate_scope(value: object) -> str:
    """A non-empty space-separated subset of the scopes Mockgram knows."""
    if value is None:
        return DEFAULT_SCOPE
    if not isinstance(value, str) or not value.split():
        raise InvalidClientMetadataError("scope must be a space-separated list of scopes.")
    requested = set(value.split())
    unknown = requested - set(SCOPES)
    if unknown:
        raise InvalidClientMetadataError(f"Unknown scope: {' '.join(sorted(unknown))}.")
    return normalize_scope(requested)


def validate_name(value: object, *, required: bool = False) -> str:
    """The app's display name (shown to John on the consent page)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidClientMetadataError("The app needs a name.")
        return "Unnamed app"
    if not isinstance(value, str) or len(value.strip()) > MAX_NAME_LENGTH:
        raise InvalidClientMetadataError(
            f"client_name must be text of at most {MAX_NAME_LENGTH} characters."
        )
    # John reads this name on the consent page: no control characters, and no bidirectional
    # overrides or isolates that would make "‮AwesomeService" look like another app's name.
    if _UNSAFE_NAME_CHARS.search(value):
        raise InvalidClientMetadataError(
            "client_name may not contain control characters or text-direction overrides."
        )
    return value.strip()


def validate_auth_method(value: object) -> str:
    """client_secret_basic (default), client_secret_post or none (a public client)."""
    if value is None:
        return "client_secret_basic"
    if value not in AUTH_METHODS:
        raise InvalidClientMetadataError(
            "token_endpoint_auth_method must be one of: " + ", ".join(AUTH_METHODS) + "."
        )
    return str(value)


def parse_response_type(value: str) -> frozenset[str] | None:
    """The words of a supported response_type, in any order (Multiple Response Types §5)."""
    words = frozenset(value.split(" "))
    combo = canonical_response_type(words)
    # As long as its canonical form: no stray space (an empty word) and no repeated word.
    return words if combo and len(combo) == len(value) else None


def allows_response_type(client: Client, words: frozenset[str]) -> bool:
    """True when every word of the response_type is one the client registered (RFC 7591 §2)."""
    return words <= set(client.response_types.split())


def allowed_response_types(client: Client) -> list[str]:
    """Every supported response_type the client may use."""
    return [
        combo
        for combo in RESPONSE_TYPES
        if set(combo.split()) <= set(client.response_types.split())
    ]


def validate_response_types(value: object, *, grant_types: object = None) -> str:
    """RFC 7591 §2 response_types (default ["code"]) → the words the client may combine.

    An empty list is no response type at all: a client that only polls the token endpoint
    (RFC 8628's device). So is leaving them out while naming only grants with no front
    channel, like grant_types ["urn:ietf:params:oauth:grant-type:device_code"].
    """
    if value is None:
        return "" if without_front_channel(grant_types) else "code"
    if value == []:
        return ""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidClientMetadataError("response_types must be a list of response types.")
    words: set[str] = set()
    for item in value:
        parsed = parse_response_type(item)
        if parsed is None:
            raise InvalidClientMetadataError(
                "response_types may only contain: " + ", ".join(RESPONSE_TYPES) + "."
            )
        words |= parsed
    return canonical_response_type(frozenset(words))


def without_front_channel(grant_types: object) -> bool:
    """True for a list of grant types none of which goes through the authorization endpoint."""
    return (
        isinstance(grant_types, list)
        and bool(grant_types)
        and not REDIRECTING_GRANTS & set(grant_types)
    )


def grant_types_for(response_types: str) -> list[str]:
    """The grant types a client's response types need (RFC 7591 §2.1)."""
    words = set(response_types.split())
    grants = []
    if "code" in words:
        grants += ["authorization_code", "refresh_token"]
    if words & {"token", "id_token"}:
        grants.append("implicit")
    return grants


def allowed_grant_types(client: Client) -> set[str]:
    """The grants a client may use at the token endpoint: those it registered (RFC 7591 §2),
    or, when it named none, those its response types need (§2.1)."""
    if client.grant_types:
        return set(client.grant_types.split())
    return set(grant_types_for(client.response_types))


def validate_grant_types(value: object, *, response_types: str, public: bool = False) -> str:
    """grant_types, when given, are supported and match response_types (RFC 7591 §2.1).

    Returns what to store: "" when none were given (the response types decide)."""
    if value is None:
        return ""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidClientMetadataError("grant_types must be a list of grant types.")
    unknown = set(value) - set(GRANT_TYPES)
    if unknown:
        raise InvalidClientMetadataError(
            "grant_types may only contain: " + ", ".join(GRANT_TYPES) + "."
        )
    words = set(response_types.split())
    if "code" in words and "authorization_code" not in value:
        raise InvalidClientMetadataError("response_type code needs grant type authorization_code.")
    if words & {"token", "id_token"} and "implicit" not in value:
        raise InvalidClientMetadataError(
            "token and id_token response types need grant type implicit."
        )
    # RFC 6749 §4.4: the client credentials grant is for confidential clients only.
    if public and "client_credentials" in value:
        raise InvalidClientMetadataError(
            "grant type client_credentials needs a confidential client (it has no secret)."
        )
    return " ".join(dict.fromkeys(value))


def validate_id_token_alg(value: object) -> str:
    """id_token_signed_response_alg: RS256 (default) or ES256 (OIDC Registration §2)."""
    if value is None:
        return DEFAULT_ID_TOKEN_ALG
    if value not in ID_TOKEN_ALGS:
        raise InvalidClientMetadataError(
            "id_token_signed_response_alg must be one of: " + ", ".join(ID_TOKEN_ALGS) + "."
        )
    return str(value)


def validate_post_logout_redirect_uris(value: object, *, public: bool = False) -> list[str]:
    """RP-Initiated Logout §3.1: where the app may be sent after sign-out (default none).

    Each follows the redirect URI rules: absolute, no fragment, https or loopback http."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_REDIRECT_URIS:
        raise InvalidClientMetadataError(
            f"post_logout_redirect_uris must be a list of at most {MAX_REDIRECT_URIS} URIs."
        )
    try:
        uris = [validate_redirect_uri(uri, public=public) for uri in value]
    except InvalidRedirectUriError as exc:
        raise InvalidClientMetadataError(f"post_logout_redirect_uris: {exc.description}") from exc
    return list(dict.fromkeys(uris))


def validate_flag(value: object, name: str) -> bool:
    """A boolean client metadata value, false when absent (RFC 9126 §6, FAPI 2.0)."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidClientMetadataError(f"{name} must be true or false.")
    return value


def validate_fapi2(fapi2: bool, *, response_types: str, auth_method: str) -> None:
    """FAPI 2.0 §5.3.2: a confidential client using response_type code only."""
    if not fapi2:
        return
    if response_types != "code":
        raise InvalidClientMetadataError(
            'A FAPI 2.0 client (fapi2_security_profile) may only use response_types ["code"].'
        )
    if auth_method == "none":
        raise InvalidClientMetadataError(
            "A FAPI 2.0 client (fapi2_security_profile) must be confidential."
        )


def validate_dpop_bound(value: object) -> bool:
    """dpop_bound_access_tokens: a JSON boolean, false when absent (RFC 9449 §5.2)."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidClientMetadataError("dpop_bound_access_tokens must be true or false.")
    return value


def register_client(
    session: Session,
    *,
    name: str,
    redirect_uris: list[str],
    token_endpoint_auth_method: str,
    scope: str,
    owner_user_id: int | None = None,
    response_types: str = "code",
    grant_types: str = "",
    id_token_signed_response_alg: str = DEFAULT_ID_TOKEN_ALG,
    verified: bool = False,
    post_logout_redirect_uris: list[str] | None = None,
    require_pushed_authorization_requests: bool = False,
    fapi2_security_profile: bool = False,
    dpop_bound_access_tokens: bool = False,
) -> tuple[Client, str | None]:
    """Store a validated client; returns it with its clear secret (None for a public client)."""
    public = token_endpoint_auth_method == "none"
    secret = None if public else new_token(32)
    client = Client(
        client_id=f"mg_{new_token(16)}",
        name=name,
        client_type="public" if public else "confidential",
        secret_hash=None if secret is None else hash_secret(secret),
        redirect_uris="\n".join(redirect_uris),
        allowed_scopes=scope,
        token_endpoint_auth_method=token_endpoint_auth_method,
        response_types=response_types,
        grant_types=grant_types,
        id_token_signed_response_alg=id_token_signed_response_alg,
        owner_user_id=owner_user_id,
        verified=verified,
        post_logout_redirect_uris="\n".join(post_logout_redirect_uris or []),
        require_pushed_authorization_requests=require_pushed_authorization_requests,
        fapi2_security_profile=fapi2_security_profile,
        dpop_bound_access_tokens=dpop_bound_access_tokens,
    )
    session.add(client)
    session.commit()
    session.refresh(client)
    return client, secret
