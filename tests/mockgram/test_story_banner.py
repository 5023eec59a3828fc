"""Which authorization requests the tour tells as the article's steps 2 and 3."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mockgram.models import AuthorizationRequest, Client
from mockgram.oauth.pending import tells_the_story
from shared.clock import utcnow


def _request(response_type: str, scope: str) -> AuthorizationRequest:
    return AuthorizationRequest(
        id="r",
        client_id="c",
        redirect_uri="https://app.example/cb",
        response_type=response_type,
        scope=scope,
        expires_at=utcnow() + timedelta(minutes=5),
    )


def _client(*, confidential: bool) -> Client:
    return Client(
        client_id="c",
        name="An app",
        secret_hash="0" * 64 if confidential else None,
        redirect_uris="https://app.example/cb",
        verified=True,
    )


def test_a_servers_code_for_photos_is_the_story() -> None:
    assert tells_the_story(_request("code", "photos.read"), _client(confidential=True))


@pytest.mark.parametrize(
    ("response_type", "scope", "confidential"),
    [
        ("code", "openid profile photos.read", True),  # an OpenID login (the debugger's default)
        ("code", "photos.read", False),  # a single-page app with PKCE, a public client
        ("token", "photos.read", False),  # the implicit flow
        ("code", "profile", True),  # no photos asked for
    ],
)
def test_other_requests_carry_no_story_banner(
    response_type: str, scope: str, confidential: bool
) -> None:
    pending = _request(response_type, scope)
    assert not tells_the_story(pending, _client(confidential=confidential))
    assert not tells_the_story(pending, None)


def test_an_unverified_clients_request_is_not_the_story() -> None:
    """A stranger's app may call itself AwesomeService; the tour never says it is the print shop."""
    stranger = _client(confidential=True)
    stranger.verified = False
    assert not tells_the_story(_request("code", "photos.read"), stranger)
