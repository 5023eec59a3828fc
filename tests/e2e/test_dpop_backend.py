"""AwesomeService's back end with DPoP (AWESOMESERVICE_USE_DPOP, RFC 9449), against a Mockgram
that asks for nonces: Connect gets a token bound to the print shop's key, kept in the database,
and the photo grid and the image proxy call the API with proofs."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from sqlmodel import Session, select

from awesomeservice.models import AppSecret, MockgramConnection
from awesomeservice.oauth.dpop import KEY_NAME, load_dpop_key
from tests.e2e.browser import Browser, find_form
from tests.e2e.conftest import AWESOME, MOCKGRAM, World, build_apps
from tests.e2e.test_story import _connect_until_consent, _sign_in_to_awesomeservice


@pytest.fixture
def dpop_world(mockgram_database_url: str, awesome_database_url: str) -> Iterator[World]:
    mockgram, awesome = build_apps(
        mockgram_database_url, awesome_database_url, name="dpop", dpop=True
    )
    with (
        TestClient(mockgram, base_url=MOCKGRAM, follow_redirects=False) as mockgram_client,
        TestClient(awesome, base_url=AWESOME, follow_redirects=False) as awesome_client,
    ):
        browser = Browser({MOCKGRAM: mockgram_client, AWESOME: awesome_client})
        yield World(mockgram, awesome, browser, mockgram_client, awesome_client)


def test_connect_gets_a_dpop_bound_token_and_the_photos_come_with_proofs(
    dpop_world: World,
) -> None:
    world = dpop_world
    _sign_in_to_awesomeservice(world)
    _authorization_url, consent = _connect_until_consent(world)
    redirect = world.browser.submit(
        find_form(consent.text, "/consent"), button=("decision", "allow")
    )
    callback = world.browser.follow(redirect)
    assert callback.status_code == 303 and callback.headers["location"] == "/photos"
    with Session(world.awesome.state.engine) as db:
        connection = db.exec(select(MockgramConnection)).one()
        stored_key = db.get(AppSecret, KEY_NAME)
    assert connection.token_type == "DPoP"
    # Bound to the key kept in AwesomeService's database: every worker loads the same one.
    key = load_dpop_key(world.awesome.state.engine, AppSecret)
    assert stored_key is not None and key.jkt == world.awesome.state.dpop_key.jkt
    claims = jwt.decode(connection.access_token, world.mockgram.state.keys.public_set).claims
    assert claims["cnf"] == {"jkt": key.jkt}
    # Step 6 with proofs (and Mockgram's nonce): the grid, then one image through the proxy.
    photos = world.browser.follow(callback)
    assert photos.status_code == 200
    image = re.search(r'src="(/photos/\d+/image)"', photos.text)
    assert image, "the grid shows images through AwesomeService"
    assert world.browser.get(f"{AWESOME}{image.group(1)}").status_code == 200
    # The same token as a plain bearer token is worth nothing (RFC 9449 §7.2).
    stolen = world.mockgram_client.get(
        "/api/photos", headers={"Authorization": f"Bearer {connection.access_token}"}
    )
    assert stolen.status_code == 401
    # The inspector shows each proof the back end sent, decoded, and the token redacted.
    inspector = world.browser.get(f"{AWESOME}/inspector").text.replace("&#34;", '"')
    assert "DPoP proof (RFC 9449 §4.2)" in inspector
    assert f'"htu": "{MOCKGRAM}/oauth/token"' in inspector
    assert f'"htu": "{MOCKGRAM}/api/photos"' in inspector and '"ath":' in inspector
    assert connection.access_token not in inspector
