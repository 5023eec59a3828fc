"""Checking an id_token before believing it: OpenID Connect Core 1.0 §3.1.3.7 (SECURITY.md C4).

An id_token is the provider's signed statement "this is who logged in, for you, just now". Each
check below is one line of the spec; each refusal says which. The signature is checked with
joserfc against the provider's published keys (JWKS), with an algorithm this client expects —
never the one the token asks for: `alg: none` and HMAC signed with the public key are the two
classic forgeries (RFC 8725 §2.1, §3.1).
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

from awesomeservice.events import Events, IdTokenValidated, RequestRefused
from awesomeservice.oauth.discovery import Discovery, ProviderMetadata
from awesomeservice.oauth.refused import Refused
from shared.hashing import constant_equals
from shared.oauth_spec import left_half_hash

# Clock skew we tolerate between the provider and us (OIDC Core §3.1.3.7 allows "a few minutes").
LEEWAY_SECONDS = 60
# The key type each algorithm needs (RFC 7518 §3.1); anything else is refused.
KEY_TYPE_FOR_ALG = {"RS256": "RSA", "ES256": "EC"}
# Every `reason` an IdTokenRejected below can carry: /errors/{reason} explains each one
# (awesomeservice/explanations.py), and a test holds the two lists together.
REASONS = frozenset(
    {
        "malformed",
        "alg_not_allowed",
        "kid_unknown",
        "kid_missing",
        "alg_key_mismatch",
        "bad_signature",
        "iss_mismatch",
        "sub_invalid",
        "aud_mismatch",
        "aud_untrusted",
        "azp_missing",
        "azp_mismatch",
        "exp_missing",
        "expired",
        "iat_missing",
        "iat_future",
        "nonce_mismatch",
        "at_hash_missing",
        "bad_at_hash",
        "c_hash_missing",
        "bad_c_hash",
    }
)


class IdTokenRejected(Refused):
    """The id_token failed one check; `reason` is a short code, `message` says which rule."""

    def __init__(self, reason: str, message: str, rfc: str = "OIDC Core §3.1.3.7") -> None:
        super().__init__(reason, rfc, message)
        self.message = message


class UnknownKey(IdTokenRejected):
    """The header names a `kid` the key set does not hold (maybe the provider rotated keys)."""


@dataclass(frozen=True)
class IdToken:
    """A checked id_token: its decoded header and claims."""

    header: dict[str, Any]
    claims: dict[str, Any]

    @property
    def sub(self) -> str:
        return str(self.claims["sub"])

    @property
    def iss(self) -> str:
        return str(self.claims["iss"])


def _b64url_json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def read_header(token: str) -> dict[str, Any]:
    """The JOSE header, decoded but not trusted (RFC 7515 §7.1: three dot-separated parts)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise IdTokenRejected("malformed", "It is not a signed JWT (three parts).", "RFC 7515 §7.1")
    try:
        header = _b64url_json(parts[0])
    except (ValueError, UnicodeDecodeError) as exc:
        raise IdTokenRejected(
            "malformed", "Its header is not Base64url JSON.", "RFC 7515 §7.1"
        ) from exc
    if not isinstance(header, dict):
        raise IdTokenRejected("malformed", "Its header is not a JSON object.", "RFC 7515 §4")
    return header


def _pick_key(keys: KeySet, header: dict[str, Any], alg: str) -> RSAKey | ECKey:
    """The provider's key the header points at, of the right type for `alg`."""
    kid = header.get("kid")
    wanted = KEY_TYPE_FOR_ALG[alg]
    candidates = [key for key in keys.keys if key.key_type == wanted]
    if isinstance(kid, str):
        candidates = [key for key in candidates if key.kid == kid]
        if not candidates:
            raise UnknownKey(
                "kid_unknown",
                f"It was signed with key “{kid[:64]}”, which the provider does not publish.",
                "OIDC Core §10.1.1",
            )
    elif len(candidates) != 1:
        # OIDC Core §10.1: without a kid the key must be unambiguous.
        raise IdTokenRejected(
            "kid_missing", "It names no key (kid) and the provider has several.", "OIDC Core §10.1"
        )
    key = candidates[0]
    # RFC 7517 §4.4: a key that declares its algorithm is used with that algorithm only.
    if key.alg not in (None, alg):
        raise IdTokenRejected("alg_key_mismatch", f"Key {key.kid} is for {key.alg}, not {alg}.")
    if isinstance(key, RSAKey | ECKey):
        return key
    raise IdTokenRejected("alg_key_mismatch", "The key is not an RSA or EC key.")


