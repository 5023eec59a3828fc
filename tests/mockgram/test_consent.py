"""Step 3: the consent page (RFC 6749 §3.3, §4.1.2.1; checklist items 10, 28, 29, 31)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from sqlalchemy import event
from sqlmodel import Session, delete, select

from mockgram.models import AuthorizationCode, AuthorizationRequest, Consent, User
from mockgram.oauth import consents
from mockgram.tokens import verify_access_token
from shared.clock import utcnow
from tests.mockgram.conftest import CLIENT_REDIRECT, ISSUER
from tests.mockgram.oauth_helpers import (
    authorize_params,
    consent,
    csrf_from,
    get_code,
    login,
    redeem,
    request_id_from,
    single_query,
)

BOTH = "photos.read photos.write"


def start(client, **overrides) -> str:
    """Sign in and start an authorization request; return its request_id."""
    login(client)
    response = client.get("/oauth/authorize", params=authorize_params(**overrides))
    assert response.headers["location"].startswith("/consent?")
    return request_id_from(response.headers["location"])


def post_consent(client, request_id: str, **fields) -> object:
    page = client.get("/consent", params={"request_id": request_id})
    data = {"request_id": request_id, "csrf_token": csrf_from(page.text), "decision": "allow"}
    data.update(fields)
    return client.post("/consent", data={k: v for k, v in data.items() if v is not None})


def codes(db) -> list[AuthorizationCode]:
    return list(db.exec(select(AuthorizationCode)).all())


def test_consent_requires_sign_in(client, printshop):
    location = client.get("/oauth/authorize", params=authorize_params()).headers["location"]
    request_id = request_id_from(location)
    response = client.get("/consent", params={"request_id": request_id})
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?request_id={request_id}"


def test_consent_page_names_the_app_and_explains_each_scope(client, printshop):
    request_id = start(client, scope=BOTH)
    response = client.get("/consent", params={"request_id": request_id})
    assert response.status_code == 200
    page = response.text
    assert "Printshop" in page  # client name
    assert "printshop" in page  # client_id
    assert "client.test" in page  # where John goes back to
    assert "See your photos" in page and "Post and delete photos" in page
    boxes = re.findall(r'<input type="checkbox"[^>]*name="scope"[^>]*>', page)
    assert len(boxes) == 2 and all("checked" in box for box in boxes)
    # photos.write is visibly the dangerous one.
    dangerous = re.search(r'<li class="dangerous">(.*?)</li>', page, re.S)
    assert dangerous and 'value="photos.write"' in dangerous.group(1)
    assert 'value="allow"' in page and 'value="deny"' in page


def test_allow_issues_code_with_state_and_iss(client, printshop, db):
    request_id = start(client)
    response = post_consent(client, request_id, scope="photos.read")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(CLIENT_REDIRECT + "?")
    query = single_query(location)
    assert query["state"] == "state-123"
    assert query["iss"] == ISSUER
    assert len(codes(db)) == 1
    assert db.get(AuthorizationRequest, request_id).completed_at is not None


def test_item_10_deny_redirects_with_access_denied_state_and_iss(client, printshop, db):
    request_id = start(client)
    response = post_consent(client, request_id, decision="deny", scope="photos.read")
    assert response.status_code == 303
    query = single_query(response.headers["location"])
    assert query["error"] == "access_denied"
    assert query["state"] == "state-123"
    assert query["iss"] == ISSUER
    assert "code" not in query
    assert codes(db) == []
    assert db.get(AuthorizationRequest, request_id).completed_at is not None


def test_allow_with_nothing_ticked_counts_as_deny(client, printshop, db):
    request_id = start(client)
    response = post_consent(client, request_id)
    assert single_query(response.headers["location"])["error"] == "access_denied"
    assert codes(db) == []


@pytest.mark.parametrize("token", [None, "", "forged"])
def test_item_28_consent_with_missing_or_bad_csrf_is_refused(client, printshop, db, token):
    request_id = start(client)
    client.get("/consent", params={"request_id": request_id})
    data = {"request_id": request_id, "decision": "allow", "scope": "photos.read"}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/consent", data=data)
    assert response.status_code in (400, 403)
    assert "location" not in response.headers
    assert codes(db) == []
    assert db.get(AuthorizationRequest, request_id).completed_at is None


def test_item_28_consent_is_bound_to_the_browser_that_started_it(
    client, printshop, mockgram_app, db
):
    request_id = start(client)
    # Another browser where John is also signed in cannot answer this request.
    with TestClient(mockgram_app, base_url=ISSUER, follow_redirects=False) as other:
        login(other)
        assert other.get("/consent", params={"request_id": request_id}).status_code == 400
        token = csrf_from(other.get("/login").text)
        response = other.post(
            "/consent",
            data={"request_id": request_id, "csrf_token": token, "decision": "allow",
                  "scope": "photos.read"},
        )  # fmt: skip
        assert response.status_code == 400
    assert codes(db) == []


def test_item_28_consent_is_single_use(client, printshop, db):
    request_id = start(client)
    page = client.get("/consent", params={"request_id": request_id})
    data = {
        "request_id": request_id,
        "csrf_token": csrf_from(page.text),
        "decision": "allow",
        "scope": "photos.read",
    }
    assert client.post("/consent", data=data).status_code == 303
    again = client.post("/consent", data=data)
    assert again.status_code == 400
    assert len(codes(db)) == 1


def test_unknown_or_expired_request_is_refused(client, printshop, db):
    login(client)
    assert client.get("/consent", params={"request_id": "nope"}).status_code == 400
    request_id = start(client)
    pending = db.get(AuthorizationRequest, request_id)
    pending.expires_at = utcnow() - timedelta(seconds=1)
    db.add(pending)
    db.commit()
    assert client.get("/consent", params={"request_id": request_id}).status_code == 400
    assert post_consent(client, request_id, scope="photos.read").status_code == 400
    assert codes(db) == []


def test_granting_a_scope_that_was_not_requested_is_refused(client, printshop, db):
    request_id = start(client, scope="photos.read")
    response = post_consent(client, request_id, scope=["photos.read", "photos.write"])
    assert response.status_code == 400
    assert codes(db) == []


def test_bad_decision_value_is_refused(client, printshop, db):
    request_id = start(client)
    assert (
        post_consent(client, request_id, decision="maybe", scope="photos.read").status_code == 400
    )
    assert codes(db) == []


def test_unticking_photos_write_yields_a_read_only_token(client, printshop, mockgram_app, db):
    query = get_code(client, scope=BOTH, scopes=["photos.read"])
    response = redeem(client, query["code"])
    token = response.json()["access_token"]
    assert response.json()["scope"] == "photos.read"
    claims = jwt.decode(token, mockgram_app.state.keys.public_set).claims
    assert claims["scope"] == "photos.read"
    checked = verify_access_token(
        db, token, keys=mockgram_app.state.keys, settings=mockgram_app.state.settings
    )
    assert checked.scopes == {"photos.read"}


def test_remembered_consent_skips_the_page_on_the_second_run(client, printshop, db):
    get_code(client, scope=BOTH)
    response = client.get("/oauth/authorize", params=authorize_params(scope="photos.read"))
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(CLIENT_REDIRECT + "?")
    query = single_query(location)
    assert query["code"] and query["state"] == "state-123" and query["iss"] == ISSUER
    assert redeem(client, query["code"]).json()["scope"] == "photos.read"


def test_remembered_consent_after_sign_in_also_skips_the_page(client, printshop):
    get_code(client)
    token = csrf_from(client.get("/login").text)
    client.post("/logout", data={"csrf_token": token})
    location = client.get("/oauth/authorize", params=authorize_params()).headers["location"]
    response = login(client, request_id=request_id_from(location))
    consent_response = client.get(response.headers["location"])
    assert consent_response.status_code == 303
    assert single_query(consent_response.headers["location"])["code"]


NAVIGATION = {"Sec-Fetch-Mode": "navigate"}  # what a browser sends for a page it opens


def test_the_tour_says_step_3_was_skipped_with_the_date_and_a_way_to_be_asked_again(
    client, printshop, db
):
    get_code(client)
    allowed = db.exec(select(Consent)).one().updated_at
    # A person in a browser, the tour on: Mockgram pauses on step 3 to say why it asks nothing.
    response = client.get("/oauth/authorize", params=authorize_params(), headers=NAVIGATION)
    assert response.status_code == 303 and response.headers["location"].startswith("/consent?")
    page = client.get(response.headers["location"], headers=NAVIGATION)
    assert page.status_code == 200
    banner = page.text.split('class="step-banner"')[1].split("</aside>")[0]
    assert "Step 3 of 6" in banner
    assert f"already allowed Printshop this on {allowed:%d %b %Y at %H:%M} UTC" in banner
    ask_again = re.search(r'href="(/consent\?[^"]*prompt=consent[^"]*)"', banner)
    assert ask_again and "ask me again (prompt=consent)" in banner
    # Asked again: the real question, even though the answer is remembered.
    question = client.get(ask_again.group(1).replace("&amp;", "&"), headers=NAVIGATION)
    assert question.status_code == 200 and 'action="/consent"' in question.text
    # Or go on: the answer, with its code, as without the tour.
    go_on = re.search(r'href="(/consent\?[^"]*continue=1[^"]*)"', page.text)
    assert go_on
    answered = client.get(go_on.group(1).replace("&amp;", "&"), headers=NAVIGATION)
    assert answered.status_code == 303
    assert single_query(answered.headers["location"])["code"]


def test_with_the_tour_hidden_a_remembered_consent_goes_straight_back(client, printshop):
    get_code(client)
    token = csrf_from(client.get("/login").text)
    client.post("/tour/toggle", data={"csrf_token": token, "show": "0", "back": "/"})
    response = client.get("/oauth/authorize", params=authorize_params(), headers=NAVIGATION)
    assert response.status_code == 303
    assert single_query(response.headers["location"])["code"]


def test_asking_for_more_than_was_granted_shows_the_page_again(client, printshop, db):
    get_code(client, scope=BOTH, scopes=["photos.read"])
    response = client.get("/oauth/authorize", params=authorize_params(scope=BOTH))
    assert response.headers["location"].startswith("/consent?")


def test_consent_is_remembered_as_the_union_of_scopes(client, printshop, db):
    get_code(client, scope="photos.read")
    get_code(client, scope="photos.write")
    rows = db.exec(select(Consent)).all()
    assert len(rows) == 1
    assert rows[0].scope == BOTH


def test_item_29_31_consent_page_has_security_headers(client, printshop):
    request_id = start(client)
    response = client.get("/consent", params={"request_id": request_id})
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert not re.search(r'(src|href)="(https?:)?//', response.text)


def test_consent_helper_round_trip(client, printshop):
    """The helper used across these tests answers the real form."""
    request_id = start(client)
    response = consent(client, request_id, scopes=["photos.read"])
    assert single_query(response.headers["location"])["code"]


def test_item_31_login_consent_and_error_pages_load_nothing_from_other_origins(client, printshop):
    """Every script, stylesheet, image and form on these pages is Mockgram's own."""
    login_page = client.get("/login")
    request_id = start(client)
    consent_page = client.get(f"/consent?request_id={request_id}")
    error_page = client.get("/oauth/authorize", params={"client_id": "nobody"})
    for page in (login_page, consent_page, error_page):
        assert page.status_code in (200, 400)
        references = re.findall(r'(?:src|href|action)="([^"]*)"', page.text)
        assert references, "the page has links to check"
        for reference in references:
            assert not reference.startswith(("http:", "https:", "//")) or reference.startswith(
                ISSUER
            ), reference
        assert "<script>" not in page.text and ' style="' not in page.text


