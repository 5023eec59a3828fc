"""DPoP — access and refresh tokens bound to a key the client holds (RFC 9449).

A bearer token works for whoever holds it: copied from a log or a proxy, it works from anywhere.
With DPoP the client makes a key pair, keeps the private half (a non-extractable Web Crypto key
in a browser), and signs a small JWT — the *proof* — for every request: this method, this URL,
now, once. Mockgram puts the key's thumbprint in the access token (`cnf.jkt`, §6.1) and, from
then on, takes the token only together with a fresh proof signed by that key.

A proof is checked in the order of §4.3 (the numbers are its steps):
  1 exactly one DPoP header   2 a well-formed JWT   3 typ, alg, jwk; jti, htm, htu, iat present
  4 typ is dpop+jwt   5 alg asymmetric and supported, never none or HS*
  6 the signature verifies with the jwk in the header   7 that jwk has no private part
  8 htm is the request's method   9 htu is its URI, query and fragment ignored
  10 the nonce Mockgram handed out, when it asks for one (§8, §9)   11 iat within the window
  12 at a resource server: ath is the token's hash and the key is the one the token is bound to
and its `jti` must be new (§11.1): remembered in the database, so replicas agree.

Decisions, written down:
- Nonces are stateless: a time window and an HMAC of it with a secret every worker shares (the
  database's `dpop_nonce` secret). One is valid in its window and the next, so a nonce handed
  out just before a window ends still works. Required only with MOCKGRAM_DPOP_REQUIRE_NONCE.
- htu is compared with Mockgram's public URL (the issuer) plus the request's path, never with
  the Host header a proxy may have rewritten.
- A client that registered `dpop_bound_access_tokens` (§5.2) must send a proof with every token
  request. A public client's refresh token is bound to the key too (§5): the refresh must be
  proven with the same key. A confidential client's is not: its secret binds it already.
- RSA keys shorter than 2048 bits are refused (RFC 7518 §3.3).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry
from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from mockgram.models import Client, DpopProofSeen
from mockgram.oauth.errors import InvalidDpopProofError, UseDpopNonceError
from mockgram.oauth.fapi import requires_sender_constrained_tokens
from mockgram.settings import MockgramSettings
from shared.clock import utcnow

DPOP_HEADER = "DPoP"
NONCE_HEADER = "DPoP-Nonce"
PROOF_TYPE = "dpop+jwt"
# §5, §6.1: the token_type of a DPoP-bound access token, and the Authorization scheme it uses.
TOKEN_TYPE = "DPoP"
# §5.1: what discovery advertises as dpop_signing_alg_values_supported: asymmetric only.
ALGS = ("ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA")
KEY_TYPES = {"EC": "ES", "RSA": "RS PS", "OKP": "EdDSA"}
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
MIN_RSA_BITS = 2048
MAX_PROOF_CHARS = 8192  # a proof with an RSA-4096 jwk is about 1.5 kB
FUTURE_LEEWAY_SECONDS = 60  # a client's clock may run a little ahead of ours
NONCE_WINDOW_SECONDS = 300


@dataclass(frozen=True)
class Proof:
    """A checked proof: the key's thumbprint (RFC 7638) and what makes the proof single-use."""

    jkt: str
    jti: str
    expires_at: int  # after this, iat is too old anyway: the jti need not be remembered longer
    claims: dict[str, Any]


def requires_dpop(client: Client) -> bool:
    """True when the client registered dpop_bound_access_tokens (RFC 9449 §5.2), or is held to
    FAPI 2.0, which allows only sender-constrained tokens (FAPI 2.0 §5.3.2.1)."""
    return bool(client.dpop_bound_access_tokens) or requires_sender_constrained_tokens(client)


def access_token_hash(token: str) -> str:
    """§4.2 ath: base64url of the SHA-256 of the access token's ASCII."""
    return _b64(hashlib.sha256(token.encode("ascii")).digest())


def target_uri(settings: MockgramSettings, request: Request) -> str:
    """The URI a proof must name: Mockgram's public URL and this request's path (§4.3 step 9)."""
    return settings.issuer + request.url.path


def proof_from(request: Request) -> str | None:
    """§4.3 step 1: the one DPoP header's value, or None when there is none."""
    values = request.headers.getlist(DPOP_HEADER)
    if not values:
        return None
    if len(values) > 1:
        raise InvalidDpopProofError("Send exactly one DPoP header.")
    return values[0].strip()


