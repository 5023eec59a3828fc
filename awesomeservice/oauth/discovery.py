"""Where a provider's endpoints and keys are: OpenID Connect Discovery 1.0 §4 and RFC 8414 §3.

AwesomeService reads `{issuer}/.well-known/openid-configuration` over the back channel, checks
that the document names exactly the issuer it was configured with (OIDC Discovery §4.3,
SECURITY.md item C6), and keeps it — and the provider's JWKS — in process for a while. They are
public data, so a per-process cache is fine; a JWKS is fetched again once when an id_token names
a key it does not hold (the provider rotated its keys, OIDC Core §10.1.1).

The debugger finds any provider by an address the reader types (`find_document`): the issuer,
or a document URL under either well-known path, with the same issuer check.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from awesomeservice.backchannel import MockgramUnavailable, back_channel, json_object, send
from awesomeservice.settings import AwesomeServiceSettings
from shared.oauth_spec import OAUTH_METADATA_PATH, OIDC_DISCOVERY_PATH

# The id_token algorithms this client knows how to check; never "none", never HMAC.
SUPPORTED_ID_TOKEN_ALGS = ("RS256", "ES256")


class DiscoveryFailed(MockgramUnavailable):
    """The discovery document or JWKS was missing, malformed or named another issuer."""

    def __init__(self, detail: str) -> None:
        super().__init__("bad_answer", detail)


class IssuerMismatch(DiscoveryFailed):
    """OIDC Discovery §4.3, RFC 8414 §3.3: the document names another issuer than it must."""

    def __init__(self, named: object, expected: str, url: str = "") -> None:
        self.named = named[:200] if isinstance(named, str) else repr(named)[:50]
        self.expected = expected
        self.url = url  # the document's address, when it was given
        super().__init__(
            f"The discovery document names its issuer “{self.named}”, not “{expected}”. "
            "Its keys and endpoints cannot be trusted for this provider (OIDC Discovery §4.3)."
        )


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
    def id_token_algorithms(self) -> list[str]:
        """What the provider signs with ∩ what we check (OIDC Discovery §3: RS256 by default)."""
        advertised = self.id_token_signing_alg_values_supported or ("RS256",)
        return [alg for alg in advertised if alg in SUPPORTED_ID_TOKEN_ALGS]


def check_issuer(document: dict[str, Any], expected: str, url: str = "") -> None:
    """OIDC Discovery §4.3, RFC 8414 §3.3: "MUST be identical" — plain string comparison."""
    if document.get("issuer") != expected:
        raise IssuerMismatch(document.get("issuer"), expected, url)


def endpoint(document: dict[str, Any], name: str, *, required: bool) -> str | None:
    """The named endpoint, which must be an absolute URL (OIDC Discovery §3, RFC 8414 §2)."""
    value = document.get(name)
    if value is None and not required:
        return None
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
    check_issuer(document, expected_issuer)
    authorization_endpoint = endpoint(document, "authorization_endpoint", required=True)
    token_endpoint = endpoint(document, "token_endpoint", required=True)
    assert authorization_endpoint is not None and token_endpoint is not None
    return ProviderMetadata(
        issuer=expected_issuer,
        authorization_endpoint=authorization_endpoint,
        token_endpoint=token_endpoint,
        jwks_uri=endpoint(document, "jwks_uri", required=False),
        userinfo_endpoint=endpoint(document, "userinfo_endpoint", required=False),
        revocation_endpoint=endpoint(document, "revocation_endpoint", required=False),
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
        # OIDC Discovery §4.1: the issuer with /.well-known/openid-configuration appended.
        url = back_channel(issuer + OIDC_DISCOVERY_PATH, self.settings)
        response = await send(http, "GET", url)
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
        key_set = signing_keys(json_object(response))
        self._jwks[metadata.issuer] = _Cached(key_set, self._expiry())
        return key_set


def signing_keys(body: dict[str, Any]) -> KeySet:
    """The public signing keys of a JWK Set we can use (RFC 7517 §5); the rest is ignored."""
    keys = body.get("keys")
    if not isinstance(keys, list):
        raise DiscoveryFailed("The JWKS has no 'keys' list (RFC 7517 §5).")
    usable = [
        key
        for key in keys
        if isinstance(key, dict)
        and key.get("kty") in ("RSA", "EC")
        and key.get("use", "sig") == "sig"
        and "d" not in key
    ]
    try:
        return KeySet.import_key_set({"keys": usable})
    except (JoseError, ValueError, TypeError) as exc:
        raise DiscoveryFailed("The JWKS holds a key that could not be read.") from exc


# ── Any provider, by an address the reader types (the debugger) ───────────────────────────


class NotADiscoveryAddress(ValueError):
    """The address can be neither an issuer nor a discovery document's URL; `reason` says why:
    "query_or_fragment" or "other_well_known"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NoDocument(Exception):
    """No usable discovery document at `url`: `reason` is "unreachable" (with the transport
    error's name in `detail`), "not_a_document" (with the HTTP status) or
    "no_authorization_endpoint"."""

    def __init__(self, reason: str, url: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {url}")
        self.reason = reason
        self.url = url
        self.detail = detail


def document_urls(address: str) -> list[tuple[str, str]]:
    """(document URL, the issuer it must name) for an issuer or a discovery document's URL.

    OIDC Discovery §4.1 appends /.well-known/openid-configuration to the issuer; RFC 8414 §3.1
    inserts /.well-known/oauth-authorization-server between its host and its path. An issuer
    is tried at the first address, then at the second.
    """
    parts = urlsplit(address)
    if parts.query or parts.fragment:
        raise NotADiscoveryAddress("query_or_fragment")  # an issuer URL has neither (§2)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    if path.endswith(OIDC_DISCOVERY_PATH):
        return [(origin + path, origin + path[: -len(OIDC_DISCOVERY_PATH)])]
    if path == OAUTH_METADATA_PATH or path.startswith(OAUTH_METADATA_PATH + "/"):
        return [(origin + path, origin + path[len(OAUTH_METADATA_PATH) :])]
    if "/.well-known/" in path:
        raise NotADiscoveryAddress("other_well_known")
    issuer = origin + path
    return [(issuer + OIDC_DISCOVERY_PATH, issuer), (origin + OAUTH_METADATA_PATH + path, issuer)]


# Raises when this server may not call the URL; `what` names it in the reason.
DestinationCheck = Callable[[str, str], Awaitable[None]]


async def find_document(
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    address: str,
    *,
    allowed: DestinationCheck,
) -> tuple[str, dict[str, Any]]:
    """(its URL, the checked document) of the provider at `address`: each URL this server will
    call — the document, its token endpoint and key set — passed by `allowed` first."""
    problem = NoDocument("not_a_document", address)
    for url, expected_issuer in document_urls(address):
        await allowed(url, "discovery URL")
        try:
            response = await http.get(back_channel(url, settings))
        except httpx.HTTPError as exc:
            raise NoDocument("unreachable", url, type(exc).__name__) from exc
        try:
            document = response.json()
        except ValueError:
            document = None
        if response.status_code != 200 or not isinstance(document, dict):
            problem = NoDocument("not_a_document", url, str(response.status_code))
            continue
        try:
            endpoint(document, "authorization_endpoint", required=True)
        except DiscoveryFailed as exc:
            raise NoDocument("no_authorization_endpoint", url) from exc
        check_issuer(document, expected_issuer, url)
        for name in ("token_endpoint", "jwks_uri"):  # called from this server later
            if isinstance(document.get(name), str) and document[name]:
                await allowed(document[name], name)
        return url, document
    raise problem
