"""Request dependencies: settings, templates, the back-channel client and the signed-in user."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from awesomeservice.db import DatabaseDep
from awesomeservice.models import User
from awesomeservice.oauth.discovery import Discovery
from awesomeservice.settings import AwesomeServiceSettings
from shared.hashing import new_token

SESSION_USER_KEY = "user_id"
SESSION_USERNAME_KEY = "username"
# A random id per browser session: pending authorizations are bound to it, so a callback
# from another browser is refused (SECURITY.md, C1).
SESSION_BINDING_KEY = "browser_binding"


def browser_binding(request: Request) -> str:
    """This browser session's binding id, made on first use; step 1 stores it with the state."""
    binding = request.session.get(SESSION_BINDING_KEY)
    if not binding:
        binding = request.session[SESSION_BINDING_KEY] = new_token(16)
    return binding


class SignInRequired(Exception):
    """Raised by pages that need an AwesomeService account; answered with the sign-in page."""

    def __init__(self, next_path: str = "/") -> None:
        super().__init__(next_path)
        self.next_path = next_path


def get_settings(request: Request) -> AwesomeServiceSettings:
    return request.app.state.settings


def get_templates(request: Request) -> Jinja2Templates:
    return request.app.state.templates


def get_http(request: Request) -> httpx.AsyncClient:
    """The one back-channel client of this app (base URL: Mockgram's internal URL)."""
    return request.app.state.http


def get_discovery(request: Request) -> Discovery:
    """The app's cache of discovery documents and key sets (public data, per process)."""
    return request.app.state.discovery


def find_user(session: Session, user_id: int) -> User | None:
    """The account with this id, if it still exists."""
    return session.get(User, user_id)


def get_current_user(request: Request, database: DatabaseDep) -> User | None:
    """The user signed in to AwesomeService in this browser, or None.

    Synchronous, so FastAPI runs it in the thread pool; the lookup has a session of its own,
    closed before the endpoint starts, so no async endpoint holds a connection while it waits
    for Mockgram. The User comes back detached, its columns loaded.
    """
    user_id = request.session.get(SESSION_USER_KEY)
    if user_id is None:
        return None
    return database.run_sync(find_user, user_id)


def require_user(request: Request, database: DatabaseDep) -> User:
    """The signed-in user; otherwise send the browser to the sign-in page."""
    user = get_current_user(request, database)
    if user is None:
        raise SignInRequired(request.url.path)
    return user


SettingsDep = Annotated[AwesomeServiceSettings, Depends(get_settings)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
HttpDep = Annotated[httpx.AsyncClient, Depends(get_http)]
DiscoveryDep = Annotated[Discovery, Depends(get_discovery)]
CurrentUserDep = Annotated[User | None, Depends(get_current_user)]
UserDep = Annotated[User, Depends(require_user)]
