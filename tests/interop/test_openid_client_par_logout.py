"""Interop: panva's openid-client (certified) pushes an authorization request to a running
Mockgram (RFC 9126, `buildAuthorizationUrlWithPAR`), redeems the code, and signs John out with
an RP-initiated logout URL (`buildEndSessionUrl`); this test plays John's browser."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.e2e.authlib_helpers import REDIRECT_URI, interop_mockgram, john_signs_in_and_consents
from tests.e2e.browser import Browser
from tests.e2e.servers import serve
from tests.interop.openid_client import run_script

BYE = "http://127.0.0.1:9/signed-out"  # never visited: the test reads the redirect itself
CLIENT_NAME = "openid-client PAR"


def register(base_url: str, **metadata: object) -> dict[str, str]:
    response = httpx.post(
        f"{base_url}/oauth/register",
        json={
            "client_name": CLIENT_NAME,
            "redirect_uris": [REDIRECT_URI],
            "post_logout_redirect_uris": [BYE],
            "scope": "openid profile",
            **metadata,
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_openid_client_pushes_then_logs_john_out(mockgram_database_url: str) -> None:
    with (
        serve(interop_mockgram(mockgram_database_url)) as base_url,
        httpx.Client(timeout=10) as http,
    ):
        registered = register(base_url, require_pushed_authorization_requests=True)
        common = {
            "issuer": base_url,
            "client_id": registered["client_id"],
            "client_secret": registered["client_secret"],
        }
        started = run_script(
            "par_logout.mjs",
            step="authorize",
            redirect_uri=REDIRECT_URI,
            scope="openid profile",
            **common,
        )
        assert started.ok, started.body
        # RFC 9126 §4: the front channel carries client_id and request_uri only.
        assert set(parse_qs(urlsplit(started["url"]).query)) == {"client_id", "request_uri"}

        browser = Browser({base_url: http})
        back = john_signs_in_and_consents(browser, browser.get(started["url"]), CLIENT_NAME)
        finished = run_script(
            "par_logout.mjs",
            step="callback",
            callback_url=back.headers["location"],
            code_verifier=started["code_verifier"],
            state=started["state"],
            nonce=started["nonce"],
            post_logout_redirect_uri=BYE,
            logout_state="bye-1",
            **common,
        )
        assert finished.ok, finished.body
        end_url = finished["end_session_url"]
        assert end_url.startswith(f"{base_url}/session/end?")

        # John's browser follows the logout URL: the hint names him, so no question asked.
        signed_out = browser.get(end_url)
        assert signed_out.status_code == 303, signed_out.text
        assert signed_out.headers["location"] == f"{BYE}?state=bye-1"
        login_page = browser.get(f"{base_url}/login").text
        assert re.search(r'class="nav-user"', login_page) is None

        # A request the client may not make is refused at the push, with its OAuth error.
        refused = run_script(
            "par_logout.mjs",
            step="authorize",
            redirect_uri="http://127.0.0.1:9/elsewhere",
            scope="openid",
            **common,
        )
        assert not refused.ok
        assert refused["oauth_error"] == "invalid_request"
