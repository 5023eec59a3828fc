"""Helpers for the photos API and John's pages: photos, tokens and a signed-in browser.

Tokens come straight from `mockgram.tokens.issue_access_token` and sessions straight from the
app's session store (shared/sessions.py), so these tests need neither the token endpoint nor
the login page.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, func, select

from mockgram.models import Photo, User
from mockgram.tokens import issue_access_token
from shared.clock import utcnow

SESSION_COOKIE = "mockgram_session"
CSRF = "test-csrf-token-0123456789"


def tiny_image(fmt: str = "JPEG", size: tuple[int, int] = (8, 6)) -> bytes:
    """A small real image in the given Pillow format."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(out, fmt)
    return out.getvalue()


def add_photo(
    db: Session, owner: User, caption: str = "A photo", taken_at: datetime | None = None
) -> Photo:
    """Store a small JPEG for `owner` and return the row."""
    assert owner.id is not None
    photo = Photo(
        owner_id=owner.id,
        caption=caption,
        taken_at=taken_at or utcnow() - timedelta(days=1),
        content_type="image/jpeg",
        width=8,
        height=6,
        image=tiny_image(),
    )
    db.add(photo)
    db.commit()
    db.refresh(photo)
    return photo


def photo_count(db: Session) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(Photo)).one()


def issue(
    db: Session, app: FastAPI, user: User, client_id: str = "printshop", scope: str = "photos.read"
) -> str:
    """A real access token for `user`, as the token endpoint would issue it."""
    assert user.id is not None
    token, _ = issue_access_token(
        db,
        keys=app.state.keys,
        settings=app.state.settings,
        user_id=user.id,
        client_id=client_id,
        scope=scope,
    )
    db.commit()
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in(client: TestClient, app: FastAPI, user: User) -> str:
    """Give the test browser a Mockgram session for `user`; returns the session's CSRF token."""
    session = {
        "user_id": user.id,
        "username": user.username,
        "auth_time": int(utcnow().timestamp()),
        "csrf_token": CSRF,
    }
    value = app.state.sessions.create(session)
    # Same domain and path as the cookie the app sets, so its updates replace this one.
    client.cookies.set(SESSION_COOKIE, value, domain="mockgram.test", path="/")
    return CSRF
