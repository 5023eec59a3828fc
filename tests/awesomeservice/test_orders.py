"""Print orders: the order form, server-side validation, saving, history and ownership."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from awesomeservice.models import PrintOrder, PrintOrderItem, User
from tests.awesomeservice.conftest import FakeMockgram, connect, csrf, login


def order_form(browser: TestClient, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf_token": csrf(browser),
        "photo_id": ["1", "3"],
        "size_1": "10x15",
        "copies_1": "2",
        "size_3": "20x30",
        "copies_3": "1",
        "shipping_name": "John Appleseed",
        "shipping_address": "1 Orchard Lane\nCupertino",
    }
    data.update(overrides)
    return data


def orders(db: Session) -> list[PrintOrder]:
    db.expire_all()
    return list(db.exec(select(PrintOrder)).all())


def test_new_order_form_shows_chosen_photos(client: TestClient) -> None:
    login(client)
    connect(client)
    response = client.post("/orders/new", data={"csrf_token": csrf(client), "photo_id": ["3", "1"]})
    assert response.status_code == 200
    assert 'src="/photos/3/image"' in response.text
    assert 'src="/photos/1/image"' in response.text
    assert "/photos/2/image" not in response.text
    for label in ("10 × 15 cm", "13 × 18 cm", "20 × 30 cm"):
        assert label in response.text
    assert 'value="John Appleseed"' in response.text


def test_new_order_without_photos_goes_back(client: TestClient) -> None:
    login(client)
    connect(client)
    response = client.post("/orders/new", data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    assert response.headers["location"] == "/photos"


def test_order_saved_and_listed(client: TestClient, db: Session) -> None:
    login(client)
    connect(client)
    response = client.post("/orders", data=order_form(client))
    assert response.status_code == 303
    (order,) = orders(db)
    assert response.headers["location"] == f"/orders/{order.id}"
    items = db.exec(select(PrintOrderItem).where(PrintOrderItem.order_id == order.id)).all()
    assert {(i.photo_id, i.caption, i.size, i.copies) for i in items} == {
        (1, "Mountain hike", "10x15", 2),
        (3, "Sunset over the bay", "20x30", 1),
    }
    assert order.total_cents == 2 * 40 + 350
    detail = client.get(f"/orders/{order.id}")
    assert detail.status_code == 200
    assert "Mountain hike" in detail.text and "$4.30" in detail.text
    history = client.get("/orders")
    assert f'href="/orders/{order.id}"' in history.text


def test_order_validation_errors_keep_input(client: TestClient, db: Session) -> None:
    login(client)
    connect(client)
    data = order_form(
        client,
        size_1="50x70",
        copies_3="21",
        shipping_name="Johnny",
        shipping_address="",
    )
    response = client.post("/orders", data=data)
    assert response.status_code == 400
    assert "Pick one of the listed sizes." in response.text
    assert "Between 1 and 20 copies." in response.text
    assert "Where should we send the prints?" in response.text
    assert 'value="Johnny"' in response.text
    assert 'name="copies_3" value="21"' in response.text
    assert orders(db) == []


def test_order_rejects_bad_copies_and_long_fields(client: TestClient, db: Session) -> None:
    login(client)
    connect(client)
    for overrides in (
        {"copies_1": "0"},
        {"copies_1": "two"},
        {"copies_1": "-1"},
        {"shipping_name": "x" * 121},
        {"shipping_address": "y" * 501},
        {"shipping_name": "   "},
    ):
        response = client.post("/orders", data=order_form(client, **overrides))
        assert response.status_code == 400, overrides
    assert orders(db) == []


def test_order_rejects_photos_not_in_the_users_mockgram(client: TestClient, db: Session) -> None:
    login(client)
    connect(client)
    response = client.post(
        "/orders", data=order_form(client, photo_id=["42"], size_42="10x15", copies_42="1")
    )
    assert response.status_code == 400
    assert "not one of your Mockgram photos" in response.text
    response = client.post("/orders", data=order_form(client, photo_id=["1", "42"]))
    assert response.status_code == 400
    assert orders(db) == []


def test_order_without_photos_is_refused(client: TestClient, db: Session) -> None:
    login(client)
    connect(client)
    response = client.post("/orders", data=order_form(client, photo_id=[]))
    assert response.status_code == 400
    assert "Choose at least one" in response.text
    assert orders(db) == []


def test_order_when_mockgram_unreachable_saves_nothing(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    import httpx

    login(client)
    connect(client)
    fake.api_failure = httpx.ConnectError
    response = client.post("/orders", data=order_form(client))
    assert response.status_code == 502
    assert orders(db) == []


def test_one_user_cannot_see_another_users_order(
    make_client: Callable[[], TestClient], make_user: Callable[..., User]
) -> None:
    john = make_client()
    login(john)
    connect(john)
    location = john.post("/orders", data=order_form(john)).headers["location"]
    make_user("jane", "jane-password")
    jane = make_client()
    login(jane, "jane", "jane-password")
    response = jane.get(location)
    assert response.status_code == 404
    assert "Order not found" in response.text
    assert "Orchard Lane" not in response.text
    assert "Orchard Lane" not in jane.get("/orders").text
    assert jane.get("/orders/999999").status_code == 404
    assert jane.get("/orders/99999999999999999999999").status_code == 404


def test_order_pages_require_sign_in(client: TestClient) -> None:
    response = client.get("/orders/1")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Forders%2F1"
    assert client.get("/orders").status_code == 303


def test_order_history_newest_first(client: TestClient) -> None:
    login(client)
    connect(client)
    first = client.post("/orders", data=order_form(client)).headers["location"]
    second = client.post("/orders", data=order_form(client)).headers["location"]
    text = client.get("/orders").text
    positions = [m.start() for m in re.finditer(r'href="/orders/\d+"', text)]
    assert len(positions) == 2
    assert text.index(f'href="{second}"') < text.index(f'href="{first}"')
