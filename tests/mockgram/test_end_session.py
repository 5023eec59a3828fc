"""RP-initiated logout (OIDC RP-Initiated Logout 1.0) at Mockgram's end_session_endpoint."""

from __future__ import annotations

import re

import pytest
from joserfc import jwt
from sqlmodel import Session, select

from mockgram.deps import Provider
from mockgram.keys import unpublished_key
from mockgram.models import ActivityEvent, Client, User
from mockgram.oauth.id_tokens import issue_id_token
from tests.mockgram.oauth_helpers import CLIENT_ID, csrf_from, login, single_query

BYE = "http://client.test/signed-out"
END = "/session/end"


@pytest.fixture
def shop(printshop: Client, db: Session) -> Client:
    printshop.post_logout_redirect_uris = BYE
    db.add(printshop)
    db.commit()
    return printshop


def id_token(app, db: Session, username: str = "john", *, ttl: int | None = None) -> str:  # type: ignore[no-untyped-def]
    """An id_token Mockgram signed for the print shop; ttl<0 makes an expired one."""
    settings = app.state.settings
    if ttl is not None:
        settings = settings.model_copy(update={"id_token_ttl_seconds": ttl})
    provider = Provider(settings, app.state.keys, app.state.events, app.state.defences)
    user = db.exec(select(User).where(User.username == username)).one()
    client = db.get(Client, CLIENT_ID)
    assert client is not None
    return issue_id_token(provider, client, user, "openid")


def signed_in_as(client) -> str | None:  # type: ignore[no-untyped-def]
    match = re.search(r'class="nav-user">@([^<]+)<', client.get("/login").text)
    return match.group(1) if match else None


def assert_refused_page(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.text
    assert "location" not in response.headers


def test_hint_for_the_signed_in_person_signs_out_at_once_and_returns_state(
    client, shop, db, mockgram_app
):
    login(client)
    hint = id_token(mockgram_app, db)
    response = client.get(
        END, params={"id_token_hint": hint, "post_logout_redirect_uri": BYE, "state": "s-1"}
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith(BYE + "?")
    assert single_query(response.headers["location"]) == {"state": "s-1"}
    assert signed_in_as(client) is None
    # John's activity page will say which app signed him out.
    (row,) = db.exec(select(ActivityEvent).where(ActivityEvent.kind == "signed_out_by_app")).all()
    assert row.client_id == CLIENT_ID


def test_expired_hint_is_accepted(client, shop, db, mockgram_app):
    login(client)
    hint = id_token(mockgram_app, db, ttl=-3600)
    response = client.get(END, params={"id_token_hint": hint, "post_logout_redirect_uri": BYE})
    assert response.headers["location"] == BYE
    assert signed_in_as(client) is None


def test_hint_for_someone_else_asks_first_then_signs_out(client, shop, db, mockgram_app, make_user):
    make_user("jane")
    login(client)  # John is signed in here; the app signed Jane out
    hint = id_token(mockgram_app, db, "jane")
    page = client.get(
        END, params={"id_token_hint": hint, "post_logout_redirect_uri": BYE, "state": "s-2"}
    )
    assert page.status_code == 200 and "Sign out of Mockgram?" in page.text
    assert signed_in_as(client) == "john"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    answered = client.post(END + "/confirm", data={**fields, "decision": "sign_out"})
    assert answered.status_code == 303
    assert single_query(answered.headers["location"]) == {"state": "s-2"}
    assert signed_in_as(client) is None


def test_without_a_hint_john_may_stay_signed_in(client, shop):
    login(client)
    page = client.get(END, params={"client_id": CLIENT_ID, "post_logout_redirect_uri": BYE})
    assert "Sign out of Mockgram?" in page.text
    stayed = client.post(
        END + "/confirm",
        data={
            "csrf_token": csrf_from(page.text),
            "client_id": CLIENT_ID,
            "post_logout_redirect_uri": BYE,
            "decision": "stay",
        },
    )
    assert stayed.status_code == 200 and "still signed in" in stayed.text
    assert signed_in_as(client) == "john"


def test_confirmation_needs_the_csrf_token(client, shop):
    login(client)
    refused = client.post(END + "/confirm", data={"client_id": CLIENT_ID, "decision": "sign_out"})
    assert refused.status_code == 403
    assert signed_in_as(client) == "john"


def test_nobody_signed_in_goes_straight_back(client, shop):
    response = client.get(END, params={"client_id": CLIENT_ID, "post_logout_redirect_uri": BYE})
    assert response.status_code == 303 and response.headers["location"] == BYE


def test_without_redirect_uri_a_page_says_what_happened(client, shop, db, mockgram_app):
    login(client)
    page = client.get(END, params={"id_token_hint": id_token(mockgram_app, db)})
    assert page.status_code == 200 and "You are signed out of Mockgram" in page.text


def test_a_post_from_the_app_becomes_a_get_that_brings_the_cookie(client, shop):
    response = client.post(END, data={"client_id": CLIENT_ID, "post_logout_redirect_uri": BYE})
    assert response.status_code == 303
    assert response.headers["location"].startswith(END + "?")
    assert single_query(response.headers["location"])["post_logout_redirect_uri"] == BYE


@pytest.mark.parametrize(
    "params",
    [
        {"client_id": CLIENT_ID, "post_logout_redirect_uri": "http://evil.test/"},
        {"client_id": CLIENT_ID, "post_logout_redirect_uri": BYE + "/"},
        {"post_logout_redirect_uri": BYE},  # whose URI is it?
        {"client_id": "nobody", "post_logout_redirect_uri": BYE},
        {"id_token_hint": "not.a.jwt", "post_logout_redirect_uri": BYE},
        {"client_id": CLIENT_ID, "state": "x" * 513, "post_logout_redirect_uri": BYE},
    ],
)
def test_bad_requests_get_a_page_never_a_redirect(client, shop, params):
    login(client)
    assert_refused_page(client.get(END, params=params))
    assert signed_in_as(client) == "john"


def test_forged_hint_and_mismatched_client_are_refused(client, shop, db, mockgram_app, make_client):
    login(client)
    make_client("other")
    forged = jwt.encode(
        {"alg": "RS256"},
        {"iss": "http://mockgram.test", "sub": "1", "aud": [CLIENT_ID]},
        unpublished_key("RS256"),
    )
    assert_refused_page(client.get(END, params={"id_token_hint": forged}))
    hint = id_token(mockgram_app, db)
    assert_refused_page(client.get(END, params={"id_token_hint": hint, "client_id": "other"}))
    assert signed_in_as(client) == "john"
