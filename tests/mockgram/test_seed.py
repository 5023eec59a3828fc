"""The demo data: two people with a dozen real photos each, and the AwesomeService clients."""

from __future__ import annotations

import io
import threading

from PIL import Image
from sqlmodel import Session, func, select

from mockgram.clients import allowed_response_types
from mockgram.demo.seed import DEBUGGER_CLIENT_ID, seed_demo_data
from mockgram.models import Client, MockgramTable, Photo, User
from mockgram.settings import MockgramSettings
from shared.db import create_schema, make_engine
from shared.demo import DEBUGGER_CLIENT_SECRET
from shared.hashing import hash_secret, verify_password
from shared.oauth_spec import canonical_response_type
from tests.mockgram.oidc_helpers import RESPONSE_TYPES


def settings(**overrides: object) -> MockgramSettings:
    values: dict[str, object] = {
        "issuer": "http://mockgram.test",
        "database_url": "sqlite://",
        "demo": True,
        "seed_demo_data": False,
        "secret_key": "test-secret-key-for-sessions",
        "awesomeservice_url": "http://client.test",
        "demo_password": "demo-pass",
    }
    return MockgramSettings(**{**values, **overrides})


def fresh_engine(url: str = "sqlite://"):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    create_schema(engine, MockgramTable.metadata)
    return engine


def counts(engine) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return (
            session.exec(select(func.count()).select_from(User)).one(),
            session.exec(select(func.count()).select_from(Photo)).one(),
            session.exec(select(func.count()).select_from(Client)).one(),
        )


def test_seed_makes_john_jane_their_photos_and_the_client() -> None:
    engine = fresh_engine()
    seed_demo_data(engine, settings())
    assert counts(engine) == (2, 24, 5)
    with Session(engine) as session:
        john = session.exec(select(User).where(User.username == "john")).one()
        jane = session.exec(select(User).where(User.username == "jane")).one()
        assert (john.name, john.email) == ("John Appleseed", "john@mockgram.test")
        assert jane.name == "Jane Doe"
        assert verify_password(john.password_hash, "demo-pass")
        assert john.password_hash.startswith("$argon2")
        for user in (john, jane):
            photos = session.exec(select(Photo).where(Photo.owner_id == user.id)).all()
            assert len(photos) == 12
            assert len({p.caption for p in photos}) == 12
            for photo in photos:
                assert photo.content_type == "image/jpeg"
                with Image.open(io.BytesIO(photo.image)) as image:
                    image.load()  # really decodes
                    assert image.format == "JPEG"
                    assert image.size == (photo.width, photo.height)
        client = session.get(Client, "awesomeservice")
        assert client is not None
        assert client.name == "AwesomeService"
        assert client.client_type == "confidential"
        assert client.secret_hash == hash_secret("awesomeservice-demo-secret")
        assert client.redirect_uri_list == [
            "http://client.test/connect/callback",
            "http://client.test/login/callback",
            "http://client.test/debugger/callback",
        ]
        assert client.scope_set == {"openid", "profile", "email", "offline_access", "photos.read"}
        assert client.token_endpoint_auth_method == "client_secret_basic"
        assert client.response_types == "code"
        # Configured by the operator, not by a stranger: verified (SECURITY.md M8).
        assert all(seeded.verified for seeded in session.exec(select(Client)).all())


def test_seed_makes_the_debugger_a_client_of_every_response_type() -> None:
    engine = fresh_engine()
    seed_demo_data(engine, settings())
    with Session(engine) as session:
        debugger = session.get(Client, DEBUGGER_CLIENT_ID)
        assert debugger is not None and DEBUGGER_CLIENT_ID == "oauth-debugger"
        assert debugger.client_type == "confidential"
        assert debugger.secret_hash == hash_secret(DEBUGGER_CLIENT_SECRET)
        assert debugger.token_endpoint_auth_method == "client_secret_basic"
        assert debugger.redirect_uri_list == ["http://client.test/debugger/callback"]
        assert debugger.scope_set == {"openid", "profile", "email", "offline_access", "photos.read"}
        assert allowed_response_types(debugger) == RESPONSE_TYPES
        # Least privilege: AwesomeService itself keeps the code flow only.
        web_app = session.get(Client, "awesomeservice")
        assert web_app is not None and allowed_response_types(web_app) == ["code"]


def test_seeded_response_types_are_written_once_each_in_canonical_order() -> None:
    engine = fresh_engine()
    seed_demo_data(engine, settings())
    with Session(engine) as session:
        for client in session.exec(select(Client)).all():
            words = client.response_types.split()
            assert len(words) == len(set(words)), client.client_id
            assert client.response_types == canonical_response_type(frozenset(words))


