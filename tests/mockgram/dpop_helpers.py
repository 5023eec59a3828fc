"""A DPoP client's key and the proofs it signs (RFC 9449 §4.2), for Mockgram's tests."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from tests.mockgram.conftest import ISSUER

TOKEN_URL = f"{ISSUER}/oauth/token"
PHOTOS_URL = f"{ISSUER}/api/photos"
USERINFO_URL = f"{ISSUER}/oauth/userinfo"

_counter = iter(range(1, 1_000_000))


class DpopKey:
    """A client's DPoP key pair; the public half travels in each proof's header."""

    def __init__(self, key: ECKey | RSAKey | None = None, alg: str = "ES256") -> None:
        self.key = key or ECKey.generate_key("P-256")
        self.alg = alg

    @property
    def public_jwk(self) -> dict[str, Any]:
        return dict(self.key.as_dict(private=False))

    @property
    def jkt(self) -> str:
        """The RFC 7638 thumbprint Mockgram puts in cnf.jkt."""
        return self.key.thumbprint()

    def proof(
        self,
        htm: str = "POST",
        htu: str = TOKEN_URL,
        *,
        access_token: str | None = None,
        header: dict[str, Any] | None = None,
        drop: tuple[str, ...] = (),
        signing_key: ECKey | RSAKey | None = None,
        **claims: Any,
    ) -> str:
        """A proof for one request; `header`/claims override, `drop` removes claims."""
        body: dict[str, Any] = {
            "jti": f"proof-{next(_counter)}-{time.monotonic_ns()}",
            "htm": htm,
            "htu": htu,
            "iat": int(time.time()),
        }
        if access_token is not None:
            body["ath"] = ath(access_token)
        body |= claims
        for name in drop:
            body.pop(name, None)
        protected = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.public_jwk} | (header or {})
        return jwt.encode(protected, body, signing_key or self.key)


def ath(access_token: str) -> str:
    """RFC 9449 §4.2: base64url(SHA-256(access token))."""
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def dpop_headers(token: str, proof: str) -> dict[str, str]:
    """The headers of a protected request with a DPoP-bound token (RFC 9449 §7.1)."""
    return {"Authorization": f"DPoP {token}", "DPoP": proof}
