"""Apps with access: what John consented to (step 3), and the button that takes it back.

Revoking deletes the remembered consent, revokes every access and refresh token the app holds
for John (the photos API checks revocation on each request, so they stop working at once) and
discards codes not yet redeemed — all in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import delete, func
from sqlmodel import col, select

from mockgram.db import SessionDep
from mockgram.deps import CurrentUserDep, EventsDep, TemplatesDep
from mockgram.events import ConsentRevoked, TokensRevoked
from mockgram.models import AuthorizationCode, Client, Consent, IssuedToken
from mockgram.oauth.refresh import revoke_refresh_tokens_of
from mockgram.pages.home import see_other
from mockgram.scopes import ScopeInfo, describe
from shared.clock import as_utc, utcnow
from shared.csrf import csrf_ok
from shared.db import stamp_unset
from shared.flash import push_flash
from shared.web import csrf_refused

router = APIRouter(tags=["John's pages"])

# One app may ask for different things at different times under one client_id — AwesomeService
# signs John in with `openid profile email` and connects his photos with `photos.read`. Mockgram
# remembers one consent per app (the union of what John allowed), so the page groups the scopes
# held by what they are for, rather than one merged list. First match wins; the last is a catch-all.
PURPOSES: tuple[tuple[str, str, Callable[[str], bool]], ...] = (
    (
        "Signing you in (OpenID Connect)",
        "Asked by “Log in with …”: who you are, and the details you chose to share.",
        lambda name: name in ("openid", "profile", "email", "address", "phone"),
    ),
    (
        "Your photos",
        "Asked when the app connects to your photos.",
        lambda name: name.startswith("photos."),
    ),
    (
        "Staying connected",
        "Asked to keep access while you are away.",
        lambda name: name == "offline_access",
    ),
    ("Other access", "", lambda name: True),
)


def by_purpose(scopes: list[ScopeInfo]) -> list[dict[str, Any]]:
    """The scopes grouped under PURPOSES, in that order, empty groups left out."""
    groups: dict[str, dict[str, Any]] = {}
    for info in scopes:
        title, why, _ = next(p for p in PURPOSES if p[2](info.name))
        groups.setdefault(title, {"title": title, "why": why, "scopes": []})["scopes"].append(info)
    order = [title for title, _, _ in PURPOSES]
    return sorted(groups.values(), key=lambda group: order.index(group["title"]))


@router.get("/apps", include_in_schema=False)
def apps_with_access(
    request: Request, session: SessionDep, user: CurrentUserDep, templates: TemplatesDep
) -> Response:
    """Each app John consented to, what it may do, and how many live tokens it holds."""
    if user is None:
        return see_other("/login")
    now = utcnow()
    consents = session.exec(
        select(Consent, Client)
        .join(Client, col(Consent.client_id) == col(Client.client_id))
        .where(Consent.user_id == user.id)
        .order_by(col(Consent.granted_at).desc())
    ).all()
    live_tokens = dict(
        session.exec(
            select(IssuedToken.client_id, func.count())
            .where(
                IssuedToken.user_id == user.id,
                col(IssuedToken.revoked_at).is_(None),
                col(IssuedToken.expires_at) > now,
            )
            .group_by(col(IssuedToken.client_id))
        ).all()
    )
    apps = [
        {
            "client": client,
            "purposes": by_purpose(
                describe(consent.scope, request.app.state.settings.configured_scopes)
            ),
            "granted_at": as_utc(consent.granted_at),
            "updated_at": as_utc(consent.updated_at),
            "active_tokens": live_tokens.get(client.client_id, 0),
        }
        for consent, client in consents
    ]
    return templates.TemplateResponse(
        request, "apps.html", {"page_title": "Apps with access", "apps": apps}
    )


@router.post("/apps/{client_id}/revoke", include_in_schema=False)
def revoke_app(
    request: Request,
    client_id: str,
    session: SessionDep,
    user: CurrentUserDep,
    events: EventsDep,
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    """Take an app's access away: consent, live tokens and pending codes, in one transaction."""
    if user is None:
        return see_other("/login")
    if not csrf_ok(request, csrf_token):
        return csrf_refused(request)
    client = session.get(Client, client_id)
    if client is None:
        push_flash(request, "There is no such app.", "error")
        return see_other("/apps")
    mine = (col(IssuedToken.user_id) == user.id, col(IssuedToken.client_id) == client_id)
    session.exec(
        delete(Consent).where(col(Consent.user_id) == user.id, col(Consent.client_id) == client_id)
    )
    # RFC 7009 §2.2 in spirit: once revoked, the resource server refuses the token at once.
    stamp_unset(session, col(IssuedToken.revoked_at), *mine)
    # …and its refresh tokens, so it cannot quietly mint new access tokens (RFC 6749 §1.5).
    revoke_refresh_tokens_of(session, user_id=user.id, client_id=client_id)
    session.exec(
        delete(AuthorizationCode).where(
            col(AuthorizationCode.user_id) == user.id,
            col(AuthorizationCode.client_id) == client_id,
            col(AuthorizationCode.redeemed_at).is_(None),
        )
    )
    events.announce(session, ConsentRevoked(user_id=user.id, client_id=client_id))
    what = "every access and refresh token"
    events.announce(session, TokensRevoked(user_id=user.id, client_id=client_id, what=what))
    session.commit()
    push_flash(request, f"{client.name} can no longer see your photos.", "ok")
    return see_other("/apps")
