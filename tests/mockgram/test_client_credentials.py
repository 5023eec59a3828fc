"""The client credentials grant (RFC 6749 §4.4) and tokens that speak for no person."""

from __future__ import annotations

import base64
import json

import pytest

from mockgram.models import IssuedToken
from tests.mockgram.conftest import ISSUER, settings_for
from tests.mockgram.dpop_helpers import DpopKey
from tests.mockgram.resource_helpers import add_photo, tiny_image
from tests.mockgram.token_helpers import assert_oauth_error, introspect, post_form, revoke

CLIENT_CREDENTIALS = "client_credentials"
API = f"{ISSUER}/api"
PRINT_LAB = "https://printlab.test/jobs"
BASIC = ("printshop", "printshop-secret")


@pytest.fixture
def mockgram_settings(mockgram_database_url: str):
    # One more resource server than the photos API, to see `resource` land in `aud`.
    return settings_for(mockgram_database_url).model_copy(update={"extra_resources": [PRINT_LAB]})


@pytest.fixture
def machine(make_client, db):
    """printshop, registered for the code flow and for client credentials."""
    row, _ = make_client(scopes="openid profile photos.read photos.write")
    row.grant_types = "authorization_code refresh_token client_credentials"
    db.add(row)
    db.commit()
    return row


def client_token(client, *, auth=BASIC, **fields):
    return post_form(client, "/oauth/token", {"grant_type": CLIENT_CREDENTIALS, **fields}, auth)


