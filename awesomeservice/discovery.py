"""Where the provider's endpoints are: OpenID Connect Discovery 1.0 §4 and RFC 8414 §3.

AwesomeService reads `{issuer}/.well-known/openid-configuration` over the back channel, checks
that the document names exactly the issuer it was configured with (OIDC Discovery §4.3,
checklist C6), and keeps it — and the provider's JWKS — in process for a while. They are public
data, so a per-process cache is fine; a JWKS is fetched again once when an id_token names a key
it does not hold (the provider rotated its keys, OIDC Core §10.1.1).

The URL split: browsers are sent to the public URLs the document lists; every server-to-server
call goes to Mockgram's internal URL instead (in docker compose they differ). `back_channel()`
rewrites a URL that starts with Mockgram's public URL; any other provider's URLs stay as they are.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from awesomeservice.backchannel import MockgramUnavailable, json_object, send
from awesomeservice.settings import AwesomeServiceSettings

WELL_KNOWN = "/.well-known/openid-configuration"
# The id_token algorithms this client knows how to check; never "none", never HMAC.
SUPPORTED_ID_TOKEN_ALGS = ("RS256", "ES256")


class DiscoveryFailed(MockgramUnavailable):
    """The discovery document or JWKS was missing, malformed or named another issuer."""

    def __init__(self, detail: str) -> None:
        super().__init__("bad_answer", detail)


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of the discovery document this client uses (OIDC Discovery §3, RFC 8414 §2)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str | None
    userinfo_endpoint: str | None
    revocation_endpoint: str | None
    id_token_signing_alg_values_supported: tuple[str, ...]
    code_challenge_methods_supported: tuple[str, ...]
    token_endpoint_auth_methods_supported: tuple[str, ...]
    authorization_response_iss_parameter_supported: bool
    document: dict[str, Any]

    @property
    def client_auth_method(self) -> str:
        """How we send our secret to this provider's token endpoint."""
        return secret_auth_method(self.token_endpoint_auth_methods_supported)

    @property
    def id_token_algorithms(self) -> list[str]:
        """What the provider signs with ∩ what we check (OIDC Discovery §3: RS256 by default)."""
        advertised = self.id_token_signing_alg_values_supported or ("RS256",)
        return [alg for alg in advertised if alg in SUPPORTED_ID_TOKEN_ALGS]


def secret_auth_method(offered: object) -> str:
    """client_secret_basic where the provider takes it, else client_secret_post (RFC 6749
    §2.3.1). RFC 8414 §2 / OIDC Discovery §3: an absent list means client_secret_basic."""
    if isinstance(offered, list | tuple) and offered and "client_secret_basic" not in offered:
        return "client_secret_post"
    return "client_secret_basic"


def on_mockgram(url: str, settings: AwesomeServiceSettings) -> bool:
    """Whether `url` is under Mockgram's public URL (the issuer)."""
    public = settings.mockgram_url
    # Prefix match on a whole origin/path boundary: http://host:8001 must not match :80010.
    return url == public or url.startswith((public + "/", public + "?"))


def back_channel(url: str, settings: AwesomeServiceSettings) -> str:
    """The URL our back end calls: Mockgram's public prefix swapped for its internal one."""
    if on_mockgram(url, settings):
        return settings.back_channel_url + url[len(settings.mockgram_url) :]
    return url


def _url(document: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = document.get(name)
    if value is None and not required:
        return None
    # OIDC Discovery §3 / RFC 8414 §2: endpoints are absolute URLs.
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise DiscoveryFailed(f"The discovery document has no usable {name}.")
    return value


def _strings(document: dict[str, Any], name: str) -> tuple[str, ...]:
    value = document.get(name)
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def parse_metadata(document: dict[str, Any], expected_issuer: str) -> ProviderMetadata:
    """Check the document and keep what we use; the issuer must match exactly (C6)."""
    issuer = document.get("issuer")
    # OIDC Discovery §4.3, RFC 8414 §3.3: "MUST be identical" — plain string comparison.
    if issuer != expected_issuer:
        shown = issuer[:200] if isinstance(issuer, str) else repr(issuer)[:50]
        raise DiscoveryFailed(
            f"The discovery document names its issuer “{shown}”, not “{expected_issuer}”. "
            "Its keys and endpoints cannot be trusted for this provider (OIDC Discovery §4.3)."
        )
    authorization_endpoint = _url(document, "authorization_endpoint", required=True)
    token_endpoint = _url(document, "token_endpoint", required=True)
    assert authorization_endpoint is not None and token_endpoint is not None
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=authorization_endpoint,
        token_endpoint=token_endpoint,
        jwks_uri=_url(document, "jwks_uri", required=False),
        userinfo_endpoint=_url(document, "userinfo_endpoint", required=False),
        revocation_endpoint=_url(document, "revocation_endpoint", required=False),
        id_token_signing_alg_values_supported=_strings(
            document, "id_token_signing_alg_values_supported"
        ),
        code_challenge_methods_supported=_strings(document, "code_challenge_methods_supported"),
        token_endpoint_auth_methods_supported=_strings(
            document, "token_endpoint_auth_methods_supported"
        ),
        # RFC 9207 §3: absent means false.
        authorization_response_iss_parameter_supported=document.get(
            "authorization_response_iss_parameter_supported"
        )
        is True,
        document=document,
    )


