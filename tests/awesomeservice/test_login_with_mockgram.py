"""'Log in with Mockgram' (OIDC code flow) against the fake provider: the request, the callback's
checks, C5 (userinfo sub), and how accounts are linked or created by (issuer, sub)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from awesomeservice.app import create_app
from awesomeservice.models import FederatedIdentity, LoginRecord, PendingLogin, User
from awesomeservice.settings import AwesomeServiceSettings
from shared.pkce import s256_challenge
from tests.awesomeservice.conftest import (
    AWESOME_URL,
    ISSUER,
    SUB,
    FakeMockgram,
    log_in_with_mockgram,
    login,
    login_callback,
    session_payload,
    start_mockgram_login,
)


def identities(db: Session) -> list[FederatedIdentity]:
    db.expire_all()
    return list(db.exec(select(FederatedIdentity)).all())


# ── the request ─────────────────────────────────────────────────────────────────────────────


def test_login_page_has_the_log_in_with_mockgram_button(client: TestClient) -> None:
    page = client.get("/login")
    assert 'href="/login/mockgram"' in page.text
    assert "Log in with Mockgram" in page.text
    assert 'name="password"' in page.text  # the password login stays


def test_authentication_request_has_state_nonce_pkce_and_openid(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    params = start_mockgram_login(client)
    assert params["response_type"] == "code"
    assert params["client_id"] == "awesomeservice"
    assert params["redirect_uri"] == f"{AWESOME_URL}/login/callback"
    assert params["scope"].split() == ["openid", "profile", "email"]
    assert params["code_challenge_method"] == "S256"
    assert len(params["state"]) >= 43 and len(params["nonce"]) >= 43
    assert params["state"] != params["nonce"]
    (pending,) = db.exec(select(PendingLogin)).all()
    assert s256_challenge(pending.code_verifier) == params["code_challenge"]
    assert pending.nonce == params["nonce"]
    assert pending.state_hash != params["state"]  # only its hash is stored
    # The authorization endpoint came from discovery, fetched over the back channel.
    discovery = fake.requests_to("/.well-known/openid-configuration")
    assert discovery and {r.url.host for r in discovery} == {"mockgram.internal"}


def test_signed_in_get_shows_a_link_form_instead_of_redirecting(client: TestClient) -> None:
    login(client)
    page = client.get("/login/mockgram")
    assert page.status_code == 200
    assert 'action="/login/mockgram"' in page.text
    assert "Link Mockgram to this account" in page.text


def test_linking_needs_the_csrf_token(client: TestClient, db: Session) -> None:
    login(client)
    response = client.post("/login/mockgram", data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert db.exec(select(PendingLogin)).all() == []


# ── the happy paths: create, sign in, link ──────────────────────────────────────────────────


def test_new_person_gets_an_account_and_is_signed_in(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    response = log_in_with_mockgram(client, fake)
    assert response.status_code == 303
    assert response.headers["location"] == "/login/mockgram/claims"
    (identity,) = identities(db)
    assert (identity.issuer, identity.subject) == (ISSUER, SUB)
    user = db.get(User, identity.user_id)
    assert user is not None
    assert user.name == "John Appleseed"
    # The seeded AwesomeService 'john' is someone else: never matched by username (or email).
    assert user.username != "john" and user.username.startswith("john-")
    assert f'"user_id": {user.id}' in session_payload(client)
    # The code exchange: client_secret_basic, the PKCE verifier, to the internal URL.
    (token_request,) = fake.token_requests
    assert token_request.url.host == "mockgram.internal"
    assert (
        token_request.headers["authorization"]
        == "Basic " + base64.b64encode(b"awesomeservice:awesomeservice-demo-secret").decode()
    )
    form = fake.token_form()
    assert form["grant_type"] == "authorization_code"
    assert form["redirect_uri"] == f"{AWESOME_URL}/login/callback"
    assert "code_verifier" in form and "client_secret" not in form
    (userinfo,) = fake.requests_to("/oauth/userinfo")
    assert userinfo.headers["authorization"] == f"Bearer {fake.access_token}"


def test_claims_page_shows_header_claims_and_userinfo(
    client: TestClient, fake: FakeMockgram
) -> None:
    log_in_with_mockgram(client, fake)
    page = client.get("/login/mockgram/claims")
    assert page.status_code == 200
    assert "What Mockgram told us about you" in page.text
    assert "created this account for you" in page.text
    for text in ("id_token header", "RS256", "id_token claims", "nonce", "at_hash", "userinfo"):
        assert text in page.text
    assert "john@mockgram.test" in page.text  # from userinfo
    assert fake.access_token not in page.text  # decoded claims only, never a raw token
    assert page.headers["cache-control"] == "no-store"


def test_second_login_signs_in_the_same_account(
    make_client: Callable[[], TestClient], fake: FakeMockgram, db: Session
) -> None:
    first, second = make_client(), make_client()
    log_in_with_mockgram(first, fake)
    log_in_with_mockgram(second, fake)
    (identity,) = identities(db)
    assert f'"user_id": {identity.user_id}' in session_payload(second)
    assert len(db.exec(select(User)).all()) == 2  # the seeded john and the one created once
    assert "signed you in" in second.get("/login/mockgram/claims").text


def test_signed_in_user_links_their_mockgram_account(
    make_client: Callable[[], TestClient], fake: FakeMockgram, db: Session
) -> None:
    browser = make_client()
    login(browser)  # the seeded AwesomeService account 'john'
    john = db.exec(select(User).where(User.username == "john")).one()
    response = log_in_with_mockgram(browser, fake)
    assert response.status_code == 303
    (identity,) = identities(db)
    assert identity.user_id == john.id
    assert "linked your Mockgram account" in browser.get("/login/mockgram/claims").text
    # From now on "Log in with Mockgram" alone reaches John's account.
    other = make_client()
    log_in_with_mockgram(other, fake)
    assert f'"user_id": {john.id}' in session_payload(other)


def test_linking_an_identity_already_linked_elsewhere_is_refused(
    make_client: Callable[[], TestClient],
    fake: FakeMockgram,
    db: Session,
    make_user: Callable[..., User],
) -> None:
    log_in_with_mockgram(make_client(), fake)  # creates an account linked to sub 7
    make_user("jane", "jane-password")
    jane = make_client()
    login(jane, "jane", "jane-password")
    response = log_in_with_mockgram(jane, fake)
    assert response.status_code == 400
    assert "linked to another AwesomeService account" in response.text
    # The page tells Jane what is true: she is still signed in, and how to reach that account.
    assert "You are still signed in as before" in response.text
    assert "Nobody was signed in" not in response.text and "unlink" not in response.text
    assert len(identities(db)) == 1


def test_login_rotates_the_session(client: TestClient, fake: FakeMockgram) -> None:
    params = start_mockgram_login(client, fake)
    before = session_payload(client)
    login_callback(client, code="c", state=params["state"], iss=ISSUER)
    after = session_payload(client)
    assert '"browser_binding"' in before and '"browser_binding"' in after
    assert before.split('"browser_binding": ')[1][:24] != after.split('"browser_binding": ')[1][:24]


# ── C5: userinfo must be about the same person ─────────────────────────────────────────────


def test_c5_userinfo_with_another_sub_is_refused(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    fake.userinfo_overrides = {"sub": "8", "name": "Jane Doe"}
    response = log_in_with_mockgram(client, fake)
    assert response.status_code == 400
    assert "The profile is about someone else" in response.text
    assert "OIDC Core §5.3.2" in response.text
    assert "user_id" not in session_payload(client)
    assert identities(db) == []
    assert db.exec(select(LoginRecord)).all() == []


def test_c5_userinfo_without_sub_is_refused(client: TestClient, fake: FakeMockgram) -> None:
    fake.userinfo_overrides = {"sub": None}
    response = log_in_with_mockgram(client, fake)
    assert response.status_code == 400
    assert "userinfo_sub_mismatch" in response.text


# ── the callback's other checks (C1, C3) ────────────────────────────────────────────────────


def test_c1_login_state_wrong_or_missing_is_refused(client: TestClient, fake: FakeMockgram) -> None:
    params = start_mockgram_login(client, fake)
    assert login_callback(client, code="c", iss=ISSUER).status_code == 400
    wrong = login_callback(client, code="c", state=params["state"] + "x", iss=ISSUER)
    assert wrong.status_code == 400
    assert "login CSRF" in wrong.text
    assert fake.token_requests == []


def test_c1_login_state_from_another_browser_is_refused(
    make_client: Callable[[], TestClient], fake: FakeMockgram
) -> None:
    attacker, victim = make_client(), make_client()
    params = start_mockgram_login(attacker, fake)
    victim.get("/login")  # the victim has a session of their own
    response = login_callback(victim, code="attackers-code", state=params["state"], iss=ISSUER)
    assert response.status_code == 400
    assert fake.token_requests == []


def test_c1_login_state_reused_is_refused(client: TestClient, fake: FakeMockgram) -> None:
    params = start_mockgram_login(client, fake)
    assert login_callback(client, code="c", state=params["state"], iss=ISSUER).status_code == 303
    again = login_callback(client, code="c2", state=params["state"], iss=ISSUER)
    assert again.status_code == 400
    assert len(fake.token_requests) == 1


@pytest.mark.parametrize("iss", [None, "http://evil.test", ISSUER + "/"])
def test_c3_login_iss_missing_or_wrong_is_refused(
    client: TestClient, fake: FakeMockgram, iss: str | None
) -> None:
    params = start_mockgram_login(client, fake)
    query = {"code": "c", "state": params["state"]}
    if iss is not None:
        query["iss"] = iss
    response = login_callback(client, **query)
    assert response.status_code == 400
    assert "RFC 9207" in response.text
    assert fake.token_requests == []


def test_c3_iss_may_be_absent_when_the_provider_does_not_advertise_it(
    client: TestClient, fake: FakeMockgram
) -> None:
    fake.metadata_overrides = {"authorization_response_iss_parameter_supported": None}
    params = start_mockgram_login(client, fake)
    response = login_callback(client, code="c", state=params["state"])
    assert response.status_code == 303


def test_access_denied_is_explained_and_nobody_signed_in(
    client: TestClient, fake: FakeMockgram
) -> None:
    params = start_mockgram_login(client, fake)
    response = login_callback(client, error="access_denied", state=params["state"], iss=ISSUER)
    assert response.status_code == 200
    assert "You chose not to log in with Mockgram" in response.text
    later = login_callback(client, code="c", state=params["state"], iss=ISSUER)
    assert later.status_code == 400  # the state was used up
    assert fake.token_requests == []


def test_token_response_without_id_token_is_refused(client: TestClient, fake: FakeMockgram) -> None:
    params = start_mockgram_login(client, fake)
    fake.issue_id_token = False
    response = login_callback(client, code="c", state=params["state"], iss=ISSUER)
    assert response.status_code == 400
    assert "id_token_missing" in response.text


def test_token_error_is_explained(client: TestClient, fake: FakeMockgram) -> None:
    fake.token_error = "invalid_grant"
    response = log_in_with_mockgram(client, fake)
    assert response.status_code == 400
    assert "invalid_grant" in response.text


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ReadTimeout])
def test_provider_down_at_discovery_gives_a_friendly_page(
    client: TestClient, fake: FakeMockgram, failure: type[Exception]
) -> None:
    fake.discovery_failure = failure
    response = client.get("/login/mockgram")
    assert response.status_code in (502, 504)
    assert "Mockgram" in response.text


def test_claims_page_needs_sign_in(client: TestClient) -> None:
    response = client.get("/login/mockgram/claims")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_claims_page_without_a_login_says_so(client: TestClient) -> None:
    login(client)
    assert "nothing to show" in client.get("/login/mockgram/claims").text


# ── another standards-compliant provider ────────────────────────────────────────────────────


# The other provider's own endpoint paths (as another product lays them out), by Mockgram's.
OTHER_PATHS = {
    "/oauth/authorize": "/connect/authorize",
    "/oauth/token": "/connect/token",
    "/oauth/userinfo": "/connect/userinfo",
    "/.well-known/jwks.json": "/keys",
    "/oauth/revoke": "/connect/revocation",
}


def test_login_works_unchanged_with_another_provider(awesome_database_url: str) -> None:
    """Pointed at another issuer, login uses its discovery, endpoints, keys and client
    authentication method; Mockgram is not involved and no path is assumed."""
    other_issuer = "https://id.example.org"
    provider = FakeMockgram()
    document = provider.metadata()
    overrides: dict[str, object] = {}
    for name, value in document.items():
        if isinstance(value, str) and value.startswith(ISSUER):
            path = value[len(ISSUER) :]
            overrides[name] = other_issuer + OTHER_PATHS.get(path, path)
    # This provider takes the client's secret in the form body only (RFC 6749 §2.3.1).
    overrides["token_endpoint_auth_methods_supported"] = ["client_secret_post"]
    provider.metadata_overrides = overrides
    provider.id_token_overrides = {
        "iss": other_issuer,
        "aud": ["shop-at-idp"],
        "azp": "shop-at-idp",
    }
    settings = AwesomeServiceSettings(
        url=AWESOME_URL,
        mockgram_url=ISSUER,
        mockgram_internal_url="http://mockgram.internal",
        database_url=awesome_database_url,
        secret_key="another-provider-test",
        login_issuer=other_issuer,
        login_client_id="shop-at-idp",
        login_client_secret="idp-secret",
    )
    assert settings.client_id == "awesomeservice"  # the photos client is unchanged
    mockgram_paths = {mockgram for mockgram, _ in OTHER_PATHS.items()}
    seen: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        host, path = request.url.host, request.url.path
        seen.append((host, path))
        if host == "id.example.org" and path in mockgram_paths:
            return httpx.Response(404)  # Mockgram's paths do not exist at this provider
        own = {other: mockgram for mockgram, other in OTHER_PATHS.items()}
        if path in own:
            headers = dict(request.headers)
            content = request.content
            if own[path] == "/oauth/token":
                form = dict(parse_qsl(content.decode()))
                assert "authorization" not in headers  # no Basic where only post is offered
                assert (form.pop("client_id"), form.pop("client_secret")) == (
                    "shop-at-idp",
                    "idp-secret",
                )
                headers["authorization"] = (
                    "Basic "
                    + base64.b64encode(b"awesomeservice:awesomeservice-demo-secret").decode()
                )
                content = urlencode(form).encode()
                headers.pop("content-length", None)
            request = httpx.Request(
                request.method,
                request.url.copy_with(path=own[path]),
                headers=headers,
                content=content,
            )
        return provider.handler(request)

    app: FastAPI = create_app(settings, http_transport=httpx.MockTransport(handler))
    with TestClient(app, base_url=AWESOME_URL, follow_redirects=False) as browser:
        start = browser.get("/login/mockgram")
        assert start.headers["location"].startswith(f"{other_issuer}/connect/authorize?")
        params = dict(httpx.URL(start.headers["location"]).params)
        assert params["client_id"] == "shop-at-idp"
        provider.nonce = params["nonce"]
        provider.issue_id_token = True
        response = browser.get(
            "/login/callback", params={"code": "c", "state": params["state"], "iss": other_issuer}
        )
        assert response.status_code == 303, response.text
    # Every back-channel call of the login went to the other provider's own endpoints.
    login_calls = {path for host, path in seen if host == "id.example.org"}
    assert login_calls == {
        "/.well-known/openid-configuration",
        "/connect/token",
        "/keys",
        "/connect/userinfo",
    }
    with Session(app.state.engine) as session:
        (identity,) = session.exec(select(FederatedIdentity)).all()
        assert identity.issuer == other_issuer
