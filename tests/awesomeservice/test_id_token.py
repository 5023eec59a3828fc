"""C4 — every forged or broken id_token is refused, each variant on its own (OIDC Core §3.1.3.7).

Mirrors the OpenID conformance suite's client tests (oidcc-client-test-invalid-iss, -invalid-aud,
-missing-iat, -nonce-invalid, -invalid-sig-rs256, -invalid-sig-hs256, -invalid-athash,
-kid-absent-*). Keys are generated here with joserfc; the fake provider publishes them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc.jwk import KeySet
from sqlmodel import Session, select

from awesomeservice.events import Events
from awesomeservice.models import FederatedIdentity
from awesomeservice.oauth.discovery import Discovery, parse_metadata
from awesomeservice.oauth.id_token import IdTokenRejected, verify_id_token
from awesomeservice.settings import AwesomeServiceSettings
from shared.oauth_spec import left_half_hash
from tests.awesomeservice.conftest import (
    CLIENT_ID,
    ISSUER,
    FakeMockgram,
    b64url,
    id_token_claims,
    log_in_with_mockgram,
    other_rsa_key,
    public_jwk,
    session_payload,
    sign,
    signing_keys,
)

NONCE = "n-0S6_WzA2Mj"
ACCESS_TOKEN = "at-for-this-login"


def published() -> KeySet:
    return KeySet.import_key_set({"keys": [public_jwk(key) for key in signing_keys()]})


def check(token: str, **overrides: Any) -> Any:
    arguments: dict[str, Any] = {
        "keys": published(),
        "issuer": ISSUER,
        "client_id": CLIENT_ID,
        "algorithms": ["RS256", "ES256"],
        "nonce": NONCE,
        "access_token": ACCESS_TOKEN,
    }
    arguments.update(overrides)
    return verify_id_token(token, **arguments)


def valid_claims(**overrides: Any) -> dict[str, Any]:
    nonce = overrides.pop("nonce", NONCE)
    return id_token_claims(nonce=nonce, access_token=ACCESS_TOKEN, **overrides)


def refused(token: str, reason: str, **overrides: Any) -> None:
    with pytest.raises(IdTokenRejected) as caught:
        check(token, **overrides)
    assert caught.value.reason == reason


# ── the good ones pass ──────────────────────────────────────────────────────────────────────


def test_valid_rs256_id_token_passes() -> None:
    checked = check(sign(valid_claims()))
    assert checked.sub == "7"
    assert checked.iss == ISSUER
    assert checked.header["alg"] == "RS256"


def test_valid_es256_id_token_passes() -> None:
    _, ec = signing_keys()
    assert check(sign(valid_claims(), ec)).header["alg"] == "ES256"


def test_aud_as_a_plain_string_passes() -> None:
    assert check(sign(valid_claims(aud=CLIENT_ID, azp=None))).sub == "7"


def test_at_hash_is_the_left_half_of_sha256() -> None:
    digest = hashlib.sha256(ACCESS_TOKEN.encode()).digest()[:16]
    assert left_half_hash(ACCESS_TOKEN, "RS256") == b64url(digest)


# ── C4: each forged variant ─────────────────────────────────────────────────────────────────


def test_c4_bad_signature_is_refused() -> None:
    token = sign(valid_claims())
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    refused(f"{header}.{payload}.{flipped}", "bad_signature")


def test_c4_payload_changed_after_signing_is_refused() -> None:
    header, _, signature = sign(valid_claims()).split(".")
    payload = b64url(json.dumps(valid_claims(sub="1")).encode())
    refused(f"{header}.{payload}.{signature}", "bad_signature")


def test_c4_signed_by_a_key_the_provider_does_not_own_is_refused() -> None:
    forger = other_rsa_key()
    # The forger claims the provider's kid: the signature does not verify with that key.
    token = sign(valid_claims(), forger, kid=signing_keys()[0].kid)
    refused(token, "bad_signature")


def test_c4_wrong_iss_is_refused() -> None:
    refused(sign(valid_claims(iss="http://evil.test")), "iss_mismatch")


def test_c4_iss_with_trailing_slash_is_refused() -> None:
    refused(sign(valid_claims(iss=ISSUER + "/")), "iss_mismatch")


def test_c4_wrong_aud_is_refused() -> None:
    refused(sign(valid_claims(aud=["someone-else"], azp=None)), "aud_mismatch")


def test_c4_aud_with_an_untrusted_extra_is_refused() -> None:
    refused(sign(valid_claims(aud=[CLIENT_ID, "other-app"])), "aud_untrusted")


def test_c4_several_audiences_without_azp_are_refused() -> None:
    token = sign(valid_claims(aud=[CLIENT_ID, CLIENT_ID], azp=None))
    refused(token, "azp_missing")


def test_c4_azp_naming_another_client_is_refused() -> None:
    refused(sign(valid_claims(azp="other-app")), "azp_mismatch")


def test_c4_expired_is_refused() -> None:
    now = int(time.time())
    refused(sign(valid_claims(exp=now - 120, iat=now - 720)), "expired")


def test_c4_missing_exp_is_refused() -> None:
    refused(sign(valid_claims(exp=None)), "exp_missing")


def test_c4_missing_iat_is_refused() -> None:
    refused(sign(valid_claims(iat=None)), "iat_missing")


def test_c4_iat_in_the_future_is_refused() -> None:
    refused(sign(valid_claims(iat=int(time.time()) + 3600)), "iat_future")


def test_c4_wrong_nonce_is_refused() -> None:
    refused(sign(valid_claims(nonce="another-nonce")), "nonce_mismatch")


def test_c4_missing_nonce_is_refused_when_one_was_sent() -> None:
    refused(sign(valid_claims(nonce=None)), "nonce_mismatch")


def test_c4_alg_none_is_refused() -> None:
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(valid_claims()).encode())
    refused(f"{header}.{payload}.", "alg_not_allowed")


def test_c4_hs256_signed_with_the_public_key_is_refused() -> None:
    rsa, _ = signing_keys()
    public_pem = rsa.as_pem(private=False)
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": rsa.kid}).encode())
    payload = b64url(json.dumps(valid_claims()).encode())
    signing_input = f"{header}.{payload}".encode()
    mac = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    refused(f"{header}.{payload}.{b64url(mac)}", "alg_not_allowed")


def test_c4_alg_the_provider_does_not_advertise_is_refused() -> None:
    _, ec = signing_keys()
    refused(sign(valid_claims(), ec), "alg_not_allowed", algorithms=["RS256"])


def test_c4_bad_at_hash_is_refused() -> None:
    refused(sign(valid_claims(at_hash=left_half_hash("another-token", "RS256"))), "bad_at_hash")


def test_c4_missing_at_hash_is_refused_where_the_flow_requires_it() -> None:
    refused(sign(valid_claims(at_hash=None)), "at_hash_missing", require_at_hash=True)


def test_c4_bad_c_hash_is_refused() -> None:
    token = sign(valid_claims(c_hash=left_half_hash("another-code", "RS256")))
    refused(token, "bad_c_hash", code="the-code")


def test_c4_missing_sub_is_refused() -> None:
    refused(sign(valid_claims(sub=None)), "sub_invalid")


def test_c4_unknown_kid_is_refused_by_the_pure_check() -> None:
    refused(sign(valid_claims(), other_rsa_key()), "kid_unknown")


def test_c4_kid_absent_with_several_keys_of_that_type_is_refused() -> None:
    rsa, _ = signing_keys()
    keys = KeySet.import_key_set({"keys": [public_jwk(rsa), public_jwk(other_rsa_key())]})
    token = sign(valid_claims(), rsa, kid=None)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header.get("kid") is None
    refused(token, "kid_missing", keys=keys)


def test_c4_kid_absent_with_a_single_key_of_that_type_passes() -> None:
    rsa, _ = signing_keys()
    token = sign(valid_claims(), rsa, kid=None)
    assert check(token).sub == "7"


def test_c4_malformed_token_is_refused() -> None:
    refused("not-a-jwt", "malformed")


# ── C4 through the real code path: JWKS fetched, refreshed once for an unknown kid ─────────


async def _validate(settings: AwesomeServiceSettings, fake: FakeMockgram, token: str) -> Any:
    from awesomeservice.oauth.id_token import validate_id_token

    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handler)) as http:
        discovery = Discovery(settings)
        metadata = parse_metadata(fake.metadata(), ISSUER)
        return await validate_id_token(
            token,
            http=http,
            events=Events(),
            discovery=discovery,
            metadata=metadata,
            client_id=CLIENT_ID,
            nonce=NONCE,
            access_token=ACCESS_TOKEN,
        )


@pytest.mark.anyio
async def test_c4_unknown_kid_after_jwks_refresh_is_refused(
    settings: AwesomeServiceSettings, fake: FakeMockgram
) -> None:
    with pytest.raises(IdTokenRejected) as caught:
        await _validate(settings, fake, sign(valid_claims(), other_rsa_key()))
    assert caught.value.reason == "kid_unknown"
    # Fetched once, then once more because of the unknown kid — and no more.
    assert len(fake.requests_to("/.well-known/jwks.json")) == 2


@pytest.mark.anyio
async def test_c4_rotated_key_is_found_after_one_jwks_refresh(
    settings: AwesomeServiceSettings, fake: FakeMockgram
) -> None:
    from awesomeservice.oauth.id_token import validate_id_token

    new_key = other_rsa_key()
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handler)) as http:
        discovery = Discovery(settings)
        metadata = parse_metadata(fake.metadata(), ISSUER)
        await discovery.jwks(http, metadata)  # cached: the old set
        fake.jwks_keys = [*fake.jwks_keys, public_jwk(new_key)]  # the provider rotates
        checked = await validate_id_token(
            sign(valid_claims(), new_key),
            http=http,
            events=Events(),
            discovery=discovery,
            metadata=metadata,
            client_id=CLIENT_ID,
            nonce=NONCE,
            access_token=ACCESS_TOKEN,
        )
    assert checked.header["kid"] == new_key.kid
    assert len(fake.requests_to("/.well-known/jwks.json")) == 2


@pytest.mark.anyio
async def test_jwks_is_cached_between_logins(
    settings: AwesomeServiceSettings, fake: FakeMockgram
) -> None:
    from awesomeservice.oauth.id_token import validate_id_token

    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handler)) as http:
        discovery = Discovery(settings)
        metadata = parse_metadata(fake.metadata(), ISSUER)
        for _ in range(3):
            await validate_id_token(
                sign(valid_claims()),
                http=http,
                events=Events(),
                discovery=discovery,
                metadata=metadata,
                client_id=CLIENT_ID,
                nonce=NONCE,
                access_token=ACCESS_TOKEN,
            )
    assert len(fake.requests_to("/.well-known/jwks.json")) == 1


# ── C4 at the callback: a forged id_token signs nobody in ───────────────────────────────────


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"iss": "http://evil.test"}, "iss_mismatch"),
        ({"aud": ["someone-else"], "azp": None}, "aud_mismatch"),
        ({"nonce": "replayed-nonce"}, "nonce_mismatch"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"iat": None}, "iat_missing"),
        ({"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}, "bad_at_hash"),
    ],
)
def test_c4_forged_id_token_at_the_callback_signs_nobody_in(
    client: TestClient,
    fake: FakeMockgram,
    db: Session,
    overrides: dict[str, Any],
    reason: str,
) -> None:
    fake.id_token_overrides = overrides
    response = log_in_with_mockgram(client, fake)
    assert response.status_code == 400
    assert "The id_token was refused" in response.text
    assert reason in response.text
    assert "user_id" not in session_payload(client)
    assert db.exec(select(FederatedIdentity)).all() == []
    assert fake.requests_to("/oauth/userinfo") == []  # nothing more was asked


def test_c4_alg_none_at_the_callback_signs_nobody_in(
    client: TestClient, fake: FakeMockgram
) -> None:
    header = b64url(json.dumps({"alg": "none"}).encode())
    fake.id_token_raw = f"{header}.{b64url(json.dumps(id_token_claims()).encode())}."
    response = log_in_with_mockgram(client, fake)
    assert response.status_code == 400
    assert "alg_not_allowed" in response.text
    assert "user_id" not in session_payload(client)
