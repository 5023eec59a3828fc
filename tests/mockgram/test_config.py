"""The configuration file: each key that matters, seen from outside (tokens, pages, JWKS)."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlmodel import Session, func, select

from mockgram.app import create_app
from mockgram.config import DEMO_CONFIG, load_config
from mockgram.models import Client, Photo, User
from mockgram.settings import MockgramSettings
from tests.mockgram.conftest import CLIENT_REDIRECT, ISSUER, PASSWORD
from tests.mockgram.oauth_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    authorize_params,
    get_code,
    login,
    redeem,
    request_id_from,
)
from tests.postgres import sqlite_only

ALICE = f"""
[[users]]
username = "alice"
password = "{PASSWORD}"
name = "Alice Liddell"
email = "alice@wonderland.test"
email_verified = true
sub = "user-0001"
claims = {{ groups = ["admins", "readers"], tenant = "wonderland", given_name = "Alice" }}
id_token_claims = ["groups", "email"]
access_token_claims = ["groups"]
"""

PRINTSHOP = f"""
[[clients]]
client_id = "{CLIENT_ID}"
name = "Print shop"
secret = "{CLIENT_SECRET}"
redirect_uris = ["{CLIENT_REDIRECT}"]
scopes = ["openid", "profile", "email", "photos.read", "offline_access"]
"""

ConfiguredApp = Callable[..., TestClient]


@pytest.fixture
def configured(tmp_path: Path, mockgram_database_url: str) -> Iterator[ConfiguredApp]:
    """Build Mockgram from a configuration file's text; a browser on it (no redirects)."""
    browsers: list[TestClient] = []

    def build(text: str, **settings: object) -> TestClient:
        path = tmp_path / f"mockgram-{len(browsers)}.toml"
        path.write_text(text, encoding="utf-8")
        values: dict[str, object] = {
            "issuer": ISSUER,
            "database_url": mockgram_database_url,
            "secret_key": "test-secret-key-for-sessions",
            "config": path,
        }
        # A setting given as None is left unset, for the file to decide.
        chosen = {k: v for k, v in (values | settings).items() if v is not None}
        app = create_app(MockgramSettings(**chosen))
        browser = TestClient(app, base_url=ISSUER, follow_redirects=False)
        browsers.append(browser.__enter__())
        return browser

    yield build
    for browser in browsers:
        browser.__exit__(None, None, None)


def tokens_for(browser: TestClient, scope: str, username: str = "alice") -> dict:
    code = get_code(browser, username=username, scope=scope)["code"]
    response = redeem(browser, code)
    assert response.status_code == 200, response.text
    return response.json()


def claims_of(browser: TestClient, token: str) -> dict:
    """A token's claims, its signature checked against the published JWKS."""
    keys = KeySet.import_key_set(browser.get("/.well-known/jwks.json").json())
    return dict(jwt.decode(token, keys, algorithms=["RS256", "ES256"]).claims)