def test_seed_brings_an_old_spa_client_in_line_and_follows_the_debugger_url() -> None:
    engine = fresh_engine()
    seed_demo_data(engine, settings())
    with Session(engine) as session:
        implicit = session.get(Client, "awesomeservice-spa-implicit")
        assert implicit is not None
        implicit.response_types = "token id_token token"  # as seeded before
        session.add(implicit)
        session.commit()
    seed_demo_data(engine, settings(awesomeservice_url="http://prints.example:9000"))
    with Session(engine) as session:
        implicit = session.get(Client, "awesomeservice-spa-implicit")
        debugger = session.get(Client, DEBUGGER_CLIENT_ID)
        assert implicit is not None and debugger is not None
        assert implicit.response_types == "id_token token"
        assert debugger.redirect_uri_list == ["http://prints.example:9000/debugger/callback"]


def test_seed_makes_the_two_spa_demo_clients_public() -> None:
    engine = fresh_engine()
    seed_demo_data(engine, settings())
    with Session(engine) as session:
        implicit = session.get(Client, "awesomeservice-spa-implicit")
        pkce = session.get(Client, "awesomeservice-spa-pkce")
        assert implicit is not None and pkce is not None
        for client in (implicit, pkce):
            assert client.is_public
            assert client.secret_hash is None
            assert client.token_endpoint_auth_method == "none"
        assert implicit.redirect_uri_list == ["http://client.test/spa/implicit"]
        assert implicit.response_types == "id_token token"
        assert implicit.scope_set == {"openid", "profile", "photos.read"}
        assert pkce.redirect_uri_list == ["http://client.test/spa/pkce"]
        assert pkce.response_types == "code"
        assert pkce.scope_set == {"openid", "profile", "photos.read", "offline_access"}


def test_seed_brings_a_changed_spa_client_back_in_line() -> None:
    engine = fresh_engine()
    seed_demo_data(engine, settings())
    with Session(engine) as session:
        client = session.get(Client, "awesomeservice-spa-pkce")
        assert client is not None
        client.redirect_uris = "http://evil.test/cb"
        session.add(client)
        session.commit()
    seed_demo_data(engine, settings(awesomeservice_url="http://prints.example:9000"))
    with Session(engine) as session:
        client = session.get(Client, "awesomeservice-spa-pkce")
        assert client is not None
        assert client.redirect_uri_list == ["http://prints.example:9000/spa/pkce"]


def test_seed_is_idempotent_and_keeps_what_people_changed() -> None:
    engine = fresh_engine()
    seed_demo_data(engine, settings())
    with Session(engine) as session:
        john = session.exec(select(User).where(User.username == "john")).one()
        deleted = session.exec(select(Photo).where(Photo.owner_id == john.id)).first()
        session.delete(deleted)
        session.commit()
    seed_demo_data(engine, settings(demo_password="another-pass"))
    assert counts(engine) == (2, 23, 5)  # John's deletion stands; nobody seeded twice
    with Session(engine) as session:
        john = session.exec(select(User).where(User.username == "john")).one()
        assert verify_password(john.password_hash, "demo-pass")


def test_seed_twice_gives_the_same_counts() -> None:
    engine = fresh_engine()
    seed_demo_data(engine, settings())
    first = counts(engine)
    seed_demo_data(engine, settings())
    assert counts(engine) == first == (2, 24, 5)


def test_seed_updates_the_clients_redirect_uris_and_secret_when_settings_change() -> None:
    engine = fresh_engine()
    seed_demo_data(engine, settings())
    seed_demo_data(
        engine,
        settings(
            awesomeservice_url="http://prints.example:9000", awesomeservice_client_secret="s2"
        ),
    )
    with Session(engine) as session:
        client = session.get(Client, "awesomeservice")
        assert client is not None
        assert client.redirect_uri_list == [
            "http://prints.example:9000/connect/callback",
            "http://prints.example:9000/login/callback",
            "http://prints.example:9000/debugger/callback",
        ]
        assert client.secret_hash == hash_secret("s2")
    assert counts(engine) == (2, 24, 5)


def test_seed_from_two_workers_at_once_seeds_once(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'mockgram.db'}"
    engines = [fresh_engine(url), fresh_engine(url)]
    errors: list[BaseException] = []

    def run(engine) -> None:  # type: ignore[no-untyped-def]
        try:
            seed_demo_data(engine, settings(database_url=url))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert counts(engines[0]) == (2, 24, 5)
    for engine in engines:
        engine.dispose()
