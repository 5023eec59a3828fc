"""Interop: panva's openid-client (certified) reads a running Mockgram's discovery document."""

from __future__ import annotations

from tests.e2e.authlib_helpers import interop_mockgram
from tests.e2e.servers import serve
from tests.interop.openid_client import run_script


def test_openid_client_discovers_mockgram(mockgram_database_url: str) -> None:
    with serve(interop_mockgram(mockgram_database_url)) as base_url:
        answer = run_script(
            "discovery.mjs", issuer=base_url, client_id="anyone", client_secret="unused"
        )
    assert answer.ok, answer.body
    assert answer["issuer"] == base_url
    assert answer["token_endpoint"] == f"{base_url}/oauth/token"


def test_openid_client_refuses_an_issuer_that_is_not_mockgrams_own(
    mockgram_database_url: str,
) -> None:
    with serve(interop_mockgram(mockgram_database_url)) as base_url:
        # The same server under another name: its metadata's issuer no longer matches.
        other_name = base_url.replace("127.0.0.1", "localhost")
        answer = run_script(
            "discovery.mjs", issuer=other_name, client_id="anyone", client_secret="unused"
        )
    assert not answer.ok
    assert "issuer" in answer["error"].lower()
