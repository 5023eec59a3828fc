"""The pytest plugin's fixtures, each used the way its documentation says."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from mockgram.testing import ControlError, FlowError, Tokens


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def jwks_of(http: httpx.Client) -> KeySet:
    return KeySet.import_key_set(http.get("/.well-known/jwks.json").json())


def test_mockgram_is_the_app_in_process_with_a_client_bound_to_it(mockgram):
    metadata = mockgram.client.get("/.well-known/openid-configuration").json()
    assert metadata["issuer"] == mockgram.url
    assert mockgram.app.state.settings.control_enabled
    with mockgram.http() as http:  # another, with cookies of its own
        assert http.get("/.well-known/jwks.json").status_code == 200


def test_mockgram_database_is_fresh_for_each_test_part_one(mockgram):
    mockgram.control.upsert_user("only-in-part-one")
    assert mockgram.control.upsert_user("only-in-part-one")["username"] == "only-in-part-one"


def test_mockgram_database_is_fresh_for_each_test_part_two(mockgram):
    from sqlmodel import Session, select

    from mockgram.models import User

    with Session(mockgram.app.state.engine) as session:
        names = set(session.exec(select(User.username)).all())
    assert "only-in-part-one" not in names
    assert {"john", "jane"} <= names  # the demo people come with every Mockgram


@pytest.mark.anyio
async def test_mockgram_transport_serves_an_async_client(mockgram):
    async with httpx.AsyncClient(transport=mockgram.transport, base_url=mockgram.url) as http:
        assert (await http.get("/.well-known/jwks.json")).status_code == 200


def test_mockgram_server_answers_on_a_loopback_port(mockgram_server):
    assert mockgram_server.url.startswith("http://127.0.0.1:")
    metadata = httpx.get(f"{mockgram_server.url}/.well-known/openid-configuration").json()
    assert metadata["issuer"] == mockgram_server.url


def test_token_for_returns_real_tokens(mockgram, token_for):
    tokens = token_for("alice", "openid profile photos.read")
    assert isinstance(tokens, Tokens)
    with mockgram.http() as http:
        userinfo = http.get(
            "/oauth/userinfo", headers={"Authorization": f"Bearer {tokens.access_token}"}
        )
        assert userinfo.status_code == 200
        assert userinfo.json()["preferred_username"] == "alice"
        id_claims = jwt.decode(tokens.id_token, jwks_of(http)).claims
        assert id_claims["sub"] == userinfo.json()["sub"]
        refreshed = http.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens.refresh_token},
            auth=("mockgram-tests", mockgram._default_client.secret),
        )
    assert refreshed.status_code == 200


def test_token_for_with_claims_puts_them_in_the_id_token(token_for):
    tokens = token_for("bob", "openid", claims={"groups": ["admin"], "name": "Bob B."})
    assert claims_of(tokens.id_token)["groups"] == ["admin"]


def test_token_for_with_a_client_of_ones_own(mockgram, token_for):
    client = mockgram.control.register_client(
        "my-app", redirect_uris=["http://127.0.0.1:9999/cb"], scopes="openid photos.read"
    )
    tokens = token_for("carol", "photos.read", client=client)
    assert tokens.client_id == "my-app"
    assert claims_of(tokens.access_token)["client_id"] == "my-app"


def test_token_for_works_against_the_server(mockgram_server, token_for):
    tokens = token_for("dave", "openid")
    assert claims_of(tokens.id_token)["iss"] == mockgram_server.url


def test_next_login_picks_who_signs_in_next(mockgram, next_login):
    next_login("erin", claims={"email": "erin@example.com", "email_verified": True})
    client = mockgram.control.register_client(
        "spa", redirect_uris=["http://127.0.0.1/cb"], public=True, scopes="openid email"
    )
    back = mockgram.authorize(
        f"{mockgram.url}/oauth/authorize?response_type=code&client_id={client.client_id}"
        "&redirect_uri=http://127.0.0.1/cb&scope=openid%20email&code_challenge="
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
    )
    code = httpx.URL(back).params["code"]
    with mockgram.http() as http:
        answer = http.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": "spa",
                "redirect_uri": "http://127.0.0.1/cb",
                "code_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            },
        ).json()
    claims = claims_of(answer["id_token"])
    assert claims["email"] == "erin@example.com"


def test_faults_token_error(token_for, mockgram_faults):
    mockgram_faults.token_error("invalid_grant")
    with pytest.raises(FlowError, match="invalid_grant"):
        token_for("frank")
    assert token_for("frank").access_token


def test_faults_refuse_next_code(token_for, mockgram_faults):
    mockgram_faults.refuse_next_code()
    with pytest.raises(FlowError, match="invalid_grant"):
        token_for("grace")


def test_faults_unpublished_key(mockgram, token_for, mockgram_faults):
    mockgram_faults.unpublished_key()
    tokens = token_for("heidi", "openid")
    with mockgram.http() as http, pytest.raises(JoseError):
        jwt.decode(tokens.id_token, jwks_of(http))


def test_faults_slow_is_queued_and_used_once(mockgram, mockgram_faults):
    mockgram_faults.slow("jwks", 5)
    assert mockgram_faults.queued() == [
        {"id": 1, "kind": "slow", "endpoint": "jwks", "delay_ms": 5}
    ]
    with mockgram.http() as http:
        assert http.get("/.well-known/jwks.json").status_code == 200
    assert mockgram_faults.queued() == []


def test_faults_refuse_an_unknown_kind_clearly(mockgram_faults):
    with pytest.raises(ControlError, match="400"):
        mockgram_faults.slow("userinfo", 5)


def test_mockgram_requests_is_the_request_log(token_for, mockgram_requests):
    mockgram_requests.clear()
    token_for("ivan")
    assert mockgram_requests.paths() == [
        "GET /oauth/authorize",
        "GET /login",
        "GET /consent",
        "POST /oauth/token",
    ]
    token_call = mockgram_requests.all()[-1]
    assert token_call["client_id"] == "mockgram-tests"
    assert token_call["params"]["code"] == "[redacted]"
    mockgram_requests.clear()
    assert mockgram_requests.all() == []


def test_mockgram_server_is_reachable_from_another_process(mockgram_server):
    import subprocess
    import sys

    fetch = (
        "import json, sys, urllib.request;"
        "print(json.load(urllib.request.urlopen(sys.argv[1]))['issuer'])"
    )
    url = f"{mockgram_server.url}/.well-known/openid-configuration"
    result = subprocess.run(
        [sys.executable, "-c", fetch, url], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == mockgram_server.url


def test_faults_and_requests_act_on_the_server_when_the_test_uses_it(
    mockgram_server, mockgram_faults, mockgram_requests
):
    mockgram_requests.clear()
    mockgram_faults.token_error("server_error")
    with mockgram_server.http() as http:
        answer = http.post("/oauth/token", data={"grant_type": "authorization_code"})
    assert (answer.status_code, answer.json()["error"]) == (500, "server_error")
    assert mockgram_requests.paths() == ["POST /oauth/token"]
