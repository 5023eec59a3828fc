"""The request that failed (issue 4, item e): each refusal is recorded, redacted, under a random
reference for an hour, and `/errors/{reason}?ref=…` shows it. No secret, password, state,
nonce, token or whole code is ever stored or shown."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from awesomeservice import refusals
from awesomeservice.refusals import RefusedRequest
from tests.awesomeservice.conftest import (
    CLIENT_SECRET,
    DEMO_PASSWORD,
    ISSUER,
    FakeMockgram,
    callback,
    log_in_with_mockgram,
    login,
    start_connect,
)

_EXPLAIN = re.compile(r'href="(/errors/[a-z_]+\?ref=([A-Za-z0-9_-]{22}))"')
CODE = "code-abcdefghijklmnopqrstuvwxyz-0123456789"


def explanation(browser: TestClient, page: httpx.Response) -> tuple[httpx.Response, str]:
    """Follow the refusal page's explanation link: the page, and the reference it named."""
    match = _EXPLAIN.search(page.text)
    assert match, "no link to an explanation"
    return browser.get(match.group(1)), match.group(2)


def records(db: Session) -> list[RefusedRequest]:
    db.expire_all()
    return list(db.exec(select(RefusedRequest)).all())


def stored(db: Session) -> str:
    """Every refusal record, as one string to search for secrets."""
    return json.dumps([row.model_dump(mode="json") for row in records(db)])


def test_a_forged_callback_is_shown_without_its_code_or_state(
    client: TestClient, db: Session
) -> None:
    state = "forged-state-value-0123456789"
    page = callback(client, code=CODE, state=state, iss=ISSUER)
    assert page.status_code == 400
    explained, ref = explanation(client, page)
    assert explained.status_code == 200
    assert explained.headers["cache-control"] == "no-store"
    text = html.unescape(explained.text)
    assert "The request that failed" in text
    assert "GET /connect/callback" in text
    assert "state_unknown" in text and "step 4" in text
    assert f"code… ({len(CODE)} chars)" in text  # four characters tell two codes apart
    assert ISSUER in text
    assert "[redacted]" in text
    for secret in (CODE, state):
        assert secret not in text
        assert secret not in stored(db)
    (row,) = records(db)
    assert row.ref == ref and row.reason == "state_unknown"


def test_a_short_code_is_not_shown_even_in_part(client: TestClient, db: Session) -> None:
    page = callback(client, code="abcdefgh", state="s", iss=ISSUER)
    explained, _ = explanation(client, page)
    assert "abcd" not in explained.text and "abcd" not in stored(db)


