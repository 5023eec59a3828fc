"""The OAuth debugger against a provider other than Mockgram, found by an https discovery URL
(the fake provider answers on any host, here as https://provider.example): code flow with secret
and PKCE, the id_token checked (signature against the provider's JWKS, iss, aud, nonce, at_hash),
a fragment answer decoded; client_secret_post where Basic is not offered; an issuer that is not
the one the discovery URL names is refused; errors link to the provider's pages, not Mockgram's;
the form pre-filled from a link."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, quote_plus, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from awesomeservice.oauth.discovery import NotADiscoveryAddress, document_urls
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
from tests.e2e.browser import find_form


def real_kid() -> str:
    return str(signing_keys()[0].kid)


PROVIDER = "https://provider.example"


# What a resolver would answer, by host name: public addresses for the fake providers, and the
# addresses of this machine and its networks for the hosts an attacker would name.
PUBLIC_ADDRESSES = {"provider.example": ["93.184.215.14"], "id.example": ["2606:2800:21f::1"]}
ADDRESSES = {
    **PUBLIC_ADDRESSES,
    "loopback.example": ["127.0.0.1"],
    "intranet.example": ["93.184.215.14", "10.0.0.7"],  # one private address is enough
    "metadata.example": ["169.254.169.254"],
    "mapped.example": ["::ffff:127.0.0.1"],
}


async def fake_resolve(host: str, port: int) -> list[str]:
    if host not in ADDRESSES:
        raise OSError("Name or service not known")
    return ADDRESSES[host]


@pytest.fixture(autouse=True)
def public_resolver(client: TestClient) -> None:
    """No DNS here: the debugger's destination check resolves through this table instead.
    These tests are about the guard outside demo mode (public https only); the app's settings
    are demo mode's for the fake's published secret."""
    client.app.state.destination_guard.resolver = fake_resolve  # type: ignore[attr-defined]
    client.app.state.destination_guard.allow_loopback = False  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def provider(fake: FakeMockgram) -> FakeMockgram:
    """The fake answers as https://provider.example: its document names that issuer."""
    fake.metadata_overrides.update(
        {
            "issuer": PROVIDER,
            "authorization_endpoint": f"{PROVIDER}/oauth/authorize",
            "token_endpoint": f"{PROVIDER}/oauth/token",
            "jwks_uri": f"{PROVIDER}/.well-known/jwks.json",
        }
    )
    fake.id_token_overrides["iss"] = PROVIDER
    return fake


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
    assert location.startswith(f"{PROVIDER}/oauth/authorize?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_a_code_flow_against_another_provider(client: TestClient, fake: FakeMockgram) -> None:
    query = _compose(client)
    assert fake.requests[0].url == f"{PROVIDER}/.well-known/openid-configuration"
    assert query["nonce"] == "nonce-from-the-debugger" and query["code_challenge_method"] == "S256"
    fake.issue_id_token, fake.nonce = True, "nonce-from-the-debugger"

    answer = client.get(
        "/debugger/callback", params={"code": "the-code", "state": query["state"], "iss": PROVIDER}
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
    assert "client_secret" not in form  # Basic, which the provider lists
    assert "Client authentication: client_secret_basic" in exchanged.text
    assert "Valid signature (RS256" in exchanged.text
    for check in (
        "iss equals the issuer",
        "aud contains the client_id",
        "nonce equals",
        "at_hash matches the access_token",  # optional at the token endpoint, checked when there
    ):
        assert f"ok — {check}" in exchanged.text
    assert CLIENT_SECRET not in exchanged.text and fake.access_token not in exchanged.text
    # The redacted JSON reads as written: a shortened token ends in "…", not "\\u2026".
    assert "…" in exchanged.text and "\\u2026" not in exchanged.text


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


def test_an_answer_to_another_browsers_request_is_not_taken_for_ours(client: TestClient) -> None:
    # The attacker composes a request in her own browser, then sends John its answer's link
    # (with her words and her error_uri): in John's browser that state is unknown.
    query = _compose(client)
    other = TestClient(client.app, base_url=str(client.base_url), follow_redirects=False)
    page = other.get(
        "/debugger/callback",
        params={
            "state": query["state"],
            "error": "access_denied",
            "error_description": "Your session expired, sign in again at evil.example",
            "error_uri": "https://evil.example/awesomeservice-login",
        },
    )
    assert "<strong>unknown</strong>" in page.text
    assert 'href="https://evil.example' not in page.text


def test_bad_compositions_get_the_form_back(client: TestClient) -> None:
    token = csrf(client)
    base = {"csrf_token": token, "client_id": "x", "redirect_uri": "http://awesome.test/cb"}
    wrong_type = client.post("/debugger", data={**base, "response_type": "code token id"})
    assert wrong_type.status_code == 400 and "Pick a response type." in wrong_type.text
    no_csrf = client.post("/debugger", data={**base, "csrf_token": "nope", "response_type": "code"})
    assert no_csrf.status_code == 403


def _exchange(client: TestClient, query: dict[str, str]) -> str:
    answer = client.get(
        "/debugger/callback", params={"code": "the-code", "state": query["state"], "iss": PROVIDER}
    )
    assert answer.status_code == 200 and "Exchange the code" in answer.text
    exchanged = client.post(
        "/debugger/exchange",
        data={"csrf_token": csrf(client), "state": query["state"], "code": "the-code"},
    )
    return exchanged.text


def test_client_secret_post_when_the_provider_does_not_take_basic(
    client: TestClient, fake: FakeMockgram
) -> None:
    fake.metadata_overrides["token_endpoint_auth_methods_supported"] = [
        "client_secret_post",
        "private_key_jwt",
    ]
    text = _exchange(client, _compose(client))
    (request,) = fake.token_requests
    assert "authorization" not in request.headers
    form = fake.token_form()
    assert form["client_id"] == CLIENT_ID and form["client_secret"] == CLIENT_SECRET
    assert "Client authentication: client_secret_post" in text
    assert "does not list client_secret_basic" in text
    assert CLIENT_SECRET not in text


def test_basic_when_the_provider_lists_no_methods(client: TestClient, fake: FakeMockgram) -> None:
    # RFC 8414 §2: absent means client_secret_basic.
    fake.metadata_overrides["token_endpoint_auth_methods_supported"] = None
    _exchange(client, _compose(client))
    (request,) = fake.token_requests
    assert request.headers["authorization"].startswith("Basic ")
    assert "client_secret" not in fake.token_form()


def test_an_issuer_mismatch_is_reported_and_nothing_is_sent(
    client: TestClient, fake: FakeMockgram
) -> None:
    # The document at provider.example names Mockgram's issuer: OIDC Discovery §4.3 forbids it.
    fake.metadata_overrides["issuer"] = ISSUER
    form = {
        "csrf_token": csrf(client),
        "discovery_url": PROVIDER,
        "client_id": CLIENT_ID,
        "redirect_uri": "http://awesome.test/debugger/callback",
        "response_type": "code",
        "scope": "openid",
    }
    page = client.post("/debugger", data=form)
    assert page.status_code == 400
    text = html.unescape(page.text)
    assert "Issuer mismatch" in text
    assert f"{PROVIDER}/.well-known/openid-configuration names the issuer “{ISSUER}”" in text
    assert f"must name “{PROVIDER}”" in text and "OpenID Connect Discovery §4.3" in text
    assert "location" not in page.headers
    assert [str(r.url) for r in fake.requests] == [f"{PROVIDER}/.well-known/openid-configuration"]


def test_discovery_urls_and_the_issuers_they_promise() -> None:
    assert document_urls("https://id.example/tenant/") == [
        ("https://id.example/tenant/.well-known/openid-configuration", "https://id.example/tenant"),
        (
            "https://id.example/.well-known/oauth-authorization-server/tenant",
            "https://id.example/tenant",
        ),
    ]
    assert document_urls("https://id.example/t/.well-known/openid-configuration") == [
        ("https://id.example/t/.well-known/openid-configuration", "https://id.example/t")
    ]
    assert document_urls("https://id.example/.well-known/oauth-authorization-server/t") == [
        ("https://id.example/.well-known/oauth-authorization-server/t", "https://id.example/t")
    ]
    for bad in ("https://id.example/.well-known/webfinger", "https://id.example/?tenant=1"):
        with pytest.raises(NotADiscoveryAddress):
            document_urls(bad)


def test_another_providers_errors_link_to_its_pages_not_mockgrams(
    client: TestClient, fake: FakeMockgram
) -> None:
    query = _compose(client)
    with_uri = client.get(
        "/debugger/callback",
        params={
            "error": "access_denied",
            "error_uri": f"{PROVIDER}/help/access_denied",
            "state": query["state"],
        },
    )
    assert with_uri.status_code == 400
    assert f'href="{PROVIDER}/help/access_denied"' in with_uri.text
    assert "/errors/access_denied" not in with_uri.text

    query = _compose(client, state="another-state")
    without = client.get(
        "/debugger/callback", params={"error": "invalid_scope", "state": query["state"]}
    )
    assert 'href="https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1"' in without.text
    assert "/errors/invalid_scope" not in without.text

    # The token endpoint's error (no Basic header: the fake says invalid_client), no error_uri.
    fake.metadata_overrides["token_endpoint_auth_methods_supported"] = ["client_secret_post"]
    text = _exchange(client, _compose(client, state="a-third-state"))
    assert "invalid_client" in text
    assert 'href="https://www.rfc-editor.org/rfc/rfc6749#section-5.2"' in text
    assert "/errors/invalid_client" not in text


def test_a_wrong_at_hash_in_the_fragment_is_called_out(client: TestClient) -> None:
    query = _compose(client, response_type="id_token token", response_mode="fragment")
    assert "code_challenge" not in query  # PKCE protects a code; there is none here
    token = sign(
        id_token_claims(
            nonce="nonce-from-the-debugger", access_token="another-access-token", iss=PROVIDER
        )
    )
    posted = client.post(
        "/debugger/callback",
        data={
            "_mode": "fragment",
            "id_token": token,
            "access_token": "the-access-token",
            "state": query["state"],
        },
    )
    assert posted.status_code == 200
    assert "FAILED — at_hash matches the access_token" in posted.text
    assert "ok — nonce equals the one sent" in posted.text


def test_the_form_is_pre_filled_from_the_query_string(client: TestClient) -> None:
    page = client.get(
        "/debugger",
        params={
            "response_type": "id_token code",  # any order; shown in canonical order
            "response_mode": "form_post",
            "scope": "openid email",
            "client_secret": "never-from-a-link",
            "pkce": "off",
        },
    )
    assert page.status_code == 200
    form = find_form(page.text, "/debugger")
    fields = dict(form.fields)
    assert fields["response_type"] == "code id_token"
    assert fields["response_mode"] == "form_post"
    assert fields["scope"] == "openid email"
    assert fields["client_id"] == "oauth-debugger"  # the seeded debugger client by default
    assert fields["client_secret"] == "" and "never-from-a-link" not in page.text
    assert ("pkce", "on", False) in form.checkboxes

    nonsense = find_form(
        client.get("/debugger", params={"response_type": "code code x"}).text, "/debugger"
    )
    assert dict(nonsense.fields)["response_type"] == "code"


def test_prompt_is_sent_and_the_form_previews_its_url_and_reopens_without_secrets(
    client: TestClient, fake: FakeMockgram
) -> None:
    page = client.get(
        "/debugger",
        params={"prompt": "consent", "scope": "openid email", "client_secret": "never-in-a-link"},
    )
    preview = re.search(r'<code id="debugger-preview"[^>]*>([^<]*)</code>', page.text)
    assert preview
    shown = html.unescape(preview.group(1))
    assert shown.startswith(f"{ISSUER}/oauth/authorize?response_type=code&client_id=")
    assert "prompt=consent" in shown and "scope=openid+email" in shown
    assert "code_challenge=%28made+when+sent%29" in shown  # the verifier stays on the server
    reopen = re.search(r'<a id="debugger-reopen" href="([^"]*)"', page.text)
    assert reopen
    link = html.unescape(reopen.group(1))
    assert "prompt=consent" in link and "pkce=on" in link
    assert "never-in-a-link" not in page.text and "state=" not in link and "nonce=" not in link
    # The link really reopens the same form.
    again = dict(find_form(client.get(link).text, "/debugger").fields)
    assert again["prompt"] == "consent" and again["scope"] == "openid email"
    # Sent: prompt goes to the provider; the answer's page links back to the same form.
    query = _compose(client, prompt="consent")
    assert query["prompt"] == "consent"
    answer = client.get("/debugger/callback", params={"code": "c", "state": query["state"]})
    back = re.search(r'href="(/debugger\?[^"]*)">Reopen this request', answer.text)
    assert back
    reopened = html.unescape(back.group(1))
    assert f"discovery_url={quote_plus(PROVIDER)}" in reopened and "prompt=consent" in reopened
    assert CLIENT_SECRET not in reopened and "state=" not in reopened
    # A prompt the specification does not define is refused, nothing sent.
    bad = client.post(
        "/debugger",
        data={"csrf_token": csrf(client), "response_type": "code", "prompt": "maybe"},
    )
    assert bad.status_code == 400 and "Pick a prompt." in bad.text


# ── server-side request forgery: the debugger calls Mockgram or public https servers only ──


def _compose_at(client: TestClient, discovery_url: str) -> httpx.Response:
    """Send a minimal code request to the provider at `discovery_url`; the page that answers."""
    fields = {
        "csrf_token": csrf(client),
        "discovery_url": discovery_url,
        "client_id": CLIENT_ID,
        "redirect_uri": "http://awesome.test/debugger/callback",
        "response_type": "code",
        "scope": "openid",
    }
    return client.post("/debugger", data=fields)


@pytest.mark.parametrize(
    "discovery_url",
    [
        "https://127.0.0.1:8001",
        "https://[::1]/",
        "https://10.0.0.1",
        "https://169.254.169.254/latest",
        "https://loopback.example",
        "https://intranet.example",
        "https://metadata.example",
        "https://mapped.example",
        "https://unknown-host.example",
        "http://provider.example",
        "file:///etc/passwd",
    ],
)
def test_the_debugger_never_fetches_from_this_machine_or_its_network(
    client: TestClient, fake: FakeMockgram, discovery_url: str
) -> None:
    before = len(fake.requests)
    page = _compose_at(client, discovery_url)
    assert page.status_code == 400 and "location" not in page.headers
    assert fake.requests[before:] == []  # nothing was fetched
    assert "https://" in page.text or "resolved" in page.text or "private" in page.text


@pytest.mark.parametrize("name", ["token_endpoint", "jwks_uri"])
def test_a_public_document_cannot_point_the_server_at_a_private_endpoint(
    client: TestClient, fake: FakeMockgram, name: str
) -> None:
    fake.metadata_overrides[name] = "https://loopback.example/oauth/token"
    page = _compose_at(client, PROVIDER)
    assert page.status_code == 400 and "location" not in page.headers
    assert f"{name}&#39;s host “loopback.example”" in page.text
    assert not fake.requests_to("/oauth/token")