def unverified_claims(token: str) -> dict:
    """The payload as the JWT carries it (the API tests check the signature)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_token_for_the_client_itself_no_refresh_token_no_person(client, machine, db):
    response = client_token(client, scope="photos.read")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "photos.read"
    assert "refresh_token" not in body and "id_token" not in body  # §4.4.3
    claims = unverified_claims(body["access_token"])
    # RFC 9068 §2.2: no resource owner, so sub names the client.
    assert claims["sub"] == "printshop" == claims["client_id"]
    assert claims["aud"] == API
    record = db.get(IssuedToken, claims["jti"])
    assert record is not None and record.user_id is None and record.audience == API


def test_without_scope_it_gets_what_it_registered_minus_what_only_a_person_grants(client, machine):
    body = client_token(client).json()
    assert body["scope"] == "photos.read photos.write"


@pytest.mark.parametrize("scope", ["openid", "photos.read profile", "photos.read offline_access"])
def test_scopes_only_a_person_can_grant_are_invalid_scope(client, machine, scope):
    assert_oauth_error(client_token(client, scope=scope), "invalid_scope")


def test_a_scope_the_client_did_not_register_is_invalid_scope(client, machine, make_client):
    assert_oauth_error(client_token(client, scope="photos.read email"), "invalid_scope")


def test_a_client_that_did_not_register_the_grant_is_unauthorized_client(client, make_client):
    make_client()  # grant_types "": what response type code needs, no client credentials
    body = assert_oauth_error(client_token(client), "unauthorized_client")
    assert "client_credentials" in body["error_description"]


def test_a_wrong_secret_is_invalid_client(client, machine):
    assert_oauth_error(client_token(client, auth=("printshop", "nope")), "invalid_client", 401)


def test_resource_becomes_the_audience_and_the_photos_api_refuses_it(client, machine):
    body = client_token(client, scope="photos.read", resource=PRINT_LAB).json()
    assert unverified_claims(body["access_token"])["aud"] == PRINT_LAB
    api = client.get("/api/photos", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert api.status_code == 401 and api.json()["error"] == "invalid_token"
    assert "audience" in api.json()["error_description"]
    # Named explicitly, the photos API is an audience like any other.
    body = client_token(client, scope="photos.read", resource=API).json()
    assert unverified_claims(body["access_token"])["aud"] == API


@pytest.mark.parametrize(
    "resource", ["https://elsewhere.test/api", "relative/path", f"{API}#fragment", "http://["]
)
def test_an_unknown_or_malformed_resource_is_invalid_target(client, machine, resource):
    assert_oauth_error(client_token(client, resource=resource), "invalid_target")


def test_the_machine_token_reads_nobodys_photos_and_writes_none(client, machine, make_user, db):
    john = make_user()
    photo = add_photo(db, john)
    token = client_token(client).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    for response in (
        client.get("/api/photos", headers=headers),
        client.get(f"/api/photos/{photo.id}", headers=headers),
        client.get(f"/api/photos/{photo.id}/image", headers=headers),
        client.delete(f"/api/photos/{photo.id}", headers=headers),
        client.post(
            "/api/photos", headers=headers, files={"file": ("a.jpg", tiny_image(), "image/jpeg")}
        ),
    ):
        # Valid, but too weak for a person's data: RFC 6750 §3.1, never a 500.
        assert response.status_code == 403, response.text
        assert response.json()["error"] == "insufficient_scope"
        assert "speaks for no person" in response.json()["error_description"]
        assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    # userinfo needs openid, which a machine token never holds.
    assert client.get("/oauth/userinfo", headers=headers).status_code == 403


def test_introspection_and_revocation_of_a_machine_token(client, machine):
    token = client_token(client, scope="photos.read").json()["access_token"]
    answer = introspect(client, token, auth=BASIC).json()
    assert answer["active"] is True and answer["sub"] == "printshop"
    assert "username" not in answer  # nobody's name to give
    assert revoke(client, token, auth=BASIC).status_code == 200
    assert introspect(client, token, auth=BASIC).json() == {"active": False}
    api = client.get("/api/photos", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401 and api.json()["error"] == "invalid_token"


def test_discovery_advertises_exactly_the_grants_the_token_endpoint_answers(client, machine):
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    advertised = metadata["grant_types_supported"]
    assert CLIENT_CREDENTIALS in advertised
    # Every advertised grant but implicit (never at the token endpoint) is answered there…
    for grant_type in set(advertised) - {"implicit"}:
        response = post_form(client, "/oauth/token", {"grant_type": grant_type}, BASIC)
        assert response.json().get("error") != "unsupported_grant_type", grant_type
    # …and grants it does not advertise are not.
    for grant_type in ("password", "urn:ietf:params:oauth:grant-type:jwt-bearer"):
        response = post_form(client, "/oauth/token", {"grant_type": grant_type}, BASIC)
        assert_oauth_error(response, "unsupported_grant_type")


# --- registering a machine client (RFC 7591) --------------------------------------------------


def test_a_machine_client_registers_without_redirect_uris_and_uses_its_grant(client):
    metadata = {
        "client_name": "Nightly job",
        "grant_types": [CLIENT_CREDENTIALS],
        "scope": "photos.read",
    }
    registered = client.post("/oauth/register", json=metadata)
    assert registered.status_code == 201, registered.text
    body = registered.json()
    assert body["grant_types"] == [CLIENT_CREDENTIALS]
    assert body["redirect_uris"] == [] and body["response_types"] == []
    auth = (body["client_id"], body["client_secret"])
    token = client_token(client, auth=auth)
    assert token.status_code == 200 and token.json()["scope"] == "photos.read"
    # It registered no code grant: the code grant is unauthorized_client…
    code = post_form(
        client, "/oauth/token", {"grant_type": "authorization_code", "code": "x"}, auth
    )
    assert_oauth_error(code, "unauthorized_client")
    # …and the authorization endpoint has nowhere to send anyone: a page, no redirect.
    page = client.get(
        "/oauth/authorize",
        params={"client_id": body["client_id"], "response_type": "code", "scope": "photos.read"},
    )
    assert page.status_code == 400 and "location" not in page.headers


def test_a_public_client_cannot_register_client_credentials(client):
    metadata = {"grant_types": [CLIENT_CREDENTIALS], "token_endpoint_auth_method": "none"}
    response = client.post("/oauth/register", json=metadata)
    assert_oauth_error(response, "invalid_client_metadata")


def test_a_client_with_the_code_grant_still_needs_redirect_uris(client):
    metadata = {"grant_types": ["authorization_code", CLIENT_CREDENTIALS]}
    response = client.post("/oauth/register", json=metadata)
    assert_oauth_error(response, "invalid_redirect_uri")


def test_a_dpop_proof_binds_the_machine_token_to_its_key(client, machine):
    # RFC 9449 §5: every grant at the token endpoint binds to the key its request proved.
    key = DpopKey()
    answer = client.post(
        "/oauth/token",
        data={"grant_type": CLIENT_CREDENTIALS, "scope": "photos.read"},
        auth=BASIC,
        headers={"DPoP": key.proof()},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "DPoP"
    assert unverified_claims(answer.json()["access_token"])["cnf"] == {"jkt": key.jkt}