def verify_id_token(
    token: str,
    *,
    keys: KeySet,
    issuer: str,
    client_id: str,
    algorithms: list[str],
    nonce: str | None,
    access_token: str | None = None,
    code: str | None = None,
    require_at_hash: bool = False,
    require_c_hash: bool = False,
    now: float | None = None,
) -> IdToken:
    """Run every check of OIDC Core §3.1.3.7 (and §3.2.2.11, §3.3.2.11 for the hashes)."""
    header, claims = _signed_claims(token, keys, algorithms)
    alg = str(header["alg"])
    _check_parties(claims, issuer, client_id)
    _check_times(claims, time.time() if now is None else now)
    # Step 11: the nonce we sent must come back unchanged (binds the token to this login).
    if nonce is not None and not nonce_matches(claims, nonce):
        raise IdTokenRejected(
            "nonce_mismatch", "Its nonce is not the one this login sent (replay?)."
        )
    # OIDC Core §3.2.2.9 / §3.3.2.11: at_hash ties the access token to this id_token.
    _check_hash(claims, "at_hash", access_token, alg, required=require_at_hash)
    # OIDC Core §3.3.2.11: c_hash ties the code to this id_token.
    _check_hash(claims, "c_hash", code, alg, required=require_c_hash)
    return IdToken(header=header, claims=claims)


