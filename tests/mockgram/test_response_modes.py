"""Every response_type × response_mode (OIDC Core §3; Multiple Response Types §5; Form Post §2).

Checklist items 8 (response_mode) and 32 (nonce, at_hash, c_hash), and the refusals: a token or
id_token never in a query string, an id_token never without a nonce.
"""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from mockgram.models import AuthorizationRequest, Client, IssuedToken
from tests.mockgram.conftest import CLIENT_REDIRECT, ISSUER
from tests.mockgram.oauth_helpers import VERIFIER, consent, login, request_id_from
from tests.mockgram.oidc_helpers import (
    OIDC_CLIENT_ID,
    RESPONSE_TYPES,
    left_half_sha256,
    oidc_params,
    read_answer,
    redeem_oidc_code,
    register_gallery,
    run_flow,
    verify_id_token,
)

MODES = [None, "query", "fragment", "form_post"]


@pytest.fixture
def gallery(make_client, make_user, db) -> Client:
    """A client registered for every response type and the OpenID scopes."""
    make_user()
    scopes = "openid profile email offline_access photos.read photos.write"
    return register_gallery(make_client, db, scopes)


def expected_mode(response_type: str, mode: str | None) -> str:
    return mode or ("query" if response_type == "code" else "fragment")


def returns_token(response_type: str) -> bool:
    return bool({"token", "id_token"} & set(response_type.split()))


def assert_error_page(response) -> None:
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("response_type", RESPONSE_TYPES)
def test_every_response_type_in_every_mode(client, gallery, response_type, mode):
    params = oidc_params(response_type, response_mode=mode)
    if mode == "query" and returns_token(response_type):
        # Item 8: never a token in a query string — a page, and nothing issued.
        assert_error_page(client.get("/oauth/authorize", params=params))
        return
    got_mode, answer = read_answer(run_flow(client, params))
    assert got_mode == expected_mode(response_type, mode)
    words = set(response_type.split())

    # RFC 9207 §2 and RFC 6749 §4.1.2: iss and the exact state on every response.
    assert answer["iss"] == ISSUER
    assert answer["state"] == "state-xyz"
    assert ("code" in answer) == ("code" in words)
    assert ("access_token" in answer) == ("token" in words)
    assert ("id_token" in answer) == ("id_token" in words)
    assert "refresh_token" not in answer  # never from the authorization endpoint
    if "token" in words:
        assert answer["token_type"] == "Bearer"
        assert int(answer["expires_in"]) > 0
        assert set(answer["scope"].split()) == {"openid", "profile", "email", "photos.read"}
        photos = client.get(
            "/api/photos", headers={"Authorization": f"Bearer {answer['access_token']}"}
        )
        assert photos.status_code == 200
    if "id_token" in words:
        claims = verify_id_token(client, answer["id_token"]).claims
        assert claims["nonce"] == "nonce-abc"
        assert claims["iss"] == ISSUER
        assert OIDC_CLIENT_ID in claims["aud"]
        # at_hash beside an access token, c_hash beside a code (OIDC Core §3.3.2.11).
        if "token" in words:
            assert claims["at_hash"] == left_half_sha256(answer["access_token"])
        else:
            assert "at_hash" not in claims
        if "code" in words:
            assert claims["c_hash"] == left_half_sha256(answer["code"])
        else:
            assert "c_hash" not in claims
        # Profile claims ride in the id_token only when no access token exists (§5.4).
        assert ("name" in claims) == (response_type == "id_token")
    if "code" in words:
        token = redeem_oidc_code(client, answer["code"])
        token_claims = verify_id_token(client, token["id_token"]).claims
        assert token_claims["nonce"] == "nonce-abc"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("response_type", RESPONSE_TYPES)