# --- the OpenID Connect scopes, in plain words ------------------------------------------------


@pytest.fixture
def oidc_printshop(make_client, make_user):
    make_user()
    return make_client(scopes="openid profile email offline_access photos.read")[0]


def test_consent_explains_the_openid_scopes_and_openid_cannot_be_unticked(client, oidc_printshop):
    request_id = start(client, scope="openid profile email offline_access photos.read")
    page = client.get("/consent", params={"request_id": request_id}).text
    for words in (
        "Know who you are",
        "See your name and picture",
        "See your email address",
        "Stay connected while you are away",
    ):
        assert words in page
    assert "Needed to sign you in" in page
    boxes = re.findall(r'<input type="checkbox"[^>]*name="scope"[^>]*>', page)
    assert [re.search(r'value="([^"]+)"', box).group(1) for box in boxes] == [
        "profile",
        "email",
        "offline_access",
        "photos.read",
    ]
    assert 'value="openid"' not in page


def test_openid_is_granted_even_when_everything_else_is_unticked(client, oidc_printshop, db):
    request_id = start(client, scope="openid profile photos.read")
    response = post_consent(client, request_id, scope=None)
    assert response.status_code == 303
    assert codes(db)[0].scope == "openid"


def test_deny_still_denies_an_openid_request(client, oidc_printshop, db):
    request_id = start(client, scope="openid profile")
    response = post_consent(client, request_id, decision="deny", scope=["profile"])
    assert single_query(response.headers["location"])["error"] == "access_denied"
    assert codes(db) == []


