"""The two single-page demos at the protocol level, against the real Mockgram (`world`): the
implicit redirect carries the token in the fragment; code + PKCE from the SPA's origin with CORS.
(The JavaScript itself runs in the browser tests; here the requests it makes are replayed.)"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

from shared.pkce import make_verifier, s256_challenge
from tests.e2e.browser import find_form
from tests.e2e.conftest import AWESOME, MOCKGRAM, MOCKGRAM_PASSWORD, World


def _config(world: World, path: str) -> dict[str, str]:
    page = world.browser.get(f"{AWESOME}{path}")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert f"connect-src 'self' {MOCKGRAM}" in csp
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', page.text))


def _authorize(world: World, config: dict[str, str], **extra: str) -> str:
    """John signs in and consents on Mockgram; returns the Location of the final redirect."""
    browser = world.browser
    params = {
        "client_id": config["client-id"],
        "redirect_uri": config["redirect-uri"],
        "scope": config["scope"],
        "state": "spa-state-123",
        **extra,
    }
    url = f"{config['authorization-endpoint']}?{urlencode(params)}"
    login = browser.follow(browser.get(url))
    response = browser.submit(
        find_form(login.text, "/login"), username="john", password=MOCKGRAM_PASSWORD
    )
    consent = browser.follow(response)
    redirect = browser.submit(find_form(consent.text, "/consent"), button=("decision", "allow"))
    assert redirect.status_code in (302, 303), redirect.text[:300]
    return str(redirect.headers["location"])


def _pkce_authorize(world: World) -> tuple[dict[str, str], str, str]:
    """The PKCE SPA authorizes with S256 to the redirect; its config, verifier and Location."""
    config = _config(world, "/spa/pkce")
    verifier = make_verifier()
    location = _authorize(
        world,
        config,
        response_type="code",
        code_challenge=s256_challenge(verifier),
        code_challenge_method="S256",
    )
    return config, verifier, location


def test_implicit_redirect_carries_the_token_in_the_fragment(world: World) -> None:
    config = _config(world, "/spa/implicit")
    location = _authorize(world, config, response_type="token")
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{AWESOME}/spa/implicit"
    assert parts.query == ""  # nothing in the query: the server never sees the token
    answer = {k: v[0] for k, v in parse_qs(parts.fragment).items()}
    assert answer["state"] == "spa-state-123"
    assert answer["token_type"].lower() == "bearer"
    assert "refresh_token" not in answer  # the implicit flow never issues one
    assert "code" not in answer
    # The page's script then calls the API from AwesomeService's origin, with the header.
    photos = world.mockgram_client.get(
        "/api/photos",
        headers={"Authorization": f"Bearer {answer['access_token']}", "Origin": AWESOME},
    )
    assert photos.status_code == 200
    assert photos.headers["access-control-allow-origin"] == AWESOME
    assert photos.json()["photos"]


def test_code_and_pkce_from_the_spa_origin_with_cors(world: World) -> None:
    config, verifier, location = _pkce_authorize(world)
    assert location.startswith(f"{AWESOME}/spa/pkce?")
    answer = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert answer["state"] == "spa-state-123" and answer["iss"] == MOCKGRAM
    mockgram = world.mockgram_client
    # The browser's preflight for the cross-origin POST.
    preflight = mockgram.options(
        "/oauth/token",
        headers={
            "Origin": AWESOME,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] == AWESOME
    # The token request: a public client, no secret, the PKCE verifier.
    token = mockgram.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": config["redirect-uri"],
            "client_id": config["client-id"],
            "code_verifier": verifier,
        },
        headers={"Origin": AWESOME},
    )
    assert token.status_code == 200, token.text
    assert token.headers["access-control-allow-origin"] == AWESOME
    assert "origin" in token.headers.get("vary", "").lower()
    body = token.json()
    photos = mockgram.get(
        "/api/photos",
        headers={"Authorization": f"Bearer {body['access_token']}", "Origin": AWESOME},
    )
    assert photos.status_code == 200


def test_pkce_public_client_without_verifier_is_refused(world: World) -> None:
    config, verifier, location = _pkce_authorize(world)
    code = parse_qs(urlsplit(location).query)["code"][0]
    token = world.mockgram_client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": config["redirect-uri"],
            "client_id": config["client-id"],
        },
        headers={"Origin": AWESOME},
    )
    assert token.status_code == 400
    assert token.json()["error"] in ("invalid_grant", "invalid_request")


def test_token_endpoint_gives_no_cors_to_a_foreign_origin(world: World) -> None:
    preflight = world.mockgram_client.options(
        "/oauth/token",
        headers={"Origin": "http://evil.test", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
