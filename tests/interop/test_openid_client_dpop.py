"""Interop: panva's openid-client (certified) gets and uses a DPoP-bound token (RFC 9449).

openid-client makes a non-extractable ES256 key, signs a proof for the token request and for
the photos API call, and follows Mockgram's nonce challenges (§8, §9: nonces are required
here). The same token replayed as a plain bearer token is refused.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx
from fastapi import FastAPI
from joserfc.jwk import ECKey

from mockgram.app import create_app
from mockgram.settings import MockgramSettings
from tests.e2e.authlib_helpers import DEMO_PASSWORD, REDIRECT_URI, john_approves
from tests.e2e.servers import serve
from tests.interop.openid_client import run_interactive

CLIENT_NAME = "openid-client with DPoP"


def mockgram_requiring_nonces(database_url: str) -> Callable[[str], FastAPI]:
    def make(base_url: str) -> FastAPI:
        return create_app(
            MockgramSettings(
                issuer=base_url,
                database_url=database_url,
                secret_key="interop-session-key",
                demo_password=DEMO_PASSWORD,
                dpop_require_nonce=True,
            )
        )

    return make


def test_openid_client_uses_a_dpop_bound_token(mockgram_database_url: str) -> None:
    with serve(mockgram_requiring_nonces(mockgram_database_url)) as base_url:
        registered = httpx.post(
            f"{base_url}/oauth/register",
            json={
                "client_name": CLIENT_NAME,
                "redirect_uris": [REDIRECT_URI],
                "scope": "photos.read",
                "dpop_bound_access_tokens": True,  # RFC 9449 §5.2
            },
            timeout=10,
        ).json()

        def john(first: dict[str, str]) -> str:
            return john_approves(base_url, first["authorization_url"], CLIENT_NAME)

        answer = run_interactive(
            "dpop_code_flow.mjs",
            john,
            issuer=base_url,
            client_id=registered["client_id"],
            client_secret=registered["client_secret"],
            redirect_uri=REDIRECT_URI,
            api=f"{base_url}/api/photos",
        )
    assert answer.ok, answer.body
    assert answer["token_type"].lower() == "dpop"
    assert answer["private_key_extractable"] is False
    assert answer["photos_status"] == 200 and answer["photos"] > 0
    # The token names the key openid-client made (cnf.jkt, RFC 9449 §6.1)…
    claims = answer["access_token"].split(".")[1]
    jkt = ECKey.import_key(answer["public_jwk"]).thumbprint()
    assert jkt in _decoded(claims)
    # …and is worth nothing as a bearer token (§7.2).
    assert answer["as_bearer_status"] == 401
    assert answer["as_bearer_challenge"].startswith('DPoP error="invalid_token"')


def _decoded(segment: str) -> str:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode()
