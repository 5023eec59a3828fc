"""Step 0, ready-made — people and clients from a configuration file, the demo's by default.

The demo (mockgram/demo/mockgram.toml) is John, Jane, their photos and the AwesomeService
clients: the confidential web app, the OAuth debugger's own client and the two single-page
demos (public clients, RFC 6749 §2.1). Its strings name settings (`${awesomeservice_url}`), so
changing AWESOMESERVICE_URL or its secret just works. A --config file's people and clients are
written the same way (mockgram/people.py).

Runs on every start and is idempotent: a person who exists keeps their password and the photos
they kept or deleted, everything else follows the file; clients are brought in line with it.
Several workers may start at once: the one that loses a race on a unique key rolls back and
carries on with what the winner wrote.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from functools import partial

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from mockgram.config import (
    DEMO_CONFIG,
    ClientConfig,
    LoadedConfig,
    UserConfig,
    id_token_alg,
    load_config,
)
from mockgram.models import User
from mockgram.people import PeopleError, PhotoSpec, upsert_client, upsert_user
from mockgram.settings import MockgramSettings

SPA_IMPLICIT_CLIENT_ID = "awesomeservice-spa-implicit"
SPA_PKCE_CLIENT_ID = "awesomeservice-spa-pkce"
# The debugger's client; AWESOMESERVICE_DEBUGGER_CLIENT_ID / _SECRET default to the same.
DEBUGGER_CLIENT_ID = "oauth-debugger"
DEBUGGER_CLIENT_SECRET = "oauth-debugger-demo-secret"  # noqa: S105 (the demo's, published)


def demo_config(settings: MockgramSettings) -> LoadedConfig:
    """The built-in demo configuration, its ${settings} filled in."""
    return load_config(DEMO_CONFIG, settings)


# John and Jane as the demo file describes them (their usernames and photos' scenes).
DEMO_USERS = tuple(
    UserConfig.model_validate(user) for user in tomllib.loads(DEMO_CONFIG.read_text())["users"]
)


def seed_demo_data(engine: Engine, settings: MockgramSettings) -> None:
    """Seed John, Jane, their photos and the AwesomeService clients (idempotent, race-safe)."""
    seed_from_config(engine, demo_config(settings))


def seed_from_config(engine: Engine, loaded: LoadedConfig) -> None:
    """Write the file's people, then its clients, each in its own transaction."""
    with Session(engine) as session:
        for index, user in enumerate(loaded.config.users):
            write = partial(_write_user, session, user)
            # The one unique column an upsert of this person can clash on is their sub.
            _retrying(session, write, loaded, ("users", index, "sub" if user.sub else "username"))
        for index, client in enumerate(loaded.config.clients):
            write = partial(_write_client, session, client, loaded)
            _retrying(session, write, loaded, ("clients", index, "client_id"))


def _retrying(
    session: Session, write: Callable[[], None], loaded: LoadedConfig, loc: tuple[str | int, ...]
) -> None:
    """Run `write` and commit; if another worker wrote the same row first, read it and redo.

    What the database still refuses (a sub another stored person has) is a ConfigError.
    """
    for attempt in range(2):
        try:
            write()
            session.commit()
            return
        except IntegrityError as exc:
            session.rollback()
            if attempt:
                problem = "another stored person already has this value"
                raise loaded.error(loc, problem) from exc
        except PeopleError as exc:
            session.rollback()
            raise loaded.error(loc, str(exc)) from exc


def _write_user(session: Session, user: UserConfig) -> None:
    exists = session.exec(select(User.id).where(User.username == user.username)).first()
    upsert_user(
        session,
        username=user.username,
        # An existing person keeps the password they have (and their photos, see people.py).
        password=None if exists is not None else user.password,
        name=user.name,
        email=user.email,
        email_verified=user.email_verified,
        sub=user.sub,
        claims=user.claims,
        id_token_claims=user.id_token_claims,
        access_token_claims=user.access_token_claims,
        userinfo_claims=user.userinfo_claims,
        photos=[
            PhotoSpec(caption=photo.caption, scene=photo.scene, taken_at=photo.taken_at)
            for photo in user.photos
        ],
    )


def _write_client(session: Session, client: ClientConfig, loaded: LoadedConfig) -> None:
    upsert_client(
        session,
        client_id=client.client_id,
        name=client.name or client.client_id,
        redirect_uris=client.redirect_uris,
        secret=client.secret,
        token_endpoint_auth_method=client.token_endpoint_auth_method,
        allowed_scopes=client.scopes,
        response_types=client.response_types,
        grant_types=client.grant_types,
        id_token_signed_response_alg=id_token_alg(client, loaded.config),
    )