def userinfo(browser: TestClient, access_token: str) -> dict:
    response = browser.get("/oauth/userinfo", headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_configured_user_signs_in_and_tokens_carry_their_sub_and_released_claims(configured):
    browser = configured(ALICE + PRINTSHOP)
    answer = tokens_for(browser, "openid photos.read")
    id_token = claims_of(browser, answer["id_token"])
    # id_token_claims: in every id_token, whatever the scope; sub is the configured one.
    assert id_token["sub"] == "user-0001"
    assert id_token["groups"] == ["admins", "readers"]
    assert id_token["email"] == "alice@wonderland.test"
    assert "tenant" not in id_token and "given_name" not in id_token
    access = claims_of(browser, answer["access_token"])
    assert access["sub"] == "user-0001"
    assert access["groups"] == ["admins", "readers"]
    assert "email" not in access
    # Userinfo: scope openid alone releases no standard claim; claims of the app's own are
    # released when no rule says otherwise. given_name is standard: the profile scope's.
    assert userinfo(browser, answer["access_token"]) == {
        "sub": "user-0001",
        "groups": ["admins", "readers"],
        "tenant": "wonderland",
    }


def test_profile_and_email_scopes_release_the_configured_standard_claims(configured):
    browser = configured(ALICE + PRINTSHOP)
    answer = tokens_for(browser, "openid profile email")
    info = userinfo(browser, answer["access_token"])
    assert info["name"] == "Alice Liddell"
    assert info["given_name"] == "Alice"
    assert info["preferred_username"] == "alice"
    assert (info["email"], info["email_verified"]) == ("alice@wonderland.test", True)


def test_a_userinfo_rule_releases_only_the_claims_it_names(configured):
    browser = configured(ALICE + 'userinfo_claims = ["tenant"]\n' + PRINTSHOP)
    answer = tokens_for(browser, "openid")
    assert userinfo(browser, answer["access_token"]) == {"sub": "user-0001", "tenant": "wonderland"}


def test_a_configured_scope_has_its_wording_on_the_consent_page_and_releases_its_claims(
    configured,
):
    scope = """
[[scopes]]
name = "groups"
title = "See which teams you are in"
description = "The groups your account belongs to."
claims = ["groups"]
"""
    text = scope + ALICE + PRINTSHOP.replace('"offline_access"]', '"offline_access", "groups"]')
    browser = configured(text)
    metadata = browser.get("/.well-known/openid-configuration").json()
    assert "groups" in metadata["scopes_supported"]
    location = browser.get(
        "/oauth/authorize", params=authorize_params(scope="openid groups")
    ).headers["location"]
    signed_in = login(browser, username="alice", request_id=request_id_from(location))
    question = browser.get(signed_in.headers["location"])
    assert "See which teams you are in" in question.text
    assert "The groups your account belongs to." in question.text
    answer = tokens_for(browser, "openid groups")
    # The scope releases groups; tenant, tied to no scope, comes by default.
    info = userinfo(browser, answer["access_token"])
    assert info["groups"] == ["admins", "readers"]
    without = tokens_for(browser, "openid")
    assert "groups" not in userinfo(browser, without["access_token"])


def test_a_configured_public_client_gets_tokens_with_pkce_and_no_secret(configured):
    public = PRINTSHOP.replace(f'secret = "{CLIENT_SECRET}"', 'token_endpoint_auth_method = "none"')
    browser = configured(ALICE + public)
    code = get_code(browser, username="alice", scope="openid")["code"]
    response = redeem(browser, code, auth=None, client_id=CLIENT_ID)
    assert response.status_code == 200, response.text
    wrong = redeem(browser, code, auth=(CLIENT_ID, "guess"))
    assert wrong.status_code in (400, 401)


def test_a_confidential_client_with_another_secret_gets_no_token(configured):
    browser = configured(ALICE + PRINTSHOP)
    code = get_code(browser, username="alice", scope="openid")["code"]
    assert redeem(browser, code, auth=(CLIENT_ID, "not-the-secret")).status_code == 401


def test_a_pinned_rsa_key_from_a_pem_file_is_in_the_jwks_with_its_kid_and_signs(
    configured, tmp_path
):
    key = RSAKey.generate_key(2048, private=True)
    (tmp_path / "signing.pem").write_bytes(key.as_pem(private=True))
    signing = '[signing]\nalgorithm = "RS256"\nkey_file = "signing.pem"\nkid = "pinned-1"\n'
    browser = configured(signing + ALICE + PRINTSHOP)
    jwks = browser.get("/.well-known/jwks.json").json()["keys"]
    rsa = [k for k in jwks if k["kty"] == "RSA"]
    assert [(k["kid"], k["n"]) for k in rsa] == [("pinned-1", key.as_dict()["n"])]
    answer = tokens_for(browser, "openid")
    for token in (answer["access_token"], answer["id_token"]):
        decoded = jwt.decode(token, key, algorithms=["RS256"])  # the pinned key itself
        assert decoded.header["kid"] == "pinned-1"


def test_a_pinned_key_is_not_rotated_away_through_the_control_plane(configured, tmp_path):
    key = RSAKey.generate_key(2048, private=True)
    (tmp_path / "signing.pem").write_bytes(key.as_pem(private=True))
    signing = '[signing]\nalgorithm = "RS256"\nkey_file = "signing.pem"\nkid = "pinned-1"\n'
    browser = configured(signing + ALICE + PRINTSHOP, control_secret="control-secret")
    before = browser.get("/.well-known/jwks.json").json()
    bearer = {"Authorization": "Bearer control-secret"}
    answer = browser.post("/_control/keys/rotate", json={}, headers=bearer)
    assert answer.status_code == 409
    assert "pinned" in answer.json()["error_description"]
    assert browser.get("/.well-known/jwks.json").json() == before
    token = tokens_for(browser, "openid")["access_token"]
    assert jwt.decode(token, key, algorithms=["RS256"]).header["kid"] == "pinned-1"


def test_a_pinned_es256_jwk_inline_signs_access_and_id_tokens(configured):
    key = ECKey.generate_key("P-256", private=True, parameters={"kid": "ec-fixed"})
    jwk = json.dumps(key.as_dict(private=True))
    browser = configured(f"[signing]\nalgorithm = \"ES256\"\nkey = '{jwk}'\n" + ALICE + PRINTSHOP)
    kids = {k["kid"] for k in browser.get("/.well-known/jwks.json").json()["keys"]}
    assert "ec-fixed" in kids
    answer = tokens_for(browser, "openid")
    for token in (answer["access_token"], answer["id_token"]):
        decoded = jwt.decode(token, key, algorithms=["ES256"])
        assert decoded.header == decoded.header | {"alg": "ES256", "kid": "ec-fixed"}
    # The access token still opens the API and userinfo: the resource server accepts ES256.
    assert userinfo(browser, answer["access_token"])["sub"] == "user-0001"


def test_token_lifetimes_apply(configured):
    lifetimes = "[tokens]\naccess_token_seconds = 120\nid_token_seconds = 45\n"
    browser = configured(lifetimes + ALICE + PRINTSHOP)
    answer = tokens_for(browser, "openid")
    assert answer["expires_in"] == 120
    access = claims_of(browser, answer["access_token"])
    assert access["exp"] - access["iat"] == 120
    id_token = claims_of(browser, answer["id_token"])
    assert id_token["exp"] - id_token["iat"] == 45


def test_the_environment_or_caller_wins_over_the_file(configured):
    browser = configured(
        "[tokens]\naccess_token_seconds = 120\n" + ALICE + PRINTSHOP, access_token_ttl_seconds=300
    )
    assert tokens_for(browser, "openid")["expires_in"] == 300


def test_an_environment_variable_wins_over_the_file(configured, monkeypatch):
    monkeypatch.setenv("MOCKGRAM_ACCESS_TOKEN_TTL_SECONDS", "300")
    browser = configured("[tokens]\naccess_token_seconds = 120\n" + ALICE + PRINTSHOP)
    assert tokens_for(browser, "openid")["expires_in"] == 300


def test_the_issuer_key_sets_the_issuer(configured):
    browser = configured('issuer = "https://login.example.test/"\n' + PRINTSHOP, issuer=None)
    metadata = browser.get("/.well-known/openid-configuration").json()
    assert metadata["issuer"] == "https://login.example.test"  # one canonical form (RFC 8414 §2)


def count(browser: TestClient, model: type) -> int:
    with Session(browser.app.state.engine) as session:  # type: ignore[attr-defined]
        return session.exec(select(func.count()).select_from(model)).one()


def test_with_a_file_the_demo_is_off_unless_it_says_seed_demo(configured):
    browser = configured(ALICE + PRINTSHOP)
    with Session(browser.app.state.engine) as session:  # type: ignore[attr-defined]
        usernames = session.exec(select(User.username)).all()
        client_ids = session.exec(select(Client.client_id)).all()
    assert usernames == ["alice"]
    assert client_ids == [CLIENT_ID]
    assert count(browser, Photo) == 0  # alice has no photos


def test_seed_demo_true_adds_john_jane_and_the_awesomeservice_clients(configured):
    browser = configured("seed_demo = true\n" + ALICE + PRINTSHOP)
    with Session(browser.app.state.engine) as session:  # type: ignore[attr-defined]
        usernames = set(session.exec(select(User.username)).all())
        client_ids = set(session.exec(select(Client.client_id)).all())
    assert usernames == {"alice", "john", "jane"}
    assert {"awesomeservice", "oauth-debugger", CLIENT_ID} <= client_ids
    assert count(browser, Photo) == 24


def test_a_configured_user_gets_the_photos_listed(configured):
    photos = """photos = [
  { scene = "cat", caption = "Dinah", taken_at = 2024-05-04T12:00:00Z },
  { scene = "tulips", caption = "The garden" },
]
"""
    browser = configured(ALICE + photos + PRINTSHOP)
    answer = tokens_for(browser, "photos.read")
    listed = browser.get(
        "/api/photos", headers={"Authorization": f"Bearer {answer['access_token']}"}
    ).json()
    captions = sorted(photo["caption"] for photo in listed["photos"])
    assert captions == ["Dinah", "The garden"]


def test_settings_can_be_named_in_strings(configured):
    text = ALICE + PRINTSHOP.replace(CLIENT_REDIRECT, "${awesomeservice_url}/callback")
    browser = configured(text, awesomeservice_url="http://client.test")
    code = get_code(browser, username="alice", scope="openid")["code"]
    assert redeem(browser, code).status_code == 200


@sqlite_only
def test_starting_again_brings_people_and_clients_in_line_but_keeps_the_password(
    configured, tmp_path
):
    database = f"sqlite:///{tmp_path / 'mockgram.db'}"  # one database for both starts
    configured(ALICE + PRINTSHOP, database_url=database)
    changed = ALICE.replace("Alice Liddell", "Alice L.").replace(PASSWORD, "new-password")
    again = PRINTSHOP.replace("Print shop", "Print shop 2")
    browser = configured(changed + again, database_url=database)
    with Session(browser.app.state.engine) as session:  # type: ignore[attr-defined]
        alice = session.exec(select(User).where(User.username == "alice")).one()
        printshop = session.get(Client, CLIENT_ID)
        assert alice.name == "Alice L."
        assert printshop is not None and printshop.name == "Print shop 2"
    # An existing person keeps their password (as the demo people always have).
    assert tokens_for(browser, "openid")["token_type"] == "Bearer"


def test_the_explained_example_is_the_demo_itself() -> None:
    root = Path(__file__).resolve().parents[2]
    in_demo = MockgramSettings(demo=True)  # the ${demo_password} both name is set only then
    example = load_config(root / "examples" / "mockgram.toml", in_demo).config
    demo = load_config(DEMO_CONFIG, in_demo).config
    assert example.users == demo.users
    assert example.clients == demo.clients


def test_the_demo_file_ships_inside_the_package() -> None:
    root = Path(__file__).resolve().parents[2]
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    data = pyproject["tool"]["setuptools"]["package-data"]["*"]
    assert DEMO_CONFIG.relative_to(root / "mockgram").as_posix() in {
        pattern.replace("*", "mockgram") for pattern in data
    }


NIGHTLY_JOB = """
[[clients]]
client_id = "nightly-job"
secret = "nightly-secret"
scopes = ["photos.read"]
grant_types = ["client_credentials"]
"""


def test_a_machine_client_needs_no_redirect_uri_and_uses_only_its_grant(configured):
    browser = configured(ALICE + PRINTSHOP + NIGHTLY_JOB)
    auth = ("nightly-job", "nightly-secret")
    token = browser.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=auth)
    assert token.status_code == 200, token.text
    assert claims_of(browser, token.json()["access_token"])["sub"] == "nightly-job"
    code = browser.post("/oauth/token", data={"grant_type": "authorization_code"}, auth=auth)
    assert code.json()["error"] == "unauthorized_client"
    # printshop listed no grant_types: the code flow only, no client credentials.
    printshop = (CLIENT_ID, CLIENT_SECRET)
    refused = browser.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=printshop
    )
    assert refused.json()["error"] == "unauthorized_client"


def test_a_client_configured_with_dpop_bound_access_tokens_must_prove_a_key(configured):
    # RFC 9449 §5.2, as the TOML file says it: a token request without a DPoP proof is refused.
    browser = configured(ALICE + PRINTSHOP + "dpop_bound_access_tokens = true\n")
    code = get_code(browser, username="alice", scope="openid")["code"]
    response = redeem(browser, code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_dpop_proof"