def test_remembering_survives_a_revocation_between_its_read_and_its_write(client, printshop, db):
    # John revokes the app in another tab just after this request read his consent. A write
    # aimed at the row it read would match nothing (and a loaded row flushed later fails the
    # whole answer with a 500); remembering must simply start the consent again.
    engine = db.get_bind()
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite's single writer makes the other tab wait for this transaction")
    user = db.exec(select(User)).one()
    where = {"user_id": user.id, "client_id": printshop.client_id}
    consents.remember(db, **where, scope="photos.read")
    db.commit()
    revoked: list[str] = []

    def revoke_after_the_read(conn, cursor, statement, *args) -> None:
        if revoked or not statement.lstrip().upper().startswith("SELECT"):
            return
        if "consent" not in statement:
            return
        revoked.append(statement)
        with engine.begin() as other:
            other.execute(delete(Consent))

    event.listen(engine, "after_cursor_execute", revoke_after_the_read)
    try:
        consents.remember(db, **where, scope="photos.write")
        db.commit()
    finally:
        event.remove(engine, "after_cursor_execute", revoke_after_the_read)
    assert revoked
    with Session(engine) as fresh:
        assert [row.scope for row in fresh.exec(select(Consent)).all()] == ["photos.write"]


def test_remembering_adds_to_a_consent_revoked_and_given_again_elsewhere(client, printshop, db):
    # The caller's session read the consent; meanwhile John revoked it in another tab and a
    # second tab granted it again (a new row). Remembering more must still land on that row.
    user = db.exec(select(User)).one()
    where = {"user_id": user.id, "client_id": printshop.client_id}
    consents.remember(db, **where, scope="photos.read")
    db.commit()
    assert consents.find(db, **where) is not None  # the session now holds the row
    with Session(db.get_bind()) as other:
        other.exec(delete(Consent))
        consents.remember(other, **where, scope="photos.read")
        other.commit()
    consents.remember(db, **where, scope="photos.write")
    db.commit()
    with Session(db.get_bind()) as fresh:
        rows = fresh.exec(select(Consent)).all()
    assert [row.scope for row in rows] == [BOTH]
