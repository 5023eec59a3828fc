"""Step 1 in, step 4 out: the authorization endpoint's checks (RFC 6749 §4.1.1–4.1.2, RFC 7636)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from mockgram.models import AuthorizationRequest
from mockgram.oauth.authorize import MAX_STATE
from shared.clock import utcnow
from tests.mockgram.conftest import CLIENT_REDIRECT, ISSUER
from tests.mockgram.oauth_helpers import (
    CHALLENGE,
    authorize_params,
    get_code,
    login,
    request_id_from,
    run_to_callback,
    single_query,
)

SECOND_REDIRECT = "http://client.test/other-callback"


def assert_error_page(response) -> None:
    """A 400 page for people: HTML, no redirect of any kind."""
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")


def assert_error_redirect(response, error: str, *, state: str | None = "state-123") -> dict:
    """A redirect to the registered URI carrying only error, error_description, state, iss."""
    assert response.status_code in (302, 303)
    location = response.headers["location"]
    assert location.startswith(CLIENT_REDIRECT + "?")
    query = single_query(location)
    assert query["error"] == error
    assert query["iss"] == ISSUER
    assert query.get("state") == state
    assert set(query) <= {"error", "error_description", "error_uri", "state", "iss"}
    assert "code" not in query
    return query


# --- Item 1: unregistered redirect_uri → page, never a redirect -----------------------------


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://client.test/other",  # other path
        "http://client.test:80/callback",  # explicit port added
        "http://CLIENT.test/callback",  # upper-case host
        "http://client.test/callback/",  # trailing slash
        "http://client.test/callback?extra=1",  # extra query
        "http://evil.example/callback",  # another host
        "http://client.test/callback#frag",
    ],
)
def test_item_01_unregistered_redirect_uri_variants_get_error_page_not_redirect(
    client, printshop, redirect_uri
):
    response = client.get("/oauth/authorize", params=authorize_params(redirect_uri=redirect_uri))
    assert_error_page(response)
    assert "not registered" in response.text
    # Not to the given URI, and not to the registered one either (not even as a link).
    assert f'href="{redirect_uri}' not in response.text
    assert f'href="{CLIENT_REDIRECT}' not in response.text


def test_item_01_https_with_explicit_443_port_is_refused(client, make_client, make_user):
    make_user()
    make_client(redirect_uris=["https://client.test/callback"])
    response = client.get(
        "/oauth/authorize", params=authorize_params(redirect_uri="https://client.test:443/callback")
    )
    assert_error_page(response)


def test_item_01_exact_registered_uri_is_accepted(client, printshop):
    response = client.get("/oauth/authorize", params=authorize_params())
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?request_id=")


def test_item_01_registered_uri_with_its_own_query_keeps_it(client, make_client, make_user):
    make_user()
    registered = "http://client.test/callback?tenant=a"
    make_client(redirect_uris=[registered])
    query = get_code(client, redirect_uri=registered)
    assert query["tenant"] == "a"
    assert query["code"]


# --- Item 2: missing or unknown client_id → page ---------------------------------------------


def test_item_02_missing_client_id_gets_error_page(client, printshop):
    response = client.get("/oauth/authorize", params=authorize_params(client_id=None))
    assert_error_page(response)
    assert "client_id" in response.text


def test_item_02_unknown_client_id_gets_error_page(client, printshop):
    response = client.get("/oauth/authorize", params=authorize_params(client_id="nobody"))
    assert_error_page(response)
    assert "does not know this app" in response.text


def test_item_02_empty_client_id_counts_as_missing(client, printshop):
    response = client.get("/oauth/authorize", params=authorize_params(client_id=""))
    assert_error_page(response)


def test_item_02_repeated_client_id_gets_error_page(client, printshop):
    params = list(authorize_params().items()) + [("client_id", "printshop")]
    assert_error_page(client.get("/oauth/authorize", params=params))


def test_item_02_repeated_redirect_uri_gets_error_page(client, printshop):
    params = list(authorize_params().items()) + [("redirect_uri", CLIENT_REDIRECT)]
    assert_error_page(client.get("/oauth/authorize", params=params))


# --- Item 3: no redirect_uri ------------------------------------------------------------------


def test_item_03_missing_redirect_uri_with_several_registered_gets_error_page(
    client, make_client, make_user
):
    make_user()
    make_client(redirect_uris=[CLIENT_REDIRECT, SECOND_REDIRECT])
    response = client.get("/oauth/authorize", params=authorize_params(redirect_uri=None))
    assert_error_page(response)


def test_item_03_missing_redirect_uri_with_one_registered_defaults_to_it(client, printshop, db):
    response = client.get("/oauth/authorize", params=authorize_params(redirect_uri=None))
    assert response.status_code == 303
    pending = db.get(AuthorizationRequest, request_id_from(response.headers["location"]))
    assert pending.redirect_uri == CLIENT_REDIRECT
    assert pending.redirect_uri_in_request is False


def test_item_03_errors_also_go_to_the_single_registered_uri(client, printshop):
    response = client.get(
        "/oauth/authorize", params=authorize_params(redirect_uri=None, scope="nope")
    )
    assert_error_redirect(response, "invalid_scope")


# --- Item 5: response_type --------------------------------------------------------------------


def test_item_05_missing_response_type_is_invalid_request(client, printshop):
    response = client.get("/oauth/authorize", params=authorize_params(response_type=None))
    assert_error_redirect(response, "invalid_request")


@pytest.mark.parametrize("response_type", ["bogus", "code code", "code  token", "none"])
def test_item_05_unknown_or_unsupported_response_type(client, printshop, response_type):
    response = client.get("/oauth/authorize", params=authorize_params(response_type=response_type))
    assert_error_redirect(response, "unsupported_response_type")


def test_item_05_response_type_not_registered_for_the_client_is_unauthorized_client(
    client, printshop
):
    """printshop registered response_types "code" only; `code token` is a known type."""
    response = client.get(
        "/oauth/authorize", params=authorize_params(response_type="code token", nonce="n")
    )
    assert response.status_code == 303
    location = response.headers["location"]
    # A fragment-default type: the error travels in the fragment (Multiple Response Types §5).
    assert location.startswith(CLIENT_REDIRECT + "#")
    assert parse_qs(urlsplit(location).fragment)["error"] == ["unauthorized_client"]


# --- Item 6: scope ----------------------------------------------------------------------------


def test_item_06_unknown_scope_is_invalid_scope(client, printshop):
    response = client.get(
        "/oauth/authorize", params=authorize_params(scope="photos.read photos.delete_all")
    )
    assert_error_redirect(response, "invalid_scope")


def test_item_06_scope_not_allowed_for_client_is_invalid_scope(client, make_client, make_user):
    make_user()
    make_client(scopes="photos.read")
    response = client.get(
        "/oauth/authorize", params=authorize_params(scope="photos.read photos.write")
    )
    assert_error_redirect(response, "invalid_scope")


def test_item_06_missing_scope_is_invalid_scope(client, printshop):
    response = client.get("/oauth/authorize", params=authorize_params(scope=None))
    assert_error_redirect(response, "invalid_scope")


def test_item_06_scope_order_is_irrelevant_and_duplicates_collapse(client, printshop, db):
    response = client.get(
        "/oauth/authorize",
        params=authorize_params(scope="photos.write  photos.read photos.write"),
    )
    assert response.status_code == 303
    pending = db.get(AuthorizationRequest, request_id_from(response.headers["location"]))
    assert pending.scope == "photos.read photos.write"


# --- Item 7: repeated, empty and unknown parameters -------------------------------------------


@pytest.mark.parametrize("name", ["scope", "response_type", "code_challenge", "state"])
def test_item_07_repeated_parameter_is_invalid_request(client, printshop, name):
    params = list(authorize_params().items()) + [(name, authorize_params()[name])]
    response = client.get("/oauth/authorize", params=params)
    query = assert_error_redirect(
        response, "invalid_request", state=None if name == "state" else "state-123"
    )
    assert name in query["error_description"]


def test_item_07_empty_values_count_as_absent(client, printshop):
    response = client.get("/oauth/authorize", params=authorize_params(response_type=""))
    assert_error_redirect(response, "invalid_request")
    # A confidential client may skip PKCE: empty challenge and method are simply absent.
    response = client.get(
        "/oauth/authorize", params=authorize_params(code_challenge="", code_challenge_method="")
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?")


def test_item_07_unknown_parameters_are_ignored(client, printshop):
    params = authorize_params(foo="bar", ui_locales="fr")
    response = client.get("/oauth/authorize", params=params)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?")


def test_item_07_repeated_unknown_parameter_is_ignored(client, printshop):
    params = list(authorize_params().items()) + [("foo", "1"), ("foo", "2")]
    response = client.get("/oauth/authorize", params=params)
    assert response.headers["location"].startswith("/login?")


# --- Item 8 (decision): response_mode ---------------------------------------------------------


@pytest.mark.parametrize("mode", ["bogus", "web_message", "QUERY"])
def test_item_08_unsupported_response_mode_gets_page_not_redirect(client, printshop, mode):
    assert_error_page(client.get("/oauth/authorize", params=authorize_params(response_mode=mode)))


def test_item_08_response_mode_query_is_accepted(client, printshop):
    response = client.get("/oauth/authorize", params=authorize_params(response_mode="query"))
    assert response.headers["location"].startswith("/login?")


# --- Item 9: what an error redirect carries ---------------------------------------------------


def test_item_09_error_redirect_carries_only_allowed_params_and_exact_state(client, printshop):
    state = 'weird state & = / é "quoted" \\'
    response = client.get(
        "/oauth/authorize", params=authorize_params(scope="nope nope2", state=state)
    )
    query = assert_error_redirect(response, "invalid_scope", state=state)
    # RFC 6749 §4.1.2.1: error_description uses %x20-21 / %x23-5B / %x5D-7E only.
    assert re.fullmatch(r"[\x20\x21\x23-\x5b\x5d-\x7e]+", query["error_description"])


def test_item_09_error_description_never_echoes_forbidden_characters(client, printshop):
    response = client.get(
        "/oauth/authorize", params=authorize_params(scope='photos.read "evil"\\é')
    )
    query = assert_error_redirect(response, "invalid_scope")
    assert re.fullmatch(r"[\x20\x21\x23-\x5b\x5d-\x7e]+", query["error_description"])


def test_item_09_error_without_state_has_no_state(client, printshop):
    response = client.get("/oauth/authorize", params=authorize_params(state=None, scope="nope"))
    assert_error_redirect(response, "invalid_scope", state=None)


def test_item_09_an_over_long_state_is_a_page_stored_nowhere(client, printshop, db):
    state = "s" * (MAX_STATE + 1)
    response = client.get("/oauth/authorize", params=authorize_params(state=state))
    assert_error_page(response)
    assert "state parameter is too long" in response.text
    assert state not in response.text
    assert db.exec(select(AuthorizationRequest)).all() == []


def test_item_09_a_state_of_the_longest_length_goes_through(client, printshop):
    response = client.get("/oauth/authorize", params=authorize_params(state="s" * MAX_STATE))
    assert response.status_code in (302, 303)
    assert "location" in response.headers


def test_item_10_errors_redirect_without_signing_in_first(client, printshop):
    """Documented decision (RFC 9700 §4.11.2): errors go at once to the exact registered URI."""
    response = client.get("/oauth/authorize", params=authorize_params(response_type="bogus"))
    assert_error_redirect(response, "unsupported_response_type")


def test_item_10_success_never_redirects_before_sign_in(client, printshop):
    response = client.get("/oauth/authorize", params=authorize_params())
    assert response.headers["location"].startswith("/login?")
    assert "code=" not in response.headers["location"]


# --- Item 12: iss on every authorization response ---------------------------------------------


def test_item_12_iss_on_success_and_error_equals_metadata_issuer(client, printshop):
    issuer = client.get("/.well-known/oauth-authorization-server").json()["issuer"]
    success = get_code(client)
    assert success["iss"] == issuer
    error = client.get("/oauth/authorize", params=authorize_params(scope="nope"))
    assert single_query(error.headers["location"])["iss"] == issuer


# --- Items 13, 14: PKCE -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"code_challenge_method": "plain"},
        {"code_challenge_method": "S512"},
        {"code_challenge_method": "s256"},
        {"code_challenge_method": None},  # challenge without a method
        {"code_challenge": None},  # method without a challenge
        {"code_challenge": "short"},
        {"code_challenge": "x" * 129},
        {"code_challenge": CHALLENGE[:-1] + "+"},  # not unreserved
        {"code_challenge": CHALLENGE[:-1] + "="},
    ],
    ids=[
        "plain",
        "unknown-method",
        "lower-case-method",
        "no-method",
        "method-without-challenge",
        "too-short",
        "too-long",
        "plus-sign",
        "padding",
    ],
)
def test_item_13_pkce_plain_unknown_or_malformed_is_invalid_request(client, printshop, overrides):
    response = client.get("/oauth/authorize", params=authorize_params(**overrides))
    assert_error_redirect(response, "invalid_request")


def test_item_13_s256_challenge_is_stored_on_the_request(client, printshop, db):
    response = client.get("/oauth/authorize", params=authorize_params())
    pending = db.get(AuthorizationRequest, request_id_from(response.headers["location"]))
    assert pending.code_challenge == CHALLENGE
    assert pending.code_challenge_method == "S256"


def test_item_14_public_client_without_challenge_is_invalid_request(client, make_client, make_user):
    make_user()
    make_client(public=True)
    response = client.get(
        "/oauth/authorize",
        params=authorize_params(code_challenge=None, code_challenge_method=None),
    )
    query = assert_error_redirect(response, "invalid_request")
    assert "PKCE" in query["error_description"]


def test_item_14_public_client_with_challenge_is_accepted(client, make_client, make_user):
    make_user()
    make_client(public=True)
    response = client.get("/oauth/authorize", params=authorize_params())
    assert response.headers["location"].startswith("/login?")


# --- Items 29, 31: headers on the error page --------------------------------------------------


def test_item_29_31_authorize_error_page_has_security_headers(client, printshop):
    response = client.get("/oauth/authorize", params=authorize_params(client_id="nobody"))
    assert response.status_code == 400
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    # No third-party resources: every src/href is local.
    assert not re.search(r'(src|href)="(https?:)?//', response.text)


# --- The request itself -----------------------------------------------------------------------


def test_post_to_authorize_works_like_get(client, printshop):
    response = client.post("/oauth/authorize", data=authorize_params())
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?request_id=")


def test_post_to_authorize_with_bad_client_gets_page(client, printshop):
    assert_error_page(client.post("/oauth/authorize", data=authorize_params(client_id="x")))


def test_pending_request_is_stored_with_everything_asked(client, printshop, db):
    response = client.get(
        "/oauth/authorize", params=authorize_params(scope="photos.read", nonce="n-1")
    )
    pending = db.get(AuthorizationRequest, request_id_from(response.headers["location"]))
    assert pending.client_id == "printshop"
    assert pending.state == "state-123"
    assert pending.nonce == "n-1"
    assert pending.completed_at is None
    assert len(pending.id) >= 22  # ≥128 bits


def test_signed_in_user_goes_straight_to_consent(client, printshop):
    login(client)
    response = client.get("/oauth/authorize", params=authorize_params())
    assert response.status_code == 303
    assert response.headers["location"].startswith("/consent?request_id=")


def test_invalid_requests_store_nothing(client, printshop, db):
    client.get("/oauth/authorize", params=authorize_params(scope="nope"))
    client.get("/oauth/authorize", params=authorize_params(client_id="nobody"))
    assert db.exec(select(AuthorizationRequest)).all() == []


def test_success_redirect_goes_to_exact_registered_uri(client, printshop):
    location = run_to_callback(client)
    assert location.startswith(CLIENT_REDIRECT + "?")
    query = single_query(location)
    assert set(query) == {"code", "state", "iss"}
    assert query["state"] == "state-123"


def test_requests_nobody_finished_do_not_pile_up(client, printshop, db):
    stale = AuthorizationRequest(
        id="left-two-days-ago",
        client_id="printshop",
        redirect_uri=CLIENT_REDIRECT,
        expires_at=utcnow() - timedelta(days=2),
    )
    recent = AuthorizationRequest(
        id="expired-a-minute-ago",  # still told "expired" if its answer comes late
        client_id="printshop",
        redirect_uri=CLIENT_REDIRECT,
        expires_at=utcnow() - timedelta(minutes=1),
    )
    db.add_all([stale, recent])
    db.commit()
    client.get("/oauth/authorize", params=authorize_params())
    db.expire_all()
    ids = {row.id for row in db.exec(select(AuthorizationRequest)).all()}
    assert "left-two-days-ago" not in ids and "expired-a-minute-ago" in ids and len(ids) == 2
