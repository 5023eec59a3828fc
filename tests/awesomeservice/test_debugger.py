"""The OAuth debugger against a provider other than Mockgram, found by an https discovery URL
(the fake provider answers on any host): code flow with secret and PKCE, the id_token checked
(signature against the provider's JWKS, iss, aud, nonce), a fragment answer decoded."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from tests.awesomeservice.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    ISSUER,
    FakeMockgram,
    csrf,
    id_token_claims,
    other_rsa_key,
    sign,
    signing_keys,
)


def real_kid() -> str:
    return str(signing_keys()[0].kid)


PROVIDER = "https://provider.example"


def _compose(client: TestClient, **fields: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf(client),
        "discovery_url": PROVIDER,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": "http://awesome.test/debugger/callback",
        "response_type": "code",
        "response_mode": "",
        "scope": "openid profile",
        "state": "state-from-the-debugger",
        "nonce": "nonce-from-the-debugger",
        "pkce": "on",
        **fields,
    }
    sent = client.post("/debugger", data=form)
    assert sent.status_code == 303, sent.text[:500]
    location = sent.headers["location"]
    assert location.startswith(f"{ISSUER}/oauth/authorize?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_a_code_flow_against_another_provider(client: TestClient, fake: FakeMockgram) -> None:
    query = _compose(client)
    assert fake.requests[0].url == f"{PROVIDER}/.well-known/openid-configuration"
    assert query["nonce"] == "nonce-from-the-debugger" and query["code_challenge_method"] == "S256"
    fake.issue_id_token, fake.nonce = True, "nonce-from-the-debugger"

    answer = client.get(
        "/debugger/callback", params={"code": "the-code", "state": query["state"], "iss": ISSUER}
    )
    assert answer.status_code == 200
    assert "Exchange the code" in answer.text
    exchanged = client.post(
        "/debugger/exchange",
        data={"csrf_token": csrf(client), "state": query["state"], "code": "the-code"},
    )
    assert exchanged.status_code == 200, exchanged.text[:1000]
    form = fake.token_form()
    assert form["code"] == "the-code" and form["grant_type"] == "authorization_code"
    assert form["redirect_uri"] == "http://awesome.test/debugger/callback"
    assert len(form["code_verifier"]) >= 43  # PKCE: the verifier stayed on the server until now
    assert "Valid signature (RS256" in exchanged.text
    for check in ("iss equals the issuer", "aud contains the client_id", "nonce equals"):
        assert f"ok — {check}" in exchanged.text
    assert CLIENT_SECRET not in exchanged.text and fake.access_token not in exchanged.text


def test_a_forged_id_token_in_the_fragment_is_called_out(
    client: TestClient, fake: FakeMockgram
) -> None:
    query = _compose(client, response_type="id_token", response_mode="fragment")
    # Signed with a key the provider does not publish, under the kid of one it does.
    forged = sign(id_token_claims(nonce="another-nonce"), key=other_rsa_key(), kid=real_kid())
    posted = client.post(
        "/debugger/callback",
        data={"_mode": "fragment", "id_token": forged, "state": query["state"]},
    )
    assert posted.status_code == 200
    assert "Signature check FAILED" in posted.text
    assert "FAILED — nonce equals the one sent" in posted.text
    assert forged not in posted.text


def test_an_unknown_state_and_a_wrong_iss_are_reported(client: TestClient) -> None:
    query = _compose(client)
    page = client.get(
        "/debugger/callback",
        params={"code": "c", "state": query["state"], "iss": "https://evil.example"},
    )
    assert "<strong>differs from</strong> the issuer" in page.text
    page = client.get("/debugger/callback", params={"code": "c", "state": "not-ours"})
    assert "<strong>unknown</strong>" in page.text and "Exchange the code" not in page.text


def test_bad_compositions_get_the_form_back(client: TestClient) -> None:
    token = csrf(client)
    base = {"csrf_token": token, "client_id": "x", "redirect_uri": "http://awesome.test/cb"}
    wrong_type = client.post("/debugger", data={**base, "response_type": "code token id"})
    assert wrong_type.status_code == 400 and "Pick a response type." in wrong_type.text
    no_csrf = client.post("/debugger", data={**base, "csrf_token": "nope", "response_type": "code"})
    assert no_csrf.status_code == 403
