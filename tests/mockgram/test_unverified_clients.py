"""Unverified clients: apps anyone registered (RFC 7591 §5; RFC 9700 §4.11.2; SECURITY.md M8).

Mockgram checked neither the name nor the redirect URIs of an app registered through
POST /oauth/register or the developer portal. So its pages never show that name as if it were
trusted, and an error in its authorization request is shown on Mockgram's own page — not sent
to its redirect URI — until the person has signed in: otherwise anyone could register their
own site and use Mockgram's address to bounce browsers there (an open redirector).
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from mockgram.models import Client
from tests.mockgram.conftest import ISSUER
from tests.mockgram.oauth_helpers import (
    CHALLENGE,
    csrf_from,
    login,
    request_id_from,
    single_query,
)

GALLERY_REDIRECT = "https://gallery.example/cb"
NOTICE = "registered by anyone, not checked by Mockgram"


def register_gallery(client, **metadata) -> dict:
    body = {"client_name": "Gallery", "redirect_uris": [GALLERY_REDIRECT], **metadata}
    response = client.post("/oauth/register", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def gallery_request(client_id: str, **overrides: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": GALLERY_REDIRECT,
        "scope": "photos.read",
        "state": "gallery-state",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        **overrides,
    }


def assert_page_not_redirect(response, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")


def test_anonymously_registered_clients_are_unverified(client, db, make_user):
    body = register_gallery(client)
    assert db.get(Client, body["client_id"]).verified is False


def test_portal_registered_clients_are_unverified(client, db, make_user):
    make_user()
    login(client)
    page = client.get("/developers")
    response = client.post(
        "/developers/apps",
        data={
            "name": "Portal app",
            "redirect_uris": GALLERY_REDIRECT,
            "client_type": "confidential",
            "scope": "photos.read",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.status_code == 200, response.text
    assert db.exec(select(Client)).one().verified is False


@pytest.mark.parametrize(
    "overrides",
    [
        {"response_type": "bogus"},  # unsupported_response_type
        {"scope": "admin"},  # invalid_scope
        {"prompt": "none"},  # login_required: nobody is signed in
    ],
)
def test_unverified_clients_errors_before_sign_in_are_a_page_not_a_redirect(
    client, make_user, overrides
):
    """RFC 9700 §4.11.2: an unverified app's redirect URI could be anyone's site."""
    make_user()
    body = register_gallery(client)
    response = client.get(
        "/oauth/authorize", params=gallery_request(body["client_id"], **overrides)
    )
    assert_page_not_redirect(response)
    assert "gallery.example" in response.text  # where it would have gone
    assert "not been checked by Mockgram" in response.text
    assert "“Gallery” (unverified)" in response.text


def test_unverified_clients_errors_after_sign_in_redirect_as_usual(client, make_user):
    make_user()
    body = register_gallery(client)
    login(client)
    response = client.get(
        "/oauth/authorize", params=gallery_request(body["client_id"], response_type="bogus")
    )
    assert response.status_code in (302, 303)
    query = single_query(response.headers["location"])
    assert response.headers["location"].startswith(GALLERY_REDIRECT + "?")
    assert (query["error"], query["state"], query["iss"]) == (
        "unsupported_response_type",
        "gallery-state",
        ISSUER,
    )


def test_verified_clients_errors_still_redirect_before_sign_in(client, make_client):
    make_client("gallery", redirect_uris=[GALLERY_REDIRECT], verified=True)
    response = client.get("/oauth/authorize", params=gallery_request("gallery", scope="admin"))
    assert response.status_code in (302, 303)
    assert single_query(response.headers["location"])["error"] == "invalid_scope"


def test_unverified_clients_success_still_goes_through_sign_in(client, make_user):
    make_user()
    body = register_gallery(client)
    response = client.get("/oauth/authorize", params=gallery_request(body["client_id"]))
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?")


def consent_page(client, client_id: str):
    response = client.get("/oauth/authorize", params=gallery_request(client_id))
    request_id = request_id_from(response.headers["location"])
    signed_in = login(client, request_id=request_id)
    assert signed_in.headers["location"].startswith("/consent?")
    page = client.get(signed_in.headers["location"])
    assert page.status_code == 200, page.text
    return page


def test_consent_page_says_plainly_that_an_unverified_app_was_not_checked(client, make_user):
    make_user()
    body = register_gallery(client, client_name="AwesomeService")
    page = consent_page(client, body["client_id"]).text
    assert NOTICE in page
    assert "Unverified" in page
    assert "<code>gallery.example</code>" in page  # where it sends John back
    # The chosen name is quoted as the app's claim, never shown as the trusted name.
    assert "“AwesomeService”" in page
    assert "<strong>AwesomeService</strong>" not in page
    assert "<title>Allow “AwesomeService” (unverified)?" in page


def test_consent_page_of_a_verified_app_has_no_notice(client, make_user, make_client):
    make_user()
    make_client("gallery", redirect_uris=[GALLERY_REDIRECT], verified=True)
    page = consent_page(client, "gallery").text
    assert NOTICE not in page
    assert "<strong>Gallery</strong>" in page


def test_sign_in_page_marks_an_unverified_app_too(client, make_user):
    make_user()
    body = register_gallery(client, client_name="AwesomeService")
    response = client.get("/oauth/authorize", params=gallery_request(body["client_id"]))
    page = client.get(response.headers["location"]).text
    assert NOTICE in page
    assert "<strong>AwesomeService</strong>" not in page
    assert "“AwesomeService”" in page


def test_apps_with_access_marks_an_unverified_app(client, make_user):
    make_user()
    body = register_gallery(client, client_name="AwesomeService")
    consent_form = consent_page(client, body["client_id"])
    request_id = consent_form.url.params["request_id"]
    response = client.post(
        "/consent",
        data={
            "request_id": request_id,
            "csrf_token": csrf_from(consent_form.text),
            "decision": "allow",
            "scope": "photos.read",
        },
    )
    assert response.status_code == 303, response.text
    page = client.get("/apps").text
    assert '“AwesomeService” <span class="badge bad">Unverified</span>' in page
