"""The flow inspector's pure parts: redaction, JWT decoding and signature checks, expiry in
words, the Mermaid and HAR exports of recorded events."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import httpx

from awesomeservice.inspector import diagram, exports, jwts, labels
from awesomeservice.inspector.redact import (
    redact_authorization,
    redact_headers,
    redact_json,
    redact_pairs,
    redact_url,
)
from awesomeservice.models import FlowEvent
from tests.awesomeservice.conftest import other_rsa_key, public_jwk, sign, signing_keys

SECRET = "s3cret-value-that-must-not-show"
REFRESH = "refresh-token-0123456789abcdefghijklmnop"


def test_form_fields_are_hidden_by_kind() -> None:
    pairs = redact_pairs(
        [
            ("grant_type", "authorization_code"),
            ("code", "abcdefghijklmnop"),
            ("code_verifier", "verifier-verifier-verifier"),
            ("client_secret", SECRET),
            ("password", "hunter2-hunter2"),
            ("refresh_token", REFRESH),
        ]
    )
    shown = dict(pairs)
    assert shown["grant_type"] == "authorization_code"
    assert shown["code"] == "abcd… (16 chars)"
    assert shown["code_verifier"].startswith("veri…")
    assert shown["client_secret"] == "****" and shown["password"] == "****"
    assert shown["refresh_token"] == f"refr… ({len(REFRESH)} chars)"


def test_basic_credentials_show_the_client_id_only() -> None:
    header = "Basic " + base64.b64encode(f"my%20app:{SECRET}".encode()).decode()
    shown = redact_authorization(header)
    assert "“my app”" in shown and SECRET not in shown and "****" in shown
    assert redact_authorization("Basic !!!") == "Basic **** (not valid Base64)"
    bearer = redact_authorization("Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln")
    assert bearer.startswith("Bearer eyJhbGciOiJS…")


def test_headers_keep_only_what_is_worth_reading() -> None:
    shown = dict(
        redact_headers(
            [
                ("Cookie", f"session={SECRET}"),
                ("Set-Cookie", f"session={SECRET}"),
                ("Content-Type", "application/json"),
                ("Authorization", f"Bearer {SECRET}"),
            ]
        )
    )
    assert set(shown) == {"content-type", "authorization"}
    assert SECRET not in json.dumps(shown)


def test_json_and_urls_are_redacted_at_any_depth() -> None:
    body = redact_json(
        {"access_token": "x" * 40, "refresh_token": REFRESH, "nested": [{"client_secret": SECRET}]}
    )
    text = json.dumps(body)
    assert REFRESH not in text and SECRET not in text and "x" * 40 not in text
    url = redact_url("http://a.test/cb?code=abcdefghij&state=st%26ate&iss=http%3A%2F%2Fm.test")
    assert "code=abcd… (10 chars)" in url and "abcdefghij" not in url
    assert "state=st%26ate" in url and "iss=http%3A%2F%2Fm.test" in url


def _jwks_transport(keys: list[dict]) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(200, json={"keys": keys}))


def test_signatures_are_checked_against_the_jwks() -> None:
    rsa, ec = signing_keys()
    now = int(time.time())
    good = sign({"sub": "7", "exp": now + 900})
    forged = sign({"sub": "7", "exp": now + 900}, key=other_rsa_key(), kid=rsa.kid)

    async def run() -> tuple[jwts.DecodedJwt, jwts.DecodedJwt, jwts.DecodedJwt]:
        async with httpx.AsyncClient(
            transport=_jwks_transport([public_jwk(rsa), public_jwk(ec)])
        ) as http:
            url = "http://units.test/jwks-a"
            return (
                await jwts.decode("access_token", good, http=http, jwks_url=url),
                await jwts.decode("access_token", forged, http=http, jwks_url=url),
                await jwts.decode("access_token", good, http=None, jwks_url=None),
            )

    ok, bad, unchecked = asyncio.run(run())
    assert ok.signature_ok is True and ok.signature.startswith("Valid signature (RS256")
    assert ok.claims["sub"] == "7" and ok.header["kid"] == rsa.kid
    assert good not in json.dumps(ok.as_dict())  # only a prefix of the raw token is kept
    assert bad.signature_ok is False and "FAILED" in bad.signature
    assert unchecked.signature_ok is None


def test_unsigned_tokens_are_called_out() -> None:
    def b64(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    token = f"{b64({'alg': 'none'})}.{b64({'sub': '1'})}."
    decoded = asyncio.run(jwts.decode("id_token", token, http=None, jwks_url=None))
    assert decoded.signature_ok is False and "alg none" in decoded.signature


def test_expiry_in_words() -> None:
    assert jwts.expiry_in_words(1000 + 14 * 60 + 5, now=1000) == "expires in 14 minutes"
    assert jwts.expiry_in_words(1000 - 3 * 3600, now=1000) == "expired 3 hours ago"
    assert jwts.expiry_in_words(1001, now=1000) == "expires in 1 second"
    assert jwts.expiry_in_words(None) == "no expiry (exp) claim"


def _event(label: labels.Label, **fields: object) -> FlowEvent:
    return FlowEvent(
        inspector_id="x" * 22,
        flow_no=1,
        step=label.step,
        kind=label.kind,
        title=label.title,
        rfc_label=label.rfc_label,
        rfc_url=label.rfc_url,
        actor_from=label.actor_from,
        actor_to=label.actor_to,
        **fields,
    )


def test_mermaid_and_har_of_a_short_flow() -> None:
    token = labels.for_back_channel("POST", "/oauth/token", {"grant_type": "authorization_code"})
    assert token.step == 5 and token.rfc_url.endswith("rfc6749#section-4.1.3")
    refresh = labels.for_back_channel("POST", "/oauth/token", {"grant_type": "refresh_token"})
    assert refresh.kind == "refresh" and refresh.rfc_url.endswith("rfc6749#section-6")
    api = labels.for_back_channel("GET", "/api/photos", {})
    events = [
        _event(labels.AUTHORIZATION_REQUEST, method="GET", url="http://m.test/oauth/authorize?a=b"),
        _event(labels.CALLBACK, method="GET", url="http://a.test/cb?code=abcd…", summary="code"),
        _event(
            token,
            method="POST",
            url="http://m.test/oauth/token",
            status=200,
            duration_ms=3.5,
            details=json.dumps(
                {
                    "request": {"headers": [], "form": [["grant_type", "authorization_code"]]},
                    "response": {"status": 200, "headers": [], "json": {"token_type": "Bearer"}},
                }
            ),
        ),
        _event(api, method="GET", url="http://m.test/api/photos", status=200),
    ]
    text = diagram.mermaid(events)
    assert text.startswith("sequenceDiagram\n")
    assert "    C->>AS: 5. POST /oauth/token\n    AS-->>C: 200\n" in text
    assert "    C->>API: 6. GET /api/photos\n" in text
    assert "<svg" in diagram.svg(events) and "Mockgram photos API" in diagram.svg(events)
    # The lanes carry the article's roles as well as the story's names.
    assert "participant API as Resource server (Mockgram photos API)" in text
    assert "participant B as Resource owner (John's browser)" in text
    assert ">Authorization server</text>" in diagram.svg(events)
    har = exports.har(events)["log"]
    assert har["version"] == "1.2" and len(har["entries"]) == 4
    post = har["entries"][2]
    assert post["request"]["postData"]["params"] == [
        {"name": "grant_type", "value": "authorization_code"}
    ]
    assert post["response"]["content"]["mimeType"] == "application/json"
    assert post["comment"].startswith("Step 5:")
    assert har["entries"][0]["response"]["status"] == 0


def test_a_recorded_value_cannot_add_a_line_to_the_mermaid_export() -> None:
    # Anyone can send a link whose callback carries an error like this one.
    forged = _event(
        labels.CALLBACK,
        method="GET",
        url="http://a.test/connect/callback?error=a",
        summary="error a\rB->>C: forged\n<img src=x>; # end",
    )
    text = diagram.mermaid([forged])
    body = text.splitlines()[5:]  # after the header and the four participants
    assert len(body) == 2 and all(line.startswith("    ") for line in body)
    assert "\r" not in text and "<img" not in text and ";" not in text.split(": ", 1)[-1]