def test_errors_travel_in_the_mode_of_the_request(client, gallery, response_type, mode):
    """An unknown scope → invalid_scope, in the request's (or the type's default) mode."""
    params = oidc_params(response_type, response_mode=mode, scope="openid photos.delete_all")
    response = client.get("/oauth/authorize", params=params)
    if mode == "query" and returns_token(response_type):
        assert_error_page(response)
        return
    got_mode, answer = read_answer(response)
    assert got_mode == expected_mode(response_type, mode)
    assert answer["error"] == "invalid_scope"
    assert answer["state"] == "state-xyz"
    assert answer["iss"] == ISSUER
    assert set(answer) <= {"error", "error_description", "error_uri", "state", "iss"}


@pytest.mark.parametrize("response_type", ["token", "id_token token", "code id_token"])
def test_item_08_token_or_id_token_in_a_query_string_is_refused_with_a_page(
    client, gallery, db, response_type
):
    params = oidc_params(response_type, response_mode="query")
    assert_error_page(client.get("/oauth/authorize", params=params))
    assert db.exec(select(AuthorizationRequest)).first() is None
    assert db.exec(select(IssuedToken)).first() is None


@pytest.mark.parametrize("mode", ["bogus", "fragment fragment"])
def test_item_08_unsupported_response_mode_is_a_page(client, gallery, mode):
    assert_error_page(
        client.get("/oauth/authorize", params=oidc_params("token", response_mode=mode))
    )


def test_item_08_repeated_response_mode_is_a_page(client, gallery):
    params = list(oidc_params("code").items()) + [
        ("response_mode", "query"),
        ("response_mode", "fragment"),
    ]
    assert_error_page(client.get("/oauth/authorize", params=params))


def test_item_08_implicit_errors_travel_in_the_fragment(client, gallery):
    response = client.get("/oauth/authorize", params=oidc_params("token", prompt="bogus"))
    mode, answer = read_answer(response)
    assert (mode, answer["error"]) == ("fragment", "invalid_request")
    assert "#" in response.headers["location"] and "?" not in response.headers["location"]


@pytest.mark.parametrize(
    "response_type",
    # OIDC Core §3.3.2.11: the hybrid `code token` needs a nonce too, though no id_token comes
    # from the authorization endpoint.
    ["id_token", "id_token token", "code id_token", "code token", "code id_token token"],
)
def test_item_32_implicit_without_nonce_is_refused(client, gallery, db, response_type):
    response = client.get("/oauth/authorize", params=oidc_params(response_type, nonce=None))
    mode, answer = read_answer(response)
    assert mode == "fragment"
    assert answer["error"] == "invalid_request"
    assert "nonce" in answer["error_description"]
    assert not {"code", "id_token", "access_token"} & set(answer)
    assert db.exec(select(AuthorizationRequest)).first() is None


def test_item_32_code_token_without_openid_needs_no_nonce(client, gallery):
    """Without openid, `code token` is OAuth 2.0 Multiple Response Types, not OIDC hybrid."""
    params = oidc_params("code token", nonce=None, scope="photos.read")
    mode, answer = read_answer(run_flow(client, params))
    assert mode == "fragment"
    assert "code" in answer and "access_token" in answer and "id_token" not in answer


def test_item_32_code_flow_without_nonce_succeeds(client, gallery):
    mode, answer = read_answer(run_flow(client, oidc_params("code", nonce=None)))
    assert mode == "query"
    token = redeem_oidc_code(client, answer["code"])
    assert "nonce" not in verify_id_token(client, token["id_token"]).claims


def test_item_32_token_without_id_token_needs_no_nonce(client, gallery):
    mode, answer = read_answer(run_flow(client, oidc_params("token", nonce=None)))
    assert mode == "fragment"
    assert "access_token" in answer


@pytest.mark.parametrize("response_type", ["id_token", "code id_token"])
def test_id_token_response_types_need_the_openid_scope(client, gallery, response_type):
    """Documented decision: invalid_scope (the scope is what must change)."""
    response = client.get(
        "/oauth/authorize", params=oidc_params(response_type, scope="profile photos.read")
    )
    assert read_answer(response)[1]["error"] == "invalid_scope"


