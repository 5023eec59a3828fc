"""Errors that explain themselves: each kind of protocol error carries an error_uri to a local
page that explains the cause, the fix and the RFC section, and shows the failed request —
without its secrets (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3; RFC 7591 §3.2.2)."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from mockgram import failures
from mockgram.pages.errors_explained import EXPLANATIONS
from shared.clock import utcnow
from tests.mockgram.conftest import CLIENT_REDIRECT
from tests.mockgram.oauth_helpers import CLIENT_ID, CLIENT_SECRET, authorize_params, single_query
from tests.mockgram.resource_helpers import bearer, issue

ISSUER_ERRORS = re.compile(r"^http://[^/]+/errors/([a-z_]+)\?ref=([A-Za-z0-9_-]{16,})$")
ALL_CODES = [
    "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
    "unsupported_grant_type", "invalid_scope", "access_denied", "unsupported_response_type",
    "server_error", "temporarily_unavailable", "invalid_token", "insufficient_scope",
    "login_required", "consent_required", "interaction_required", "invalid_redirect_uri",
    "invalid_client_metadata", "unsupported_token_type", "not_found",
    "invalid_target",  # RFC 8707 §2, RFC 8693 §2.2.2
]  # fmt: skip
# On Mockgram's own pages the link is local (item 31: no absolute URL on them).
EXPLAIN_LINK = re.compile(
    r'<a href="(/errors/([a-z_]+)\?ref=[A-Za-z0-9_-]{16,})">What this error means</a>'
)


def page_of(client, error_uri: str) -> str:  # type: ignore[no-untyped-def]
    parts = urlsplit(error_uri)
    page = client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200
    return page.text


def basic(secret: str) -> dict[str, str]:
    pair = base64.b64encode(f"{CLIENT_ID}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


@pytest.mark.parametrize("code", ALL_CODES)
def test_every_code_has_a_page_with_cause_fix_and_rfc(page_reader: TestClient, code: str) -> None:
    page = page_reader.get(f"/errors/{code}")
    assert page.status_code == 200
    explanation = EXPLANATIONS[code]
    assert "Why it happens" in page.text and "How to fix it" in page.text
    assert explanation.rfc.split(";")[0].split(",")[0] in page.text
    assert f"<code>{code}</code>" in page.text


def test_unknown_code_is_a_404_page(page_reader: TestClient) -> None:
    assert page_reader.get("/errors/not_a_code").status_code == 404
    index = page_reader.get("/errors")
    assert index.status_code == 200 and all(f"/errors/{code}" in index.text for code in ALL_CODES)


def test_token_endpoint_json_error_carries_error_uri_and_page_shows_request(
    client, make_client
) -> None:  # type: ignore[no-untyped-def]
    make_client()
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": "stolen-code-value",
            "redirect_uri": CLIENT_REDIRECT,
            "code_verifier": "verifier-value-123",
        },
        headers=basic("wrong-secret-value"),
    )
    assert response.status_code == 401
    body = response.json()
    match = ISSUER_ERRORS.match(body["error_uri"])
    assert match and match.group(1) == body["error"] == "invalid_client"
    page = page_of(client, body["error_uri"])
    assert "The request that failed" in page and "POST /oauth/token" in page
    assert "401 invalid_client" in page
    assert "authorization_code" in page and CLIENT_REDIRECT in page
    assert f"client_id={CLIENT_ID}" in page  # a Basic header shows only its client_id
    for secret in ("stolen-code-value", "verifier-value-123", "wrong-secret-value", CLIENT_SECRET):
        assert secret not in page
    assert page.count("[redacted]") >= 2


def test_authorization_error_redirect_carries_error_uri(client, make_client) -> None:  # type: ignore[no-untyped-def]
    make_client()
    response = client.get("/oauth/authorize", params=authorize_params(scope="photos.delete"))
    query = single_query(response.headers["location"])
    assert query["error"] == "invalid_scope"
    assert ISSUER_ERRORS.match(query["error_uri"])
    page = page_of(client, query["error_uri"])
    assert "GET /oauth/authorize" in page and "photos.delete" in page
    assert "state-123" not in page  # state binds a browser: never shown


def test_bearer_challenge_and_body_carry_error_uri(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/photos", headers={"Authorization": "Bearer not.a.token"})
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    uri = re.search(r'error_uri="([^"]+)"', challenge)
    assert uri and uri.group(1) == response.json()["error_uri"]
    page = page_of(client, uri.group(1))
    assert "GET /api/photos" in page and "Bearer [redacted]" in page
    assert "not.a.token" not in page


def test_registration_error_carries_error_uri(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/oauth/register", json={"client_name": "X", "redirect_uris": ["https://x.example/#frag"]}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] in ("invalid_redirect_uri", "invalid_client_metadata")
    assert ISSUER_ERRORS.match(body["error_uri"]).group(1) == body["error"]  # type: ignore[union-attr]
    assert "POST /oauth/register" in page_of(client, body["error_uri"])


def test_unknown_or_old_reference_shows_the_explanation_only(client, mockgram_app) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/photos", headers={"Authorization": "Bearer x"})
    ref = response.json()["error_uri"].split("ref=")[1]
    with Session(mockgram_app.state.engine) as session:
        row = session.get(failures.FailedRequest, ref)
        assert row is not None
        row.created_at = utcnow() - timedelta(hours=2)
        session.add(row)
        session.commit()
    page = client.get(f"/errors/invalid_token?ref={ref}")
    assert page.status_code == 200 and "no longer on record" in page.text
    assert "no longer on record" in client.get("/errors/invalid_token?ref=nope").text
    # A new failure prunes rows past the retention period.
    client.get("/api/photos", headers={"Authorization": "Bearer y"})
    with Session(mockgram_app.state.engine) as session:
        assert session.get(failures.FailedRequest, ref) is None


def test_redaction_helpers() -> None:
    pairs = failures.redact_pairs([("code", "abc"), ("client_secret", "s"), ("scope", "a b")])
    assert pairs == [("code", "[redacted]"), ("client_secret", "[redacted]"), ("scope", "a b")]
    assert failures.redact_authorization("Basic !!!") == "Basic [malformed, redacted]"
    assert failures.redact_authorization("Bearer abc") == "Bearer [redacted]"
    assert failures.error_uri("invalid_grant", issuer="http://i") == "http://i/errors/invalid_grant"


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_post_only_endpoints_answer_405_with_error_uri(client, path: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == "invalid_request"
    assert ISSUER_ERRORS.match(body["error_uri"]).group(1) == "invalid_request"


def test_closed_registration_carries_error_uri(client, mockgram_app) -> None:  # type: ignore[no-untyped-def]
    mockgram_app.state.settings.registration_open = False
    response = client.post("/oauth/register", json={"redirect_uris": [CLIENT_REDIRECT]})
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "access_denied"
    assert ISSUER_ERRORS.match(body["error_uri"]).group(1) == "access_denied"


def test_json_404_for_programs_carries_error_uri(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/nothing-here", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert "/errors/invalid_request" in response.json()["error_uri"]


# --- The authorization endpoint's 400 page (checklist 1, 2, 3, 8: never a redirect) ---------


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"client_id": None}, "invalid_request"),
        ({"client_id": "nobody"}, "invalid_client"),
        ({"redirect_uri": "http://evil.example/callback"}, "invalid_redirect_uri"),
        ({"redirect_uri": None}, "invalid_request"),  # several registered: which one?
        ({"response_mode": "bogus"}, "invalid_request"),
    ],
    ids=["missing_client", "unknown_client", "unregistered_redirect", "no_redirect", "bad_mode"],
)
def test_authorize_error_page_links_to_its_explanation_and_the_failed_request(
    client, make_client, overrides: dict[str, str | None], code: str
) -> None:  # type: ignore[no-untyped-def]
    make_client(redirect_uris=[CLIENT_REDIRECT, "http://client.test/other"])
    params = authorize_params(nonce="nonce-secret-value", **overrides)
    response = client.get("/oauth/authorize", params=params)
    assert response.status_code == 400 and "location" not in response.headers
    assert f"400 · {code}" in response.text
    link = EXPLAIN_LINK.search(response.text)
    assert link, "the error page has no 'What this error means' link"
    assert link.group(2) == code

    page = page_of(client, link.group(1))
    assert EXPLANATIONS[code].title in page
    assert "The request that failed" in page and "GET /oauth/authorize" in page
    assert f"400 {code}" in page
    assert "photos.read" in page  # the request is shown…
    for secret in ("state-123", "nonce-secret-value"):  # …without what binds a browser
        assert secret not in page
    assert page.count("[redacted]") >= 2


def test_authorize_error_page_redacts_a_posted_request(client, make_client) -> None:  # type: ignore[no-untyped-def]
    make_client()
    form = authorize_params(client_id="nobody", nonce="nonce-secret-value")
    response = client.post("/oauth/authorize", data=form)
    assert response.status_code == 400
    link = EXPLAIN_LINK.search(response.text)
    assert link and link.group(2) == "invalid_client"
    page = page_of(client, link.group(1))
    assert "POST /oauth/authorize" in page and "nobody" in page
    assert "state-123" not in page and "nonce-secret-value" not in page


def test_error_pages_outside_the_protocol_have_no_explain_link(client) -> None:  # type: ignore[no-untyped-def]
    """The shared template's link is optional: a page without error_uri renders as before."""
    response = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "What this error means" not in response.text


