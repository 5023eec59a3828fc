"""Step 0, ready-made — the demo data: John, Jane, their photos and the AwesomeService clients.

Runs on every start and is idempotent: a person who exists is left alone (with whatever photos
they kept or deleted), and the AwesomeService clients — the confidential web app, the OAuth
debugger's own client and the two single-page demos (public clients, RFC 6749 §2.1) — are
brought in line with the settings, so changing AWESOMESERVICE_URL or its secret just works.
Each client registers only the response types it uses (least privilege): the web app `code`,
the debugger every one, so that each flow can be tried from it. Several workers may start at
once: the one that loses a race on a unique key rolls back and carries on with what the winner
wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from mockgram.demo.painter import make_photo
from mockgram.models import Client, User
from mockgram.settings import MockgramSettings
from mockgram.uploads import new_photo
from shared.hashing import hash_password, hash_secret

AWESOMESERVICE_SCOPES = "openid profile email offline_access photos.read"
SPA_IMPLICIT_CLIENT_ID = "awesomeservice-spa-implicit"
SPA_PKCE_CLIENT_ID = "awesomeservice-spa-pkce"
# The debugger's client; AWESOMESERVICE_DEBUGGER_CLIENT_ID / _SECRET default to the same.
DEBUGGER_CLIENT_ID = "oauth-debugger"
DEBUGGER_CLIENT_SECRET = "oauth-debugger-demo-secret"


@dataclass(frozen=True)
class ClientSpec:
    """A seeded client as the settings say it should be."""

    client_id: str
    name: str
    client_type: str
    secret_hash: str | None
    redirect_uris: str
    allowed_scopes: str
    token_endpoint_auth_method: str
    response_types: str
    verified: bool = True  # configured by the operator, not by a stranger (RFC 7591 §5)

    def differs_from(self, client: Client) -> bool:
        return any(
            getattr(client, name) != getattr(self, name)
            for name in (
                "verified",
                "name",
                "client_type",
                "secret_hash",
                "redirect_uris",
                "allowed_scopes",
                "token_endpoint_auth_method",
                "response_types",
            )
        )


@dataclass(frozen=True)
class DemoPhoto:
    scene: str
    caption: str
    taken_at: datetime


@dataclass(frozen=True)
class DemoUser:
    username: str
    name: str
    email: str
    photos: tuple[DemoPhoto, ...]


def _at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


JOHN = DemoUser(
    "john",
    "John Appleseed",
    "john@mockgram.test",
    (
        DemoPhoto(
            "sunset-sea", "Last sunset of the coast trip, from the ferry", _at(2024, 6, 14, 20, 41)
        ),
        DemoPhoto(
            "lighthouse",
            "The lighthouse at the end of the world (Cabo da Roca)",
            _at(2024, 6, 13, 21, 5),
        ),
        DemoPhoto(
            "beach", "Found the quiet beach. Not telling anyone where.", _at(2024, 6, 12, 15, 20)
        ),
        DemoPhoto("city-night", "Lisbon from the miradouro, first night", _at(2024, 6, 10, 22, 30)),
        DemoPhoto("forest", "Morning walk in the Sintra forest", _at(2024, 6, 11, 9, 15)),
        DemoPhoto(
            "bicycle", "Rented a bike for the week — basket included", _at(2024, 6, 9, 11, 0)
        ),
        DemoPhoto("cat", "Miso guarding the sofa while I pack", _at(2024, 6, 8, 18, 45)),
        DemoPhoto("coffee", "Flat white before the flight", _at(2024, 6, 9, 7, 10)),
        DemoPhoto("cake", "Birthday cake, five candles for 35 years", _at(2024, 4, 2, 19, 30)),
        DemoPhoto("flowers", "Spring at the allotment", _at(2024, 3, 23, 10, 5)),
        DemoPhoto(
            "aurora", "Northern lights in Tromsø. Worth the cold feet.", _at(2024, 2, 17, 23, 50)
        ),
        DemoPhoto("mountains", "Snow on the peaks, seen from the lake", _at(2023, 9, 30, 13, 40)),
    ),
)

JANE = DemoUser(
    "jane",
    "Jane Doe",
    "jane@mockgram.test",
    (
        DemoPhoto("balloons", "Balloon festival at dawn", _at(2024, 7, 6, 6, 30)),
        DemoPhoto("tulips", "Tulip fields, and yes, a windmill", _at(2024, 4, 20, 11, 0)),
        DemoPhoto("pizza", "Friday pizza night, homemade dough", _at(2024, 5, 17, 20, 0)),
        DemoPhoto("lake-boat", "Sailing lesson number three", _at(2024, 8, 3, 16, 20)),
        DemoPhoto("dunes", "Desert road trip, day two", _at(2024, 3, 8, 17, 50)),
        DemoPhoto("snowy-cabin", "Cabin weekend with the book club", _at(2024, 1, 13, 21, 0)),
        DemoPhoto("cat", "Pixel has opinions about Mondays", _at(2024, 5, 27, 8, 15)),
        DemoPhoto("mountains", "Hut-to-hut hike, stage four", _at(2023, 8, 19, 14, 10)),
        DemoPhoto("city-night", "Late train home, city lights", _at(2023, 11, 24, 23, 5)),
        DemoPhoto("flowers", "Market flowers for the new flat", _at(2024, 6, 1, 10, 40)),
        DemoPhoto("sunset-sea", "Golden hour from the pier", _at(2023, 7, 22, 20, 55)),
        DemoPhoto("coffee", "Third coffee. Deadline day.", _at(2024, 2, 29, 15, 30)),
    ),
)

DEMO_USERS = (JOHN, JANE)


def seed_demo_data(engine: Engine, settings: MockgramSettings) -> None:
    """Seed John, Jane, their photos and the AwesomeService clients (idempotent, race-safe)."""
    with Session(engine) as session:
        for demo in DEMO_USERS:
            _seed_user(session, demo, settings)
        for spec in seeded_clients(settings):
            _seed_client(session, spec)


def _seed_user(session: Session, demo: DemoUser, settings: MockgramSettings) -> None:
    """Create a demo person with their photos in one transaction, or leave an existing one be."""
    if session.exec(select(User.id).where(User.username == demo.username)).first() is not None:
        return  # existing people keep their password and the photos they kept or deleted
    user = User(
        username=demo.username,
        name=demo.name,
        email=demo.email,
        email_verified=True,  # OIDC Core §5.1: the demo people's addresses count as verified
        password_hash=hash_password(settings.demo_password),
    )
    session.add(user)
    try:
        session.flush()
        assert user.id is not None
        for index, item in enumerate(demo.photos):
            image = make_photo(demo.username, index, item.scene)
            session.add(
                new_photo(
                    owner_id=user.id, caption=item.caption, info=image, taken_at=item.taken_at
                )
            )
        session.commit()
    except IntegrityError:
        session.rollback()  # another worker seeded this person first


def seeded_clients(settings: MockgramSettings) -> list[ClientSpec]:
    """AwesomeService and its debugger (confidential), and the two single-page demos (public)."""
    return [
        ClientSpec(
            client_id=settings.awesomeservice_client_id,
            name="AwesomeService",
            client_type="confidential",
            secret_hash=hash_secret(settings.awesomeservice_client_secret),
            redirect_uris="\n".join(settings.awesomeservice_redirect_uris),
            allowed_scopes=AWESOMESERVICE_SCOPES,
            token_endpoint_auth_method="client_secret_basic",
            response_types="code",
        ),
        ClientSpec(
            client_id=DEBUGGER_CLIENT_ID,
            name="AwesomeService OAuth debugger",
            client_type="confidential",
            secret_hash=hash_secret(DEBUGGER_CLIENT_SECRET),
            redirect_uris=f"{settings.awesomeservice_url}/debugger/callback",
            allowed_scopes=AWESOMESERVICE_SCOPES,
            token_endpoint_auth_method="client_secret_basic",
            # Every word, so every response type of OIDC Core §3 can be tried (canonical order).
            response_types="code id_token token",
        ),
        ClientSpec(
            client_id=SPA_IMPLICIT_CLIENT_ID,
            name="AwesomeService SPA (implicit, teaching only)",
            client_type="public",
            secret_hash=None,
            redirect_uris=settings.spa_implicit_redirect_uri,
            allowed_scopes="openid profile photos.read",
            # RFC 6749 §2.1: a public client cannot authenticate at the token endpoint.
            token_endpoint_auth_method="none",
            response_types="id_token token",  # token, id_token, or both (OIDC Core §3.2)
        ),
        ClientSpec(
            client_id=SPA_PKCE_CLIENT_ID,
            name="AwesomeService SPA (code + PKCE)",
            client_type="public",
            secret_hash=None,
            redirect_uris=settings.spa_pkce_redirect_uri,
            allowed_scopes="openid profile photos.read offline_access",
            token_endpoint_auth_method="none",
            response_types="code",
        ),
    ]


def _seed_client(session: Session, spec: ClientSpec) -> None:
    """Create a seeded client, or bring it in line with its spec (secret, URIs, scopes)."""
    fields = {
        "verified": spec.verified,
        "name": spec.name,
        "client_type": spec.client_type,
        "secret_hash": spec.secret_hash,
        "redirect_uris": spec.redirect_uris,
        "allowed_scopes": spec.allowed_scopes,
        "token_endpoint_auth_method": spec.token_endpoint_auth_method,
        "response_types": spec.response_types,
    }
    for _attempt in range(2):
        client = session.get(Client, spec.client_id)
        if client is None:
            session.add(Client(client_id=spec.client_id, **fields))
        elif not spec.differs_from(client):
            return
        else:
            for name, value in fields.items():
                setattr(client, name, value)
        try:
            session.commit()
            return
        except IntegrityError:
            session.rollback()  # created by another worker meanwhile: read it and update it