def check_proof(
    value: str,
    *,
    method: str,
    uri: str,
    settings: MockgramSettings,
    nonces: DpopNonces | None,
    access_token: str | None = None,
    now: int | None = None,
) -> Proof:
    """Every check of §4.3 that needs no database; the jti comes next (remember_proof)."""
    now = int(time.time()) if now is None else now
    # Step 2: a single well-formed JWT (JWS compact serialization).
    if len(value) > MAX_PROOF_CHARS:
        raise InvalidDpopProofError("The DPoP proof is too long.")
    try:
        parts = jws.extract_compact(value.encode("ascii"))
        header = dict(parts.protected)
        claims = json.loads(parts.payload)
    except (JoseError, ValueError, TypeError, UnicodeError) as exc:
        raise InvalidDpopProofError("The DPoP proof is not a well-formed JWT.") from exc
    if not isinstance(claims, dict):
        raise InvalidDpopProofError("The DPoP proof's payload is not a JSON object.")
    # Step 3: the header and claims every proof carries.
    missing = [name for name in ("typ", "alg", "jwk") if name not in header]
    missing += [name for name in ("jti", "htm", "htu", "iat") if name not in claims]
    if missing:
        raise InvalidDpopProofError("The DPoP proof lacks " + ", ".join(missing) + ".")
    # Step 4: explicit typing, so no other JWT can pass for a proof.
    if header["typ"] != PROOF_TYPE:
        raise InvalidDpopProofError(f"The DPoP proof's typ must be {PROOF_TYPE}.")
    # Step 5: asymmetric; none and the HMAC algorithms would need no private key at all.
    alg = header["alg"]
    if alg not in ALGS:
        raise InvalidDpopProofError(f"The DPoP proof's alg must be one of: {' '.join(ALGS)}.")
    # Steps 6 and 7: the signature verifies with the public key the proof carries.
    key = public_key(header["jwk"], alg)
    try:
        jws.deserialize_compact(value, key, algorithms=[alg])
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidDpopProofError("The DPoP proof's signature does not verify.") from exc
    # Step 8: the proof was made for this method…
    if claims["htm"] != method:
        raise InvalidDpopProofError(f"The DPoP proof's htm must be {method}.")
    # Step 9: …and for this URI, its query and fragment ignored.
    if not isinstance(claims["htu"], str) or not same_uri(claims["htu"], uri):
        raise InvalidDpopProofError(f"The DPoP proof's htu must be {uri}.")
    # Step 10 (§8, §9): a nonce from Mockgram, when it asks for one.
    if settings.dpop_require_nonce and nonces is not None:
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not nonces.is_valid(nonce, now=now):
            raise UseDpopNonceError(
                "Put the nonce from the DPoP-Nonce header in the proof.",
                headers={NONCE_HEADER: nonces.current(now=now)},
            )
    # Step 11: made just now: not older than the window, not (much) in the future.
    iat = claims["iat"]
    if not isinstance(iat, int) or isinstance(iat, bool):
        raise InvalidDpopProofError("The DPoP proof's iat must be a number of seconds.")
    max_age = settings.dpop_proof_max_age_seconds
    if iat < now - max_age or iat > now + FUTURE_LEEWAY_SECONDS:
        raise InvalidDpopProofError(
            f"The DPoP proof's iat is not within {max_age} seconds of now; make a fresh one."
        )
    jti = claims["jti"]
    if not isinstance(jti, str) or not 0 < len(jti) <= 256:
        raise InvalidDpopProofError("The DPoP proof's jti must be a short unique string.")
    # Step 12, at a resource server (§7): the proof is for this very access token.
    if access_token is not None and not hmac.compare_digest(
        str(claims.get("ath", "")), access_token_hash(access_token)
    ):
        raise InvalidDpopProofError(
            "The DPoP proof's ath must be the hash of the access token it is sent with."
        )
    return Proof(jkt=key.thumbprint(), jti=jti, expires_at=iat + max_age, claims=claims)


def public_key(jwk: object, alg: str) -> Any:
    """§4.3 steps 6–7: the proof's jwk as a public key fit for `alg`, never a private one."""
    if not isinstance(jwk, dict):
        raise InvalidDpopProofError("The DPoP proof's jwk must be a JSON object.")
    # Step 7: a private key in the header would be a key given away, and a client that errs.
    if any(member in jwk for member in PRIVATE_MEMBERS):
        raise InvalidDpopProofError("The DPoP proof's jwk must be a public key.")
    kty = jwk.get("kty")
    if not isinstance(kty, str) or not any(
        alg.startswith(prefix) for prefix in KEY_TYPES.get(kty, "-").split()
    ):
        raise InvalidDpopProofError(f"The DPoP proof's jwk (kty {kty}) does not fit alg {alg}.")
    if kty == "RSA" and rsa_bits(jwk) < MIN_RSA_BITS:
        raise InvalidDpopProofError(f"An RSA key for DPoP needs at least {MIN_RSA_BITS} bits.")
    try:
        return JWKRegistry.import_key(jwk)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise InvalidDpopProofError("The DPoP proof's jwk is not a valid public key.") from exc


