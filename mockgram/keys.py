"""Signing keys: created once, kept in the database, published at the JWKS endpoint.

Two keys, one per algorithm Mockgram signs with (RFC 7518 §3.1): an RSA key (RS256) for access
tokens and, by default, id_tokens; an EC P-256 key (ES256) for id_tokens of clients that
registered `id_token_signed_response_alg=ES256` (OIDC Dynamic Client Registration §2). Both
public halves are in the JWKS, each with its `kid`, `use=sig` and `alg` (RFC 7517 §4).

Tokens signed before a restart stay valid after it, and every worker signs with the same keys.
A database from before ES256 existed gets its EC key on the next start.
"""

from __future__ import annotations

import json

from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from mockgram.models import AppSecret, SigningKey
from mockgram.settings import MockgramSettings
from shared.clock import utcnow

PrivateKey = RSAKey | ECKey

RS256 = "RS256"
ES256 = "ES256"
ALGORITHMS = (RS256, ES256)


class SigningKeys:
    """The active key per algorithm and the public key set, loaded once per process."""

    def __init__(self, private_keys: list[RSAKey], ec_keys: list[ECKey] | None = None) -> None:
        self.active = private_keys[0]  # RS256: access tokens (RFC 9068 §2.1) and id_tokens
        self.ec_keys = ec_keys or []
        self.ec = self.ec_keys[0] if self.ec_keys else None  # ES256: id_tokens that ask for it
        public: list[RSAKey | ECKey] = [
            RSAKey.import_key(k.as_dict(private=False)) for k in private_keys
        ]
        public += [ECKey.import_key(k.as_dict(private=False)) for k in self.ec_keys]
        self.public_set = KeySet(public)  # type: ignore[arg-type]
        # Precomputed: the JWKS endpoint serves these bytes as they are.
        self.jwks_json = json.dumps(self.public_set.as_dict(private=False)).encode()

    @property
    def kid(self) -> str:
        return str(self.active.kid)

    def for_alg(self, alg: str) -> PrivateKey:
        """The active private key for RS256 or ES256; never `none` (OIDC Core §2)."""
        if alg == RS256:
            return self.active
        if alg == ES256 and self.ec is not None:
            return self.ec
        raise ValueError(f"No signing key for {alg!r}.")


def _generate(alg: str) -> PrivateKey:
    parameters = {"use": "sig", "alg": alg}
    key: PrivateKey
    if alg == ES256:
        key = ECKey.generate_key("P-256", parameters=parameters, private=True)
    else:
        key = RSAKey.generate_key(2048, parameters=parameters, private=True)
    key.ensure_kid()
    return key


# The guard row whose primary key lets exactly one of several racing workers create a key.
_GUARDS = {RS256: "first-signing-key", ES256: "first-ec-signing-key"}


def _create_first(session: Session, alg: str) -> None:
    """Create the first key for `alg`; of racing workers one wins, the others roll back."""
    key = _generate(alg)
    stored = json.dumps(key.as_dict(private=True))
    session.add(AppSecret(name=_GUARDS[alg], value=str(key.kid)))
    session.add(SigningKey(kid=str(key.kid), alg=alg, private_jwk=stored))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
    else:
        _remember(stored, key)


# Stored key text → the parsed key. Parsing an RSA private key validates it, which costs about
# as much as making one; a stored key never changes, so each process parses it once.
_PARSED: dict[str, PrivateKey] = {}
_PARSED_MAX = 64  # a server holds a handful; a test run builds many apps


def _remember(stored: str, key: PrivateKey) -> None:
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    _PARSED[stored] = key


def _parse(stored: str, alg: str) -> PrivateKey:
    key = _PARSED.get(stored)
    if key is None:
        key_type = ECKey if alg == ES256 else RSAKey
        key = key_type.import_key(json.loads(stored))
        _remember(stored, key)
    return key


def load_or_create(engine: Engine, pinned: PrivateKey | None = None) -> SigningKeys:
    """Read the active keys; create what is missing (one per algorithm). Racing workers agree.

    A pinned key (the configuration's `[signing]`, see parse_pinned_key) is the only key of its
    algorithm: nothing is stored for it, and the JWKS publishes it with its own kid.
    """
    pinned_alg = None if pinned is None else (ES256 if isinstance(pinned, ECKey) else RS256)
    with Session(engine) as session:
        for alg in ALGORITHMS:
            if alg != pinned_alg and not _active_rows(session, alg):
                _create_first(session, alg)
        keys = {
            alg: [pinned]
            if alg == pinned_alg
            else [_parse(row.private_jwk, alg) for row in _active_rows(session, alg)]
            for alg in ALGORITHMS
        }
        return SigningKeys(keys[RS256], keys[ES256])  # type: ignore[arg-type]


def rotate(engine: Engine, *, retire_old: bool = False) -> SigningKeys:
    """A new active key per algorithm, signing from now on; the old ones stay in the JWKS so
    tokens they signed still verify, unless `retire_old` (then those tokens stop verifying)."""
    with Session(engine) as session:
        if retire_old:
            for row in session.exec(select(SigningKey).where(SigningKey.active == True)):  # noqa: E712
                row.active = False
                session.add(row)
        for alg in ALGORITHMS:
            key = _generate(alg)
            stored = json.dumps(key.as_dict(private=True))
            session.add(
                SigningKey(kid=str(key.kid), alg=alg, private_jwk=stored, created_at=utcnow())
            )
            _remember(stored, key)
        session.commit()
    return load_or_create(engine)


def unpublished_key(alg: str) -> PrivateKey:
    """A fresh key that is in no JWKS: what it signs must fail any client's signature check."""
    return _generate(alg)


def _active_rows(session: Session, alg: str) -> list[SigningKey]:
    statement = (
        select(SigningKey)
        .where(SigningKey.active == True, SigningKey.alg == alg)  # noqa: E712
        .order_by(SigningKey.created_at.desc())  # type: ignore[attr-defined]
    )
    return list(session.exec(statement).all())


def parse_pinned_key(text: str, *, alg: str, kid: str | None = None) -> PrivateKey:
    """A private key given as a JWK (JSON) or PEM, for `alg`; ValueError saying what is wrong.

    Its `kid` is the one given, else the JWK's own, else its RFC 7638 thumbprint: the same key
    always has the same kid, so a test suite can pin both.
    """
    key_type = ECKey if alg == ES256 else RSAKey
    stripped = text.strip()
    try:
        value: str | dict[str, object] = (
            json.loads(stripped) if stripped.startswith("{") else stripped
        )
        key = key_type.import_key(value)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - any parse failure is one message to the user
        kind = "an EC P-256" if alg == ES256 else "an RSA"
        raise ValueError(f"not {kind} private key (JWK or PEM) usable for {alg}") from exc
    if not key.is_private:
        raise ValueError("this is a public key; signing needs the private key")
    if isinstance(key, ECKey) and key.as_dict().get("crv") != "P-256":
        raise ValueError("ES256 needs an EC key on the P-256 curve")
    parameters = {k: v for k, v in key.as_dict(private=True).items() if k not in ("use", "alg")}
    parameters |= {"use": "sig", "alg": alg}
    if kid:
        parameters["kid"] = kid
    pinned = key_type.import_key(parameters)  # type: ignore[arg-type]
    pinned.ensure_kid()
    return pinned


def pinned_key(settings: MockgramSettings) -> PrivateKey | None:
    """The key the settings pin (MOCKGRAM_SIGNING_KEY or the configuration's [signing])."""
    if settings.signing_key is None:
        return None
    return parse_pinned_key(
        settings.signing_key, alg=settings.signing_alg, kid=settings.signing_key_id
    )
