"""Resource indicators (RFC 8707) at both endpoints, and the photos API's metadata (RFC 9728)."""

from __future__ import annotations

import base64
import json

import pytest

from tests.mockgram.conftest import ISSUER, settings_for
from tests.mockgram.oauth_helpers import get_code, redeem, run_to_callback, single_query
from tests.mockgram.token_helpers import assert_oauth_error, refresh

API = f"{ISSUER}/api"
PRINT_LAB = "https://printlab.test/jobs"
METADATA = "/.well-known/oauth-protected-resource/api"


@pytest.fixture
def mockgram_settings(mockgram_database_url: str):
    return settings_for(mockgram_database_url).model_copy(update={"extra_resources": [PRINT_LAB]})


@pytest.fixture
def printshop(make_client, make_user):
    make_user()
    return make_client(scopes="offline_access photos.read")[0]


def aud(token: str) -> object:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))["aud"]


def test_the_resource_named_at_authorize_is_the_tokens_audience_refresh_included(client, printshop):
    code = get_code(client, resource=PRINT_LAB, scope="offline_access photos.read")["code"]
    body = redeem(client, code).json()
    assert aud(body["access_token"]) == PRINT_LAB
    refreshed = refresh(client, body["refresh_token"]).json()
    assert aud(refreshed["access_token"]) == PRINT_LAB  # the grant keeps its resource
    # A refresh may not move the grant to another resource server (RFC 8707 §2.2).
    other = refresh(client, refreshed["refresh_token"], resource=API)
    assert_oauth_error(other, "invalid_target")


def test_the_token_request_may_repeat_the_resource_but_not_change_it(client, printshop):
    code = get_code(client, resource=PRINT_LAB)["code"]
    assert_oauth_error(redeem(client, code, resource=API), "invalid_target")
    # The refusal did not spend the code: with the right resource it still works.
    assert aud(redeem(client, code, resource=PRINT_LAB).json()["access_token"]) == PRINT_LAB


def test_without_resource_at_authorize_the_token_request_may_name_one(client, printshop):
    code = get_code(client, scope="offline_access photos.read")["code"]
    body = redeem(client, code, resource=PRINT_LAB).json()
    assert aud(body["access_token"]) == PRINT_LAB
    # The grant is for that resource from now on: its refreshes too.
    assert aud(refresh(client, body["refresh_token"]).json()["access_token"]) == PRINT_LAB
    code = get_code(client)["code"]
    assert aud(redeem(client, code).json()["access_token"]) == API  # the default


def test_an_unknown_resource_at_authorize_goes_back_as_invalid_target(client, printshop):
    location = client.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": "printshop",
            "redirect_uri": "http://client.test/callback",
            "scope": "photos.read",
            "state": "s",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
            "resource": "https://elsewhere.test/",
        },
    ).headers["location"]
    answer = single_query(location)
    assert answer["error"] == "invalid_target" and answer["state"] == "s"


def test_an_unknown_resource_at_the_token_endpoint_is_invalid_target(client, printshop):
    code = get_code(client)["code"]
    assert_oauth_error(redeem(client, code, resource="https://elsewhere.test/"), "invalid_target")


def test_the_implicit_flow_token_carries_the_resource_too(client, make_client, make_user, db):
    make_user()
    row, _ = make_client(public=True, scopes="photos.read")
    row.response_types = "token"
    db.add(row)
    db.commit()
    location = run_to_callback(
        client,
        response_type="token",
        resource=PRINT_LAB,
        code_challenge=None,
        code_challenge_method=None,
    )
    fragment = dict(part.split("=", 1) for part in location.split("#", 1)[1].split("&"))
    assert aud(fragment["access_token"]) == PRINT_LAB


# --- RFC 9728 ------------------------------------------------------------------------------------


def test_the_photos_api_describes_itself_and_points_there_from_its_challenges(client):
    metadata = client.get(METADATA).json()
    assert metadata["resource"] == API  # the aud of its tokens
    assert metadata["authorization_servers"] == [ISSUER]
    assert metadata["scopes_supported"] == ["photos.read", "photos.write"]
    assert metadata["bearer_methods_supported"] == ["header"]
    assert client.get("/.well-known/oauth-protected-resource").json() == metadata
    # RFC 9728 §5.1: every 401 of the photos API says where that document is.
    challenge = client.get("/api/photos").headers["www-authenticate"]
    assert f'resource_metadata="{ISSUER}{METADATA}"' in challenge
    # userinfo belongs to the authorization server, not to the photos API.
    assert "resource_metadata" not in client.get("/oauth/userinfo").headers["www-authenticate"]


def test_discovery_and_resource_metadata_agree(client):
    server = client.get("/.well-known/oauth-authorization-server").json()
    resource = client.get(METADATA).json()
    assert server["issuer"] in resource["authorization_servers"]
    assert set(resource["scopes_supported"]) <= set(server["scopes_supported"])
