"""Step 0 — the developer portal: register an app, get a client ID and (once) a secret.

RFC 6749 §2 (client registration), §2.1 (confidential and public clients). The same rules as
the RFC 7591 endpoint apply (mockgram/clients.py). The secret is shown exactly once, on the
response to the form, and is stored only as a hash: lose it and you register again.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlmodel import Session, select
from starlette.responses import Response

from mockgram import rate_limits
from mockgram.clients import register_client, validate_name, validate_redirect_uris, validate_scope
from mockgram.db import SessionDep
from mockgram.deps import CurrentUserDep, SettingsDep, TemplatesDep
from mockgram.models import Client, User
from mockgram.oauth.errors import OAuthError
from mockgram.scopes import SCOPES
from mockgram.settings import MockgramSettings
from shared.csrf import csrf_ok
from shared.forms import PageFormDep, text, texts
from shared.web import render_error

router = APIRouter()


@router.get("/developers")
def developers_page(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    settings: SettingsDep,
    templates: TemplatesDep,
) -> Response:
    """How registration works; for a signed-in developer, their apps and the form."""
    return render_portal(request, session, templates, settings, user=user)


@router.post("/developers/apps")
def create_app_submit(
    request: Request,
    form: PageFormDep,
    session: SessionDep,
    user: CurrentUserDep,
    settings: SettingsDep,
    templates: TemplatesDep,
) -> Response:
    """Register an app from the form; show its credentials once."""
    if not csrf_ok(request, text(form, "csrf_token")):
        return render_error(
            request,
            status_code=400,
            title="This form expired",
            message="The form's security token was missing or wrong, so no app was registered.",
            hint="Reload the developer page and try again.",
            back_url="/developers",
            back_label="Back to the developer portal",
            step=0,
        )
    if user is None:
        return RedirectResponse("/login?next=/developers", status_code=303)

    values = {
        "name": text(form, "name"),
        "redirect_uris": text(form, "redirect_uris"),
        "client_type": text(form, "client_type") or "confidential",
        "scopes": texts(form, "scope"),
    }
    try:
        if values["client_type"] not in ("confidential", "public"):
            raise ValueError("Choose confidential or public.")
        name = validate_name(values["name"], required=True)
        uris = validate_redirect_uris(
            [line.strip() for line in values["redirect_uris"].splitlines() if line.strip()],
            public=values["client_type"] == "public",
        )
        if not values["scopes"]:
            raise ValueError("Tick at least one scope the app may ask for.")
        scope = validate_scope(" ".join(values["scopes"]))
    except (OAuthError, ValueError) as exc:
        error = exc.description if isinstance(exc, OAuthError) else str(exc)
        return render_portal(
            request, session, templates, settings, user=user, error=error, values=values
        )

    # The same hourly limit per client address as POST /oauth/register (mockgram/rate_limits.py).
    limit = rate_limits.Limit(rate_limits.REGISTRATIONS, settings.registrations_per_hour)
    if wait := rate_limits.take(session, limit, address=rate_limits.client_address(request)):
        response = render_portal(
            request,
            session,
            templates,
            settings,
            user=user,
            error=f"Too many apps registered from your address this hour; try again in {wait} "
            "seconds.",
            values=values,
            status_code=429,
        )
        response.headers["Retry-After"] = str(wait)  # RFC 9110 §10.2.3
        return response
    client, secret = register_client(
        session,
        name=name,
        redirect_uris=uris,
        token_endpoint_auth_method="none"
        if values["client_type"] == "public"
        else "client_secret_basic",
        scope=scope,
        owner_user_id=user.id,
    )
    return templates.TemplateResponse(
        request,
        "developers_created.html",
        {
            "page_title": "App registered",
            "step": 0,
            "client": client,
            "secret": secret,
            "issuer": settings.issuer,
        },
        # The secret is on this page: no cache may keep it.
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def render_portal(
    request: Request,
    session: Session,
    templates: Jinja2Templates,
    settings: MockgramSettings,
    *,
    user: User | None,
    error: str | None = None,
    values: dict[str, object] | None = None,
    status_code: int = 400,
) -> Response:
    """The portal page: the explanation, and for a signed-in user their apps and the form."""
    own_apps: list[Client] = []
    if user is not None:
        statement = (
            select(Client).where(Client.owner_user_id == user.id).order_by(Client.created_at.desc())  # type: ignore[attr-defined]
        )
        own_apps = list(session.exec(statement).all())
    return templates.TemplateResponse(
        request,
        "developers.html",
        {
            "page_title": "Developers",
            "step": 0,
            "user": user,
            "apps": own_apps,
            "error": error,
            "values": values or {"client_type": "confidential", "scopes": ["photos.read"]},
            "scopes": list(SCOPES.values()),
            "issuer": settings.issuer,
            "registration_open": settings.registration_open,
            # Step 0 already happened for the story's print shop: its registration, read only
            # (no secret, which is stored only as a hash anyway), so a reader sees what it holds.
            "seeded": session.get(Client, settings.awesomeservice_client_id),
        },
        status_code=status_code if error else 200,
    )
