"""Native apps at the authorization endpoint (RFC 8252 §7.1, §7.3).

A native app listening on the loopback interface gets its port from the system when the
request starts, so a loopback IP redirect URI matches whatever its port (§7.3); everything else
about it is still compared exactly. A private-use URI scheme (§7.1) works like any redirect URI.
Any other URI that differs only by its port is refused, and the page says it is the port.
"""

from __future__ import annotations

import pytest

from tests.mockgram.oauth_helpers import (
    VERIFIER,
    authorize_params,
    redeem,
    run_to_callback,
    single_query,
)


@pytest.fixture
def native(make_client, make_user):
    """John, and a native app (public) registered on loopback without a port and by scheme."""
    make_user()
    uris = ["http://127.0.0.1/callback", "http://[::1]/callback", "com.example.app:/callback"]
    return make_client("native", public=True, redirect_uris=uris, verified=False)[0]


@pytest.mark.parametrize(
    "redirect_uri", ["http://127.0.0.1:51004/callback", "http://[::1]:8080/callback"]
)
def test_loopback_redirect_uri_matches_on_any_port(client, native, redirect_uri):
    location = run_to_callback(client, client_id="native", redirect_uri=redirect_uri)
    # The answer goes to the port the app is listening on, as the request said.
    assert location.startswith(redirect_uri + "?")
    query = single_query(location)
    # The code is bound to that exact URI: the token request repeats it (RFC 6749 §4.1.3).
    response = redeem(
        client, query["code"], auth=None, client_id="native", redirect_uri=redirect_uri
    )
    assert response.status_code == 200, response.text


def test_the_code_is_bound_to_the_port_it_was_sent_to(client, native):
    sent_to = "http://127.0.0.1:51004/callback"
    code = single_query(run_to_callback(client, client_id="native", redirect_uri=sent_to))["code"]
    response = redeem(
        client,
        code,
        auth=None,
        client_id="native",
        redirect_uri="http://127.0.0.1:51005/callback",
        code_verifier=VERIFIER,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://127.0.0.1:51004/other",  # another path
        "http://127.0.0.1:51004/callback/",  # trailing slash
        "http://127.0.0.1:51004/callback?x=1",  # extra query
        "http://127.0.0.2:51004/callback",  # another address
        "https://127.0.0.1:51004/callback",  # another scheme
        "http://localhost:51004/callback",  # a name, not a loopback IP literal (§8.3)
    ],
)
def test_only_the_port_of_a_loopback_ip_may_differ(client, native, redirect_uri):
    params = authorize_params(client_id="native", redirect_uri=redirect_uri)
    response = client.get("/oauth/authorize", params=params)
    assert response.status_code == 400
    assert "location" not in response.headers


def test_a_private_use_scheme_gets_its_answer(client, native):
    location = run_to_callback(client, client_id="native", redirect_uri="com.example.app:/callback")
    assert location.startswith("com.example.app:/callback?")
    assert single_query(location)["code"]


def test_a_port_only_mismatch_off_loopback_says_it_is_the_port(client, printshop):
    params = authorize_params(redirect_uri="http://client.test:8080/callback")
    response = client.get("/oauth/authorize", params=params)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "only by its port" in response.text
    assert "http://client.test/callback" in response.text


def test_another_mismatch_does_not_blame_the_port(client, printshop):
    params = authorize_params(redirect_uri="http://client.test:8080/other")
    response = client.get("/oauth/authorize", params=params)
    assert response.status_code == 400
    assert "only by its port" not in response.text


def test_form_post_to_a_private_use_scheme_is_refused_with_a_page(client, native):
    params = authorize_params(
        client_id="native", redirect_uri="com.example.app:/callback", response_mode="form_post"
    )
    response = client.get("/oauth/authorize", params=params)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "form post can only go to a web address" in response.text