def rsa_bits(jwk: dict[str, Any]) -> int:
    """The size of an RSA modulus in a JWK, 0 when it cannot be read."""
    modulus = jwk.get("n")
    if not isinstance(modulus, str):
        return 0
    try:
        raw = base64.urlsafe_b64decode(modulus + "=" * (-len(modulus) % 4))
    except ValueError:
        return 0
    return int.from_bytes(raw, "big").bit_length()


def same_uri(htu: str, expected: str) -> bool:
    """§4.3 step 9: the same URI once query and fragment are dropped (RFC 3986 §6.2.2, §6.2.3)."""
    ours = _normalized(expected)
    return ours is not None and _normalized(htu) == ours


def _normalized(uri: str) -> tuple[str, str, str] | None:
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if port is None or port == {"http": 80, "https": 443}.get(scheme):
        port = None
    host = (parts.hostname or "") + ("" if port is None else f":{port}")
    return scheme, host, parts.path or "/"


def remember_proof(session: Session, proof: Proof) -> None:
    """§11.1: a proof is used once. Its jti is recorded; a second use is refused (not committed).

    One INSERT … ON CONFLICT DO NOTHING: of two racing requests, exactly one inserts the row.
    """
    now = utcnow()
    session.exec(delete(DpopProofSeen).where(col(DpopProofSeen.expires_at) < now))  # type: ignore[call-overload]
    key = hashlib.sha256(f"{proof.jkt}\n{proof.jti}".encode()).hexdigest()
    expires_at = datetime.fromtimestamp(proof.expires_at, UTC)
    dialect = session.get_bind().dialect.name
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(dialect)
    if insert is None:  # another database: read, then write
        if session.get(DpopProofSeen, key) is not None:
            raise InvalidDpopProofError("This DPoP proof was used before; make a new one.")
        session.add(DpopProofSeen(key=key, expires_at=expires_at))
        session.flush()
        return
    statement = (
        insert(DpopProofSeen)
        .values(key=key, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(col(DpopProofSeen.key))
    )
    if session.exec(statement).first() is None:  # type: ignore[call-overload]
        raise InvalidDpopProofError("This DPoP proof was used before; make a new one.")


class DpopNonces:
    """Server nonces (§8, §9) without storage: a time window, signed with a shared secret."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"dpop-nonce\n" + secret.encode()).digest()

    def current(self, *, now: int | None = None) -> str:
        """The nonce for this window."""
        window = (int(time.time()) if now is None else now) // NONCE_WINDOW_SECONDS
        return self._for(window)

    def is_valid(self, nonce: str, *, now: int | None = None) -> bool:
        """True for this window's nonce and the one before it."""
        window = (int(time.time()) if now is None else now) // NONCE_WINDOW_SECONDS
        return any(hmac.compare_digest(nonce, self._for(w)) for w in (window, window - 1))

    def _for(self, window: int) -> str:
        mac = hmac.new(self._key, str(window).encode(), hashlib.sha256).digest()
        return f"{window:x}.{_b64(mac[:16])}"


def token_request_key(
    request: Request,
    session: Session,
    client: Client,
    *,
    settings: MockgramSettings,
    nonces: DpopNonces | None,
) -> str | None:
    """§5: the thumbprint of the key a token request proves it holds; None without a proof."""
    value = proof_from(request)
    if value is None:
        # §5.2: a client that registered dpop_bound_access_tokens always sends a proof.
        if requires_dpop(client):
            raise InvalidDpopProofError(
                "This client registered dpop_bound_access_tokens: send a DPoP proof."
            )
        return None
    uri = target_uri(settings, request)
    proof = check_proof(value, method="POST", uri=uri, settings=settings, nonces=nonces)
    remember_proof(session, proof)
    session.commit()  # the proof is spent even if the grant is refused further on
    return proof.jkt


def check_refresh_binding(bound_jkt: str | None, jkt: str | None) -> None:
    """§5: a refresh token bound to a key is refreshed only with a proof by that key."""
    if bound_jkt is None:
        return
    if jkt is None:
        raise InvalidDpopProofError("This refresh token is DPoP-bound: send a DPoP proof.")
    if not hmac.compare_digest(bound_jkt, jkt):
        raise InvalidDpopProofError(
            "This refresh token is bound to another DPoP key; sign the proof with that key."
        )


def refresh_binding(client: Client, jkt: str | None) -> str | None:
    """§5: the key a new refresh token is bound to: a public client's proof key, else none."""
    return jkt if client.is_public else None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
