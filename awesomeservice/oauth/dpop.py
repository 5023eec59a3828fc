"""DPoP from the client's side (RFC 9449 §4.2): a key pair, and a fresh proof per request.

The proof is a small JWT signed with the client's private key: its header carries the public
key (`jwk`), its claims say which request it is for — `htm` the method, `htu` the URL without
query or fragment, `iat` now, `jti` once — plus `ath`, the hash of the access token, when it
goes with one (§4.2), and the server's `nonce` when it asked for one (§8).

`htu` is Mockgram's *public* URL even when the back end calls its internal one (docker
compose): Mockgram compares it with its issuer, the only name it knows itself by.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel

ALG = "ES256"
NONCE_HEADER = "DPoP-Nonce"
KEY_NAME = "dpop_private_jwk"


def access_token_hash(token: str) -> str:
    """§4.2 ath: base64url(SHA-256(the access token))."""
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def htu_of(url: str) -> str:
    """§4.2 htu: the target URI without its query and fragment."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


@dataclass(frozen=True)
class DpopKey:
    """A client's DPoP key pair (ES256); its thumbprint is what a bound token names (cnf.jkt)."""

    key: ECKey

    @classmethod
    def generate(cls) -> DpopKey:
        return cls(ECKey.generate_key("P-256", auto_kid=False))

    @classmethod
    def from_json(cls, private_jwk: dict[str, Any]) -> DpopKey:
        return cls(ECKey.import_key(private_jwk))

    @property
    def jkt(self) -> str:
        """RFC 7638: the SHA-256 thumbprint of the public key."""
        return self.key.thumbprint()

    def proof(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
    ) -> str:
        """A proof for one request (§4.2): typ dpop+jwt, the public jwk, htm, htu, iat, jti."""
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": htu_of(url),
            "iat": int(time.time()),
        }
        if access_token is not None:
            claims["ath"] = access_token_hash(access_token)
        if nonce is not None:
            claims["nonce"] = nonce
        header = {"typ": "dpop+jwt", "alg": ALG, "jwk": self.key.as_dict(private=False)}
        return jwt.encode(header, claims, self.key)


def decoded(proof: str) -> dict[str, Any]:
    """A proof's header and claims, for the pages that show what was sent (never a secret)."""
    header_part, claims_part, _ = proof.split(".")

    def part(text: str) -> Any:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))

    return {"header": part(header_part), "claims": part(claims_part)}


def load_dpop_key(engine: Engine, model: type[SQLModel]) -> DpopKey:
    """The print shop's DPoP key, made once and kept in the database: every worker and restart
    signs with the same key, so a token bound to it keeps working (RFC 9449 §11.4).

    `model` is the app's secrets table (`name`, `value`); of two workers racing to create the
    key, the primary key lets one insert win and both read that one.
    """
    with Session(engine) as session:
        row = session.get(model, KEY_NAME)
        if row is None:
            private = DpopKey.generate().key.as_dict(private=True)
            session.add(model(name=KEY_NAME, value=json.dumps(private)))  # type: ignore[call-arg]
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
            row = session.get(model, KEY_NAME)
        assert row is not None
        return DpopKey.from_json(json.loads(row.value))  # type: ignore[attr-defined]


@dataclass(frozen=True)
class DpopSender:
    """What signs the proofs of one kind of call: the key, and Mockgram's public URL for htu."""

    key: DpopKey
    public_url: str  # Mockgram's issuer: htu names it, whatever address the back end calls

    def proof(self, method: str, path_or_url: str, **extra: Any) -> str:
        url = path_or_url if "://" in path_or_url else self.public_url + path_or_url
        return self.key.proof(method, url, **extra)