@dataclass
class _Cached:
    value: Any
    expires: float


class Discovery:
    """One per app process: discovery documents and key sets by issuer, each with a TTL."""

    def __init__(self, settings: AwesomeServiceSettings) -> None:
        self.settings = settings
        self._metadata: dict[str, _Cached] = {}
        self._jwks: dict[str, _Cached] = {}

    def _fresh(self, entry: _Cached | None) -> bool:
        return entry is not None and entry.expires > time.monotonic()

    def _expiry(self) -> float:
        return time.monotonic() + self.settings.discovery_ttl_seconds

    def forget(self) -> None:
        """Drop everything cached (the provider changed; tests)."""
        self._metadata.clear()
        self._jwks.clear()

    async def metadata(self, http: httpx.AsyncClient, issuer: str) -> ProviderMetadata:
        """The provider's checked metadata, from the cache or fetched over the back channel."""
        entry = self._metadata.get(issuer)
        if entry is not None and self._fresh(entry):
            return entry.value  # type: ignore[no-any-return]
        # OIDC Discovery §4: the issuer with /.well-known/openid-configuration appended.
        response = await send(http, "GET", back_channel(issuer + WELL_KNOWN, self.settings))
        if response.status_code != 200:
            raise DiscoveryFailed(
                f"The discovery document answered HTTP {response.status_code} (OIDC Discovery §4)."
            )
        metadata = parse_metadata(json_object(response), issuer)
        self._metadata[issuer] = _Cached(metadata, self._expiry())
        return metadata

    def jwks_uri_behind(self, token_endpoint_called: str) -> str | None:
        """The back-channel JWKS URL of the known provider whose token endpoint was called."""
        for entry in self._metadata.values():
            metadata: ProviderMetadata = entry.value
            if metadata.jwks_uri and (
                back_channel(metadata.token_endpoint, self.settings) == token_endpoint_called
            ):
                return back_channel(metadata.jwks_uri, self.settings)
        return None

    async def jwks(
        self, http: httpx.AsyncClient, metadata: ProviderMetadata, *, refresh: bool = False
    ) -> KeySet:
        """The provider's public keys (RFC 7517 §5); `refresh` skips the cache once."""
        entry = self._jwks.get(metadata.issuer)
        if not refresh and entry is not None and self._fresh(entry):
            return entry.value  # type: ignore[no-any-return]
        if metadata.jwks_uri is None:
            raise DiscoveryFailed("The provider publishes no jwks_uri: no keys to check with.")
        response = await send(http, "GET", back_channel(metadata.jwks_uri, self.settings))
        if response.status_code != 200:
            raise DiscoveryFailed(f"The JWKS answered HTTP {response.status_code}.")
        body = json_object(response)
        keys = body.get("keys")
        if not isinstance(keys, list):
            raise DiscoveryFailed("The JWKS has no 'keys' list (RFC 7517 §5).")
        # Only public signing keys we can use; anything else in the set is ignored.
        usable = [
            key
            for key in keys
            if isinstance(key, dict)
            and key.get("kty") in ("RSA", "EC")
            and key.get("use", "sig") == "sig"
            and "d" not in key
        ]
        try:
            key_set = KeySet.import_key_set({"keys": usable})
        except (JoseError, ValueError, TypeError) as exc:
            raise DiscoveryFailed("The JWKS holds a key that could not be read.") from exc
        self._jwks[metadata.issuer] = _Cached(key_set, self._expiry())
        return key_set
