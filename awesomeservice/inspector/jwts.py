"""Decode a JWT for people: header and claims, the signature checked against the issuer's JWKS,
and the expiry in words (RFC 7519 §7.2, RFC 7515 §5.2, RFC 7517 §5).

Decoding here is for display only: the protocol code makes its own checks before trusting one.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from awesomeservice.inspector.redact import truncated_token

# Public keys are public data: an in-process cache is fine; refetched on an unknown kid.
_JWKS_TTL_SECONDS = 300.0
_jwks_cache: dict[str, tuple[float, KeySet]] = {}
# Marks the inspector's own calls so the recorder does not record them as part of the flow.
SKIP_RECORDING = {"inspector_skip": True}
ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "ES512", "EdDSA"]


@dataclass(frozen=True)
class DecodedJwt:
    """What a person wants to see of a JWT."""

    label: str
    header: dict[str, Any]
    claims: dict[str, Any]
    signature: str
    signature_ok: bool | None
    preview: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "header": self.header,
            "claims": self.claims,
            "signature": self.signature,
            "signature_ok": self.signature_ok,
            "preview": self.preview,
        }


def _b64json(segment: str) -> dict[str, Any] | None:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    return value if isinstance(value, dict) else None


def looks_like_jwt(value: object) -> bool:
    """Three dot-separated parts whose first decodes to a JSON object with `alg`."""
    if not isinstance(value, str) or value.count(".") != 2:
        return False
    header = _b64json(value.split(".", 1)[0])
    return header is not None and "alg" in header


def dpop_proof(value: str) -> DecodedJwt | None:
    """A DPoP proof the back end sent (RFC 9449 §4.2), decoded: it names its own public key,
    so there is nothing to look up; Mockgram checked the signature with that key."""
    if not looks_like_jwt(value):
        return None
    header, claims = parts(value)
    return DecodedJwt(
        label="DPoP proof (RFC 9449 §4.2)",
        header=header,
        claims=claims,
        signature="Signed with the private key whose public half is in the header (jwk); "
        "the token is bound to that key's thumbprint (cnf.jkt).",
        signature_ok=None,
        preview=f"for {claims.get('htm', '?')} {claims.get('htu', '?')}",
    )


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims, unverified; empty dicts where they do not decode."""
    segments = token.split(".")
    if len(segments) != 3:
        return {}, {}
    return _b64json(segments[0]) or {}, _b64json(segments[1]) or {}


async def fetch_jwks(http: httpx.AsyncClient, jwks_url: str, *, force: bool = False) -> KeySet:
    """The key set at `jwks_url`, cached for a few minutes (RFC 7517 §5)."""
    cached = _jwks_cache.get(jwks_url)
    if cached and not force and time.monotonic() - cached[0] < _JWKS_TTL_SECONDS:
        return cached[1]
    response = await http.get(jwks_url, extensions=SKIP_RECORDING)
    response.raise_for_status()
    keys = KeySet.import_key_set(response.json())
    _jwks_cache[jwks_url] = (time.monotonic(), keys)
    return keys


def _verify(token: str, keys: KeySet) -> None:
    jws.deserialize_compact(token, keys, algorithms=ASYMMETRIC)


async def decode(
    label: str, token: str, *, http: httpx.AsyncClient | None, jwks_url: str | None
) -> DecodedJwt:
    """Decode `token` and check its signature with the keys at `jwks_url` when one is known."""
    header, claims = parts(token)
    alg = str(header.get("alg", ""))
    ok: bool | None = None
    if alg.lower() == "none":
        # RFC 8725 §3.1: an unsigned token must never be accepted.
        text, ok = "Not signed (alg none): never to be trusted.", False
    elif alg.startswith("HS"):
        text = f"Signed with a shared secret ({alg}); only its holder can check it."
    elif http is None or not jwks_url:
        text = "Not checked: no key set is known for this issuer."
    else:
        try:
            keys = await fetch_jwks(http, jwks_url)
            try:
                _verify(token, keys)
            except (JoseError, ValueError):
                # The issuer may have rotated its keys since we cached them: fetch once more.
                keys = await fetch_jwks(http, jwks_url, force=True)
                _verify(token, keys)
            text, ok = f"Valid signature ({alg}, key “{header.get('kid', '?')}”).", True
        except (JoseError, ValueError) as exc:
            text, ok = f"Signature check FAILED ({alg}): {type(exc).__name__}.", False
        except httpx.HTTPError:
            text = "Not checked: the issuer's key set could not be fetched."
    return DecodedJwt(label, header, claims, text, ok, truncated_token(token))


def expiry_in_words(exp: object, now: float | None = None) -> str:
    """`expires in 14 minutes` / `expired 3 hours ago` from an `exp` claim (RFC 7519 §4.1.4)."""
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        return "no expiry (exp) claim"
    delta = float(exp) - (time.time() if now is None else now)
    span = _span(abs(delta))
    return f"expires in {span}" if delta > 0 else f"expired {span} ago"


def _span(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    count = int(seconds)
    return f"{count} second{'s' if count != 1 else ''}"
