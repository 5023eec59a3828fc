"""Signing keys: created once, kept in the database, published at the JWKS endpoint.

Tokens signed before a restart stay valid after it, and every worker signs with the same key.
"""

from __future__ import annotations

import json

from joserfc.jwk import KeySet, RSAKey
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from mockgram.models import AppSecret, SigningKey


class SigningKeys:
    """The active signing key and the public key set, loaded once per process."""

    def __init__(self, private_keys: list[RSAKey]) -> None:
        self.active = private_keys[0]
        self.public_set = KeySet(
            [RSAKey.import_key(k.as_dict(private=False)) for k in private_keys]
        )
        # Precomputed: the JWKS endpoint serves these bytes as they are.
        self.jwks_json = json.dumps(self.public_set.as_dict(private=False)).encode()

    @property
    def kid(self) -> str:
        return str(self.active.kid)


def _generate() -> RSAKey:
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, private=True)
    key.ensure_kid()
    return key


def load_or_create(engine: Engine) -> SigningKeys:
    """Read the active keys; on an empty database create one. Of racing workers one wins."""
    with Session(engine) as session:
        rows = _active_rows(session)
        if not rows:
            key = _generate()
            # The guard row's primary key lets exactly one worker create the first key.
            session.add(AppSecret(name="first-signing-key", value=str(key.kid)))
            session.add(
                SigningKey(kid=str(key.kid), private_jwk=json.dumps(key.as_dict(private=True)))
            )
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
            rows = _active_rows(session)
        return SigningKeys([RSAKey.import_key(json.loads(row.private_jwk)) for row in rows])


def _active_rows(session: Session) -> list[SigningKey]:
    statement = (
        select(SigningKey)
        .where(SigningKey.active == True)  # noqa: E712
        .order_by(SigningKey.created_at.desc())  # type: ignore[attr-defined]
    )
    return list(session.exec(statement).all())
