"""The portal's requests page and report card (mockgram/pages/requests.py): owners only."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from mockgram.models import Client
from tests.mockgram.oauth_helpers import authorize_params, login

SECRET = "a-state-value-that-must-stay-hidden-0123456789"


@pytest.fixture
def john_owns_printshop(make_user, make_client, db: Session) -> Client:
    """John registered `printshop` and `gallery` in the portal; Jane registered nothing."""
    john = make_user("john")
    make_user("jane")
    apps = [make_client("printshop")[0], make_client("gallery")[0]]
    for app in apps:
        app.owner_user_id = john.id
        db.add(app)
    db.commit()
    return apps[0]


def send_requests(client: TestClient) -> None:
    client.get("/oauth/authorize", params=authorize_params(state=SECRET))
    client.get("/oauth/authorize", params=authorize_params(client_id="gallery", scope="nonsense"))


def test_the_owner_sees_what_the_app_sent_with_secrets_masked(
    client: TestClient, john_owns_printshop: Client
) -> None:
    send_requests(client)
    login(client, "john")
    page = client.get("/developers/requests")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "/oauth/authorize" in page.text and "[redacted]" in page.text
    assert SECRET not in page.text
    assert "https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1" in page.text  # its RFC
    assert "printshop" in page.text and "invalid_scope" in page.text  # both apps, and the error


def test_the_list_narrows_to_one_app(client: TestClient, john_owns_printshop: Client) -> None:
    send_requests(client)
    login(client, "john")
    page = client.get("/developers/requests", params={"client_id": "printshop"})
    assert page.status_code == 200
    assert page.text.count('data-endpoint="authorization"') == 1
    assert "invalid_scope" not in page.text  # gallery's request is left out
    assert 'href="/developers/clients/printshop/report"' in page.text


def test_a_stranger_is_sent_to_sign_in(client: TestClient, john_owns_printshop: Client) -> None:
    for path in ("/developers/requests", "/developers/clients/printshop/report"):
        answer = client.get(path)
        assert (answer.status_code, answer.headers["location"]) == (303, "/login?next=/developers")


def test_another_developer_sees_neither_the_requests_nor_the_report(
    client: TestClient, john_owns_printshop: Client
) -> None:
    send_requests(client)
    login(client, "jane")
    assert client.get("/developers/requests", params={"client_id": "printshop"}).status_code == 404
    assert client.get("/developers/clients/printshop/report").status_code == 404
    everything_hers = client.get("/developers/requests")
    assert everything_hers.status_code == 200
    assert 'data-endpoint="authorization"' not in everything_hers.text


def test_an_app_nobody_owns_has_no_report_page(
    client: TestClient, john_owns_printshop: Client, make_client
) -> None:
    make_client("seeded")  # like the demo's clients: registered without an owner
    login(client, "john")
    assert client.get("/developers/clients/seeded/report").status_code == 404
    assert client.get("/developers/clients/nobody/report").status_code == 404


def test_the_owner_sees_the_report_card(client: TestClient, john_owns_printshop: Client) -> None:
    send_requests(client)
    login(client, "john")
    page = client.get("/developers/clients/printshop/report")
    assert page.status_code == 200
    assert page.text.count("data-check=") == 8
    assert 'data-check="state" data-status="pass"' in page.text  # one long, random state
    assert 'data-check="pkce" data-status="pass"' in page.text
    assert 'data-check="revocation" data-status="not_seen"' in page.text
    assert "https://www.rfc-editor.org/rfc/rfc9700#section-4.1.3" in page.text


def test_the_portal_links_to_requests_and_report_cards(
    client: TestClient, john_owns_printshop: Client
) -> None:
    login(client, "john")
    portal = client.get("/developers").text
    assert 'href="/developers/requests"' in portal
    assert 'href="/developers/clients/printshop/report"' in portal
    assert 'href="/developers/requests?client_id=printshop"' in portal