def _signed_claims(
    token: str, keys: KeySet, algorithms: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Steps 6–7: the header and the claims, once the signature verifies with an allowed alg."""
    header = read_header(token)
    alg = header.get("alg")
    # RFC 8725 §3.1, OIDC Core §3.1.3.7 step 7: only the algorithm we expect; never "none",
    # never HS256 (an HMAC "signed" with the provider's public key would verify otherwise).
    if not isinstance(alg, str) or alg not in algorithms or alg not in KEY_TYPE_FOR_ALG:
        raise IdTokenRejected(
            "alg_not_allowed",
            f"It is signed with “{str(alg)[:20]}”; only {', '.join(algorithms)} is accepted here.",
            "OIDC Core §3.1.3.7; RFC 8725 §3.1",
        )
    key = _pick_key(keys, header, alg)
    # OIDC Core §3.1.3.7 step 6: the signature, with the provider's key and the expected alg.
    try:
        decoded = jwt.decode(token, key, algorithms=[alg])
    except JoseError as exc:
        raise IdTokenRejected(
            "bad_signature", "Its signature does not verify with the provider's key."
        ) from exc
    except (ValueError, TypeError) as exc:
        raise IdTokenRejected("malformed", "Its payload is not a JSON object.") from exc
    return header, dict(decoded.claims)


def _check_parties(claims: dict[str, Any], issuer: str, client_id: str) -> None:
    """Steps 2–5: who issued it, about whom, and for whom."""
    # Step 2: iss must equal the issuer, exactly.
    if claims.get("iss") != issuer:
        raise IdTokenRejected(
            "iss_mismatch", f"It was issued by “{str(claims.get('iss'))[:200]}”, not “{issuer}”."
        )
    sub = claims.get("sub")
    # OIDC Core §2: sub is required, a string of at most 255 ASCII characters.
    if not isinstance(sub, str) or not sub or len(sub) > 255 or not sub.isascii():
        raise IdTokenRejected("sub_invalid", "It has no valid subject (sub).", "OIDC Core §2")
    # Step 3: aud must contain our client_id and no audience we do not trust.
    audiences = audiences_of(claims)
    if client_id not in audiences:
        raise IdTokenRejected("aud_mismatch", f"It is meant for {audiences!r:.200}, not for us.")
    if any(audience != client_id for audience in audiences):
        raise IdTokenRejected(
            "aud_untrusted", "It is also meant for other audiences we do not trust."
        )
    # Steps 4–5: with several audiences azp is needed; when present it must be us.
    azp = claims.get("azp")
    if len(audiences) > 1 and azp is None:
        raise IdTokenRejected("azp_missing", "It has several audiences and no azp.")
    if azp is not None and azp != client_id:
        raise IdTokenRejected("azp_mismatch", f"It was handed to “{str(azp)[:100]}”, not to us.")


def _check_times(claims: dict[str, Any], now: float) -> None:
    """Steps 9–10: unexpired, and issued in the past, within the clock skew we allow."""
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise IdTokenRejected("exp_missing", "It has no expiry time (exp).")
    if exp + LEEWAY_SECONDS <= now:
        raise IdTokenRejected("expired", "It has expired (exp is in the past).")
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise IdTokenRejected("iat_missing", "It does not say when it was issued (iat).")
    if iat > now + LEEWAY_SECONDS:
        raise IdTokenRejected("iat_future", "It claims to be issued in the future (iat).")


def audiences_of(claims: dict[str, Any]) -> list[Any]:
    """OIDC Core §2: `aud` is one string or an array of them."""
    aud = claims.get("aud")
    return [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []


def nonce_matches(claims: dict[str, Any], nonce: str) -> bool:
    """OIDC Core §3.1.3.7 step 11: the nonce that was sent, unchanged."""
    got = claims.get("nonce")
    return isinstance(got, str) and constant_equals(got, nonce)


def hash_check(claims: dict[str, Any], name: str, value: str | None, alg: str) -> str:
    """How at_hash or c_hash compares with the token or code it stands for (OIDC Core
    §3.3.2.11): "absent", "unchecked" (nothing to compare with), "ok" or "mismatch"."""
    present = claims.get(name)
    if present is None:
        return "absent"
    if not value:
        return "unchecked"  # e.g. c_hash in a token from the token endpoint
    expected = left_half_hash(value, alg)
    ok = expected is not None and isinstance(present, str) and constant_equals(present, expected)
    return "ok" if ok else "mismatch"


def _check_hash(
    claims: dict[str, Any], name: str, value: str | None, alg: str, *, required: bool
) -> None:
    outcome = hash_check(claims, name, value, alg)
    if outcome == "absent" and required:
        raise IdTokenRejected(f"{name}_missing", f"It has no {name}, which this flow needs.")
    if outcome == "mismatch":
        raise IdTokenRejected(f"bad_{name}", f"Its {name} does not match what we received.")


async def validate_id_token(
    token: str,
    *,
    http: httpx.AsyncClient,
    events: Events,
    discovery: Discovery,
    metadata: ProviderMetadata,
    client_id: str,
    nonce: str | None,
    access_token: str | None = None,
    code: str | None = None,
) -> IdToken:
    """verify_id_token against the provider's JWKS, fetched again once for an unknown kid."""
    arguments: dict[str, Any] = {
        "issuer": metadata.issuer,
        "client_id": client_id,
        "algorithms": metadata.id_token_algorithms,
        "nonce": nonce,
        "access_token": access_token,
        "code": code,
    }
    keys = await discovery.jwks(http, metadata)
    try:
        try:
            checked = verify_id_token(token, keys=keys, **arguments)
        except UnknownKey:
            # OIDC Core §10.1.1: the provider may have rotated its keys: fetch the set again.
            keys = await discovery.jwks(http, metadata, refresh=True)
            checked = verify_id_token(token, keys=keys, **arguments)
    except IdTokenRejected as rejected:
        await events.announce(RequestRefused(step=5, reason=rejected.reason))
        raise
    await events.announce(IdTokenValidated(metadata.issuer, checked.sub, client_id))
    return checked