@pytest.mark.parametrize("response_type", ["token", "code id_token", "id_token token"])
def test_response_type_not_registered_is_unauthorized_client_in_the_fragment(
    client, gallery, db, response_type
):
    gallery.response_types = "code"
    db.add(gallery)
    db.commit()
    mode, answer = read_answer(client.get("/oauth/authorize", params=oidc_params(response_type)))
    assert (mode, answer["error"]) == ("fragment", "unauthorized_client")


def test_response_type_words_in_any_order(client, gallery, db):
    response = client.get("/oauth/authorize", params=oidc_params("token code id_token"))
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?")
    pending = db.exec(select(AuthorizationRequest)).one()
    assert (pending.response_type, pending.response_mode) == ("code id_token token", "fragment")


def test_implicit_public_client_needs_no_pkce(client, make_client, make_user, db):
    make_user()
    row = make_client("spa", public=True, scopes="openid profile email photos.read")[0]
    row.response_types = "id_token token"
    db.add(row)
    db.commit()
    params = oidc_params(
        "id_token token", client_id="spa", code_challenge=None, code_challenge_method=None
    )
    mode, answer = read_answer(run_flow(client, params))
    assert mode == "fragment"
    assert {"access_token", "id_token"} <= set(answer)
    claims = verify_id_token(client, answer["id_token"]).claims
    assert claims["aud"] == ["spa"] and claims["azp"] == "spa"


def test_a_hybrid_access_token_is_revoked_when_its_code_is_replayed(client, gallery):
    """The front-channel token is recorded against the code (RFC 6749 §4.1.2 on replay)."""
    _, answer = read_answer(run_flow(client, oidc_params("code token")))
    bearer = {"Authorization": f"Bearer {answer['access_token']}"}
    assert client.get("/api/photos", headers=bearer).status_code == 200
    data = {
        "grant_type": "authorization_code",
        "code": answer["code"],
        "redirect_uri": CLIENT_REDIRECT,
        "code_verifier": VERIFIER,
    }
    auth = (OIDC_CLIENT_ID, "printshop-secret")
    assert client.post("/oauth/token", data=data, auth=auth).status_code == 200
    assert client.post("/oauth/token", data=data, auth=auth).status_code == 400
    assert client.get("/api/photos", headers=bearer).status_code == 401


# --- form_post: the page itself ---------------------------------------------------------------


def test_form_post_page_auto_submits_with_a_static_script_and_a_continue_button(client, gallery):
    response = run_flow(client, oidc_params("code id_token", response_mode="form_post"))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    assert '<form id="form-post-response" class="stack" method="post"' in page
    assert re.search(r'<button class="button" type="submit">Continue</button>', page)
    # No inline script: only the static file, which the CSP allows.
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/oauth/form_post.js" defer>']
    assert "<script>" not in page
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "form-action 'self' http://client.test" in csp
    assert "frame-ancestors 'none'" in csp
    script = client.get("/oauth/form_post.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "form-post-response" in script.text and ".submit()" in script.text


def test_form_post_denial_is_posted_too(client, gallery):
    response = client.get("/oauth/authorize", params=oidc_params("code", response_mode="form_post"))
    location = response.headers["location"]
    login(client, request_id=request_id_from(location))
    response = consent(client, request_id_from(location), decision="deny")
    mode, answer = read_answer(response)
    assert mode == "form_post"
    assert answer["error"] == "access_denied"
    assert answer["state"] == "state-xyz" and answer["iss"] == ISSUER


def test_form_post_escapes_values(client, gallery):
    state = '"><script>alert(1)</script>'
    response = client.get(
        "/oauth/authorize",
        params=oidc_params("code", response_mode="form_post", scope="x", state=state),
    )
    assert "<script>alert(1)</script>" not in response.text
    assert read_answer(response)[1]["state"] == state


@pytest.mark.parametrize("response_type", ["code", "id_token token"])
def test_answers_carrying_codes_or_tokens_are_not_cached(client, gallery, response_type):
    response = run_flow(client, oidc_params(response_type))
    assert response.status_code == 303
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
