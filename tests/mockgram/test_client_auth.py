"""Client authentication at the token endpoint (RFC 6749 §2.3.1; checklist item 17)."""

from __future__ import annotations

import base64
from urllib.parse import quote_plus

import pytest

from tests.mockgram.conftest import CLIENT_REDIRECT
from tests.mockgram.oauth_helpers import CLIENT_ID, CLIENT_SECRET, VERIFIER, get_code, redeem


def basic(client_id: str, secret: str, *, encode: bool = True) -> str:
    if encode:
        client_id, secret = quote_plus(client_id), quote_plus(secret)
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def token_form(code: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CLIENT_REDIRECT,
        "code_verifier": VERIFIER,
        **extra,
    }


def assert_invalid_client(response, *, basic_challenge: bool) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"
    assert response.headers["cache-control"] == "no-store"
    if basic_challenge:
        assert response.headers["www-authenticate"].startswith("Basic")


def test_item_17_client_secret_basic_works(client, printshop):
    code = get_code(client)["code"]
    response = client.post(
        "/oauth/token",
        data=token_form(code),
        headers={"Authorization": basic(CLIENT_ID, CLIENT_SECRET)},
    )
    assert response.status_code == 200, response.text


def test_item_17_client_secret_post_works(client, printshop):
    code = get_code(client)["code"]
    response = client.post(
        "/oauth/token",
        data=token_form(code, client_id=CLIENT_ID, client_secret=CLIENT_SECRET),
    )
    assert response.status_code == 200, response.text


def test_item_17_bad_basic_secret_is_401_with_www_authenticate(client, printshop):
    code = get_code(client)["code"]
    response = redeem(client, code, auth=(CLIENT_ID, "wrong-secret"))
    assert_invalid_client(response, basic_challenge=True)
    assert response.headers["www-authenticate"] == 'Basic realm="mockgram"'


def test_item_17_bad_post_secret_is_invalid_client(client, printshop):
    code = get_code(client)["code"]
    response = client.post(
        "/oauth/token", data=token_form(code, client_id=CLIENT_ID, client_secret="wrong")
    )
    assert_invalid_client(response, basic_challenge=False)


def test_item_17_unknown_client_is_invalid_client(client, printshop):
    response = redeem(client, "whatever", auth=("nobody", "secret"))
    assert_invalid_client(response, basic_challenge=True)


def test_item_17_confidential_client_without_authentication_is_refused(client, printshop):
    code = get_code(client)["code"]
    response = client.post("/oauth/token", data=token_form(code, client_id=CLIENT_ID))
    assert_invalid_client(response, basic_challenge=False)
    # The code is still good for the real client afterwards.
    assert redeem(client, code).status_code == 200


def test_item_17_no_authentication_at_all_is_invalid_client(client, printshop):
    code = get_code(client)["code"]
    response = client.post("/oauth/token", data=token_form(code))
    assert_invalid_client(response, basic_challenge=True)


def test_item_17_basic_and_body_secret_together_is_invalid_request(client, printshop):
    code = get_code(client)["code"]
    response = client.post(
        "/oauth/token",
        data=token_form(code, client_secret=CLIENT_SECRET),
        headers={"Authorization": basic(CLIENT_ID, CLIENT_SECRET)},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_item_17_secret_in_query_string_is_refused(client, printshop):
    code = get_code(client)["code"]
    response = client.post(
        "/oauth/token",
        params={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        data=token_form(code),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    # Even with valid Basic credentials beside it.
    response = client.post(
        "/oauth/token",
        params={"client_secret": CLIENT_SECRET},
        data=token_form(code),
        headers={"Authorization": basic(CLIENT_ID, CLIENT_SECRET)},
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "header",
    [
        "Basic not-base64!!",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic " + base64.b64encode(b":secret-without-id").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
        "Basic",
        "Bearer some-token",
        "Digest username=printshop",
    ],
)
def test_item_17_malformed_basic_header_is_refused(client, printshop, header):
    code = get_code(client)["code"]
    response = client.post("/oauth/token", data=token_form(code), headers={"Authorization": header})
    assert_invalid_client(response, basic_challenge=True)


def test_item_17_basic_credentials_are_form_decoded_after_base64(client, make_user, make_client):
    make_user()
    odd_id, odd_secret = "print shop:1", "s3cr:t +&%/é"
    make_client(odd_id, secret=odd_secret)
    code = get_code(client, client_id=odd_id)["code"]
    response = client.post(
        "/oauth/token", data=token_form(code), headers={"Authorization": basic(odd_id, odd_secret)}
    )
    assert response.status_code == 200, response.text


def test_item_17_basic_credentials_not_form_encoded_fail_when_it_matters(
    client, make_user, make_client
):
    make_user()
    make_client("printshop", secret="a+b")
    code = get_code(client)["code"]
    # Raw "a+b" form-decodes to "a b": not the secret.
    raw = client.post(
        "/oauth/token",
        data=token_form(code),
        headers={"Authorization": basic("printshop", "a+b", encode=False)},
    )
    assert_invalid_client(raw, basic_challenge=True)


def test_item_17_client_id_in_body_must_match_basic(client, printshop, make_client):
    make_client("other", secret="other-secret")
    code = get_code(client)["code"]
    response = client.post(
        "/oauth/token",
        data=token_form(code, client_id="other"),
        headers={"Authorization": basic(CLIENT_ID, CLIENT_SECRET)},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_public_client_authenticates_with_client_id_only(client, make_user, make_client):
    make_user()
    make_client(public=True)
    code = get_code(client)["code"]
    response = client.post("/oauth/token", data=token_form(code, client_id=CLIENT_ID))
    assert response.status_code == 200, response.text


def test_public_client_cannot_use_a_secret(client, make_user, make_client):
    make_user()
    make_client(public=True)
    code = get_code(client)["code"]
    response = redeem(client, code, auth=(CLIENT_ID, ""))
    assert_invalid_client(response, basic_challenge=True)