def test_a_token_refusal_shows_what_the_provider_answered_and_no_secret(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    login(client)
    fake.token_error = "invalid_grant"
    _, params = start_connect(client)
    page = callback(client, code=CODE, state=params["state"], iss=ISSUER)
    assert page.status_code == 400
    explained, _ = explanation(client, page)
    text = html.unescape(explained.text)
    assert "What the provider answered" in text
    assert "invalid_grant" in text and "Code expired." in text and "400" in text
    assert "step 5" in text
    verifier = fake.token_form()["code_verifier"]
    for secret in (CODE, params["state"], verifier, CLIENT_SECRET, DEMO_PASSWORD):
        assert secret not in text
        assert secret not in stored(db)


def test_an_id_token_refusal_stores_neither_token_nor_nonce(
    client: TestClient, fake: FakeMockgram, db: Session
) -> None:
    fake.id_token_overrides = {"aud": ["someone-else"], "azp": None}
    page = log_in_with_mockgram(client, fake)
    assert page.status_code == 400
    explained, _ = explanation(client, page)
    text = html.unescape(explained.text)
    assert "GET /login/callback" in text and "aud_mismatch" in text
    assert fake.nonce is not None
    for secret in (fake.nonce, fake.access_token, "login-code", "eyJ"):
        assert secret not in text
        assert secret not in stored(db)


def test_an_unknown_reference_says_so(client: TestClient) -> None:
    page = client.get("/errors/state_unknown", params={"ref": "A" * 22})
    assert page.status_code == 200
    assert "no longer on record" in page.text
    assert "The request that failed" not in page.text


def test_a_reference_shows_only_under_its_own_reason(client: TestClient) -> None:
    page = callback(client, code=CODE, state="s", iss=ISSUER)
    _, ref = explanation(client, page)
    other = client.get("/errors/expired", params={"ref": ref})
    assert "The request that failed" not in other.text


def test_a_record_expires_after_an_hour_and_is_pruned(client: TestClient, db: Session) -> None:
    page = callback(client, code=CODE, state="s", iss=ISSUER)
    explained, ref = explanation(client, page)
    assert "The request that failed" in explained.text
    row = db.get(RefusedRequest, ref)
    assert row is not None
    row.created_at = row.created_at - refusals.RETENTION - timedelta(seconds=1)
    db.add(row)
    db.commit()
    again = client.get(f"/errors/state_unknown?ref={ref}")
    assert "The request that failed" not in again.text
    assert "no longer on record" in again.text
    # The next refusal clears out what is older than an hour.
    callback(client, code=CODE, state="t", iss=ISSUER)
    assert ref not in [r.ref for r in records(db)]


def test_a_flood_of_refusals_keeps_only_the_newest_records(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(refusals, "MAX_KEPT", 5)
    refs = []
    for i in range(12):
        refused = callback(client, code=CODE, state=f"flood-{i}", iss=ISSUER)
        refs.append(explanation(client, refused)[1])
    kept = {row.ref for row in records(db)}
    assert len(kept) <= 5
    assert refs[-1] in kept  # the newest is always there to be explained


def test_an_unknown_provider_code_shows_its_request_on_the_generic_page(
    client: TestClient,
) -> None:
    login(client)
    _, params = start_connect(client)
    page = callback(client, error="made/up code", state=params["state"], iss=ISSUER)
    assert page.status_code == 400
    explained, _ = explanation(client, page)
    assert explained.status_code == 200
    text = html.unescape(explained.text)
    assert "AwesomeService has no page for this code" in text
    assert "made/up code" in text and "The request that failed" in text


# ── the pieces ───────────────────────────────────────────────────────────────────────────────


def test_redaction_hides_secrets_and_keeps_a_prefix_of_long_codes() -> None:
    shown = dict(
        refusals.redact_pairs(
            [
                ("code", CODE),
                ("state", "s" * 43),
                ("nonce", "n" * 43),
                ("client_secret", "x"),
                ("password", "p"),
                ("id_token", "eyJ.a.b"),
                ("access_token", "at"),
                ("refresh_token", "rt"),
                ("code_verifier", "v" * 43),
                ("iss", ISSUER),
                ("error_description", "d" * 500),
            ]
        )
    )
    assert shown["code"] == f"code… ({len(CODE)} chars)"
    hidden = ("state", "nonce", "client_secret", "password", "id_token", "access_token")
    for name in (*hidden, "refresh_token", "code_verifier"):
        assert shown[name] == "[redacted]"
    assert shown["iss"] == ISSUER
    assert len(shown["error_description"]) == refusals.MAX_VALUE_CHARS


def test_a_nul_byte_is_stored_as_a_replacement_character() -> None:
    """PostgreSQL text cannot hold NUL: the record keeps a visible stand-in instead."""
    assert refusals.redact_pairs([("error", "bad\x00code")]) == [("error", "bad\ufffdcode")]


def test_a_malformed_reference_is_not_looked_up(client: TestClient) -> None:
    for ref in ("a\x00b", "x" * 33, "../x"):
        page = client.get("/errors/state_unknown", params={"ref": ref})
        assert page.status_code == 200
        assert "no longer on record" in page.text


@pytest.mark.parametrize(
    ("uri", "kept"),
    [
        ("https://mockgram.test/errors/invalid_grant?ref=x", True),
        ("http://localhost:8000/errors/x", True),
        ("javascript:alert(1)", False),
        ("//evil.test/x", False),
        ("https:///nohost", False),
        ("https://a.test/\\x", False),
        ("https://a.test/\nx", False),
        ("https://a.test/" + "x" * 600, False),
        (None, False),
    ],
)
def test_only_web_addresses_pass_as_error_uri(uri: object, kept: bool) -> None:
    assert (refusals.safe_error_uri(uri) == uri) is kept
    assert kept or refusals.safe_error_uri(uri) == ""


def test_explanation_urls_are_safe_path_segments() -> None:
    assert refusals.explanation_url("state_used", "r") == "/errors/state_used?ref=r"
    assert refusals.explanation_url("../../admin") == "/errors/unknown_error"
    assert refusals.explanation_url("a b") == "/errors/unknown_error"
