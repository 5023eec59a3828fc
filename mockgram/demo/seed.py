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

Outside demo mode (shared/demo.py) a secret left unset is generated: the two client secrets once,
kept in the database; the people's password when they are created, or when they still have the
published demo password. Each is printed once, with what AwesomeService must be told.
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
from mockgram.models import AppSecret, User
from mockgram.people import PeopleError, PhotoSpec, upsert_client, upsert_user
from mockgram.settings import MockgramSettings
from shared import demo
from shared.db import load_or_create_secret
from shared.hashing import hash_password, verify_password

SPA_IMPLICIT_CLIENT_ID = "awesomeservice-spa-implicit"
SPA_PKCE_CLIENT_ID = "awesomeservice-spa-pkce"
KIOSK_CLIENT_ID = "awesomeservice-kiosk"  # the print kiosk (RFC 8628 device grant)
# The debugger's client; AWESOMESERVICE_DEBUGGER_CLIENT_ID defaults to the same.
DEBUGGER_CLIENT_ID = "oauth-debugger"
# The seeded confidential clients' secrets: setting, the variable AwesomeService reads, what it is.
CLIENT_SECRETS = (
    (
        "awesomeservice_client_secret",
        "AWESOMESERVICE_CLIENT_SECRET",
        "AwesomeService's client secret",
    ),
    (
        "debugger_client_secret",
        "AWESOMESERVICE_DEBUGGER_CLIENT_SECRET",
        "The OAuth debugger's client secret",
    ),
)


def demo_config(settings: MockgramSettings) -> LoadedConfig:
    """The built-in demo configuration, its ${settings} filled in."""
    return load_config(DEMO_CONFIG, settings)


# John and Jane as the demo file describes them (their usernames and photos' scenes).
DEMO_USERS = tuple(
    UserConfig.model_validate(user) for user in tomllib.loads(DEMO_CONFIG.read_text())["users"]
)


def seed_demo_data(engine: Engine, settings: MockgramSettings) -> None:
    """Seed John, Jane, their photos and the AwesomeService clients (idempotent, race-safe)."""
    shown: list[str] = []
    settings = with_client_secrets(engine, settings, shown)
    password = settings.demo_password or demo.new_password()
    with Session(engine) as session:
        existing = set(session.exec(select(User.username)).all())
    seed_from_config(engine, demo_config(settings.model_copy(update={"demo_password": password})))
    given = [user.username for user in DEMO_USERS if user.username not in existing]
    if not settings.demo:
        given += replace_published_passwords(engine, password, existing)
    if given and not settings.demo_password:
        shown.append(f"  Password of the Mockgram users {' and '.join(given)}:  {password}")
    demo.announce("Mockgram", shown)


def with_client_secrets(
    engine: Engine, settings: MockgramSettings, shown: list[str]
) -> MockgramSettings:
    """The settings with both client secrets: as set, or generated once and kept (not in demo)."""
    generated = {}
    for field, variable, what in CLIENT_SECRETS:
        if getattr(settings, field):
            continue

        def show(value: str, variable: str = variable, what: str = what) -> None:
            shown.append(f"  {what}; start AwesomeService with\n    {variable}={value}")

        generated[field] = load_or_create_secret(engine, AppSecret, field, on_create=show)
    return settings.model_copy(update=generated)


def replace_published_passwords(engine: Engine, password: str, existing: set[str]) -> list[str]:
    """Outside demo mode, demo people a demo database left with the published password get
    `password` instead; returns their usernames."""
    replaced: list[str] = []
    with Session(engine) as session:
        for person in DEMO_USERS:
            if person.username not in existing:
                continue
            user = session.exec(select(User).where(User.username == person.username)).first()
            if user is None or not verify_password(user.password_hash, demo.MOCKGRAM_PASSWORD):
                continue
            user.password_hash = hash_password(password)
            session.add(user)
            replaced.append(person.username)
        session.commit()
    return replaced


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
        response_types=client.response_type_list,
        grant_types=client.grant_types,
        id_token_signed_response_alg=id_token_alg(client, loaded.config),
        post_logout_redirect_uris=client.post_logout_redirect_uris,
        require_pushed_authorization_requests=client.require_pushed_authorization_requests,
        fapi2_security_profile=client.fapi2_security_profile,
        dpop_bound_access_tokens=client.dpop_bound_access_tokens,
    )
