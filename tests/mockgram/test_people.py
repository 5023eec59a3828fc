"""mockgram/people.py: one call writes a person or a client whole, or refuses saying why."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from mockgram.models import Client, MockgramTable, Photo, User
from mockgram.oauth.claims import user_claims
from mockgram.people import PeopleError, PhotoSpec, upsert_client, upsert_user
from mockgram.settings import MockgramSettings
from shared.db import create_schema, make_engine
from shared.hashing import hash_secret, verify_password

SETTINGS = MockgramSettings(issuer="http://mockgram.test", database_url="sqlite://")


@pytest.fixture
def session():  # type: ignore[no-untyped-def]
    engine = make_engine("sqlite://")
    create_schema(engine, MockgramTable.metadata)
    with Session(engine) as db:
        yield db
    engine.dispose()


def test_upsert_user_creates_then_updates_the_same_person(session: Session) -> None:
    created = upsert_user(session, username="alice", password="pw", claims={"team": "red"})
    session.commit()
    updated = upsert_user(session, username="alice", name="Alice", claims={"team": "blue"})
    session.commit()
    assert updated.id == created.id
    assert (updated.name, updated.extra_claims) == ("Alice", {"team": "blue"})
    assert verify_password(updated.password_hash, "pw")  # None kept the password
    assert session.exec(select(func.count()).select_from(User)).one() == 1


def test_a_new_person_needs_a_password(session: Session) -> None:
    with pytest.raises(PeopleError, match="needs a password"):
        upsert_user(session, username="alice")


@pytest.mark.parametrize("claim", ["aud", "iss", "sub", "exp", "scope", "client_id"])
def test_a_persons_claims_cannot_replace_the_protocols(session: Session, claim: str) -> None:
    with pytest.raises(PeopleError, match="set by the protocol"):
        upsert_user(session, username="mallory", password="pw", claims={claim: "forged"})


def test_release_rules_must_name_claims_the_person_has(session: Session) -> None:
    with pytest.raises(PeopleError, match="'groups'"):
        upsert_user(session, username="alice", password="pw", access_token_claims=["groups"])


def test_without_sub_or_claims_a_person_is_described_as_before(session: Session) -> None:
    user = upsert_user(session, username="bob", password="pw", name="Bob", email="bob@x.test")
    session.commit()
    assert user_claims(user, scope="openid profile email", settings=SETTINGS) == {
        "sub": str(user.id),
        "name": "Bob",
        "preferred_username": "bob",
        "picture": "http://mockgram.test/users/bob/avatar.png",
        "email": "bob@x.test",
        "email_verified": False,
    }


def test_photos_are_painted_for_a_new_person_only(session: Session) -> None:
    photos = [PhotoSpec(caption="Dinah", scene="cat")]
    user = upsert_user(session, username="alice", password="pw", photos=photos)
    session.commit()
    upsert_user(session, username="alice", photos=photos * 3)
    session.commit()
    owned = session.exec(select(Photo).where(Photo.owner_id == user.id)).all()
    assert [photo.caption for photo in owned] == ["Dinah"]


def test_upsert_client_stores_a_fixed_secret_hashed_and_follows_changes(session: Session) -> None:
    upsert_client(
        session, client_id="shop", name="Shop", secret="s1", redirect_uris=["http://shop:3000/cb"]
    )
    session.commit()
    client = upsert_client(
        session,
        client_id="shop",
        name="Shop",
        redirect_uris=["http://shop:3000/cb", "com.example.app:/cb"],
        allowed_scopes=["photos.read", "openid"],
    )
    session.commit()
    assert client.secret_hash == hash_secret("s1")  # None kept the secret
    assert client.redirect_uri_list == ["http://shop:3000/cb", "com.example.app:/cb"]
    assert client.allowed_scopes == "openid photos.read"
    assert session.exec(select(func.count()).select_from(Client)).one() == 1


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"redirect_uris": ["/cb"]}, "not an absolute URI"),
        ({"redirect_uris": ["https://shop.test/cb#top"]}, "fragment"),
        ({"secret": None}, "needs a secret"),
        ({"token_endpoint_auth_method": "none"}, "no secret"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "token_endpoint_auth_method"),
        ({"response_types": ["code"], "grant_types": ["implicit"]}, "authorization_code"),
    ],
)
def test_upsert_client_refuses_what_cannot_work(
    session: Session, fields: dict, problem: str
) -> None:
    arguments = {"redirect_uris": ["https://shop.test/cb"], "secret": "s"} | fields
    with pytest.raises(PeopleError, match=problem):
        upsert_client(session, client_id="shop", name="Shop", **arguments)