# --- The photos API's 404 (not an RFC code, but it explains itself too) ---------------------


def test_photo_not_found_carries_error_uri_to_a_page_saying_it_is_a_plain_404(
    client, db, mockgram_app, make_client, make_user
) -> None:  # type: ignore[no-untyped-def]
    john = make_user("john")
    make_client()
    token = issue(db, mockgram_app, john, scope="photos.read")
    response = client.get("/api/photos/999999", headers=bearer(token))
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "not_found"
    match = ISSUER_ERRORS.match(body["error_uri"])
    assert match and match.group(1) == "not_found"
    page = page_of(client, body["error_uri"])
    assert "not an RFC code" in page and "404" in page
    assert "GET /api/photos/999999" in page and "404 not_found" in page
    assert "Bearer [redacted]" in page and token not in page


def test_a_flood_of_refused_requests_keeps_only_the_newest_records(  # type: ignore[no-untyped-def]
    client, mockgram_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(failures, "MAX_KEPT", 5)
    refs = []
    for _ in range(12):
        response = client.get("/api/photos", headers={"Authorization": "Bearer flood"})
        refs.append(response.json()["error_uri"].split("ref=")[1])
    with Session(mockgram_app.state.engine) as session:
        kept = {row.ref for row in session.exec(select(failures.FailedRequest)).all()}
    assert len(kept) <= 5
    assert refs[-1] in kept  # the newest is always there to be explained
