"""Request dependencies: settings, keys, templates, events, protocol code's Provider and the
signed-in user, all from the app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from mockgram.control.faults import Faults
from mockgram.db import SessionDep
from mockgram.defences import Defences
from mockgram.events import Events
from mockgram.keys import SigningKeys
from mockgram.models import User
from mockgram.oauth.dpop import DpopNonces
from mockgram.settings import MockgramSettings

SESSION_USER_KEY = "user_id"
SESSION_AUTH_TIME_KEY = "auth_time"


# The getters are `async` so FastAPI runs them on the loop: reading an attribute is not worth a
# worker thread, and those threads are sized to the database pool.
async def get_settings(request: Request) -> MockgramSettings:
    return request.app.state.settings


async def get_keys(request: Request) -> SigningKeys:
    return request.app.state.keys


async def get_templates(request: Request) -> Jinja2Templates:
    return request.app.state.templates


async def get_events(request: Request) -> Events:
    return request.app.state.events


@dataclass(frozen=True)
class Provider:
    """What protocol code needs of its app: settings, signing keys, events, defences, and the
    faults a test queued through the control plane (mockgram/control/faults.py)."""

    settings: MockgramSettings
    keys: SigningKeys
    events: Events
    defences: Defences
    faults: Faults = field(default_factory=Faults)
    dpop_nonces: DpopNonces | None = None  # RFC 9449 §8: None when no nonce is ever asked for


async def get_provider(request: Request) -> Provider:
    """The app's parts, read afresh: a test that replaces one on app.state is heard at once."""
    state = request.app.state
    nonces = getattr(state, "dpop_nonces", None)
    return Provider(state.settings, state.keys, state.events, state.defences, state.faults, nonces)


def get_current_user(request: Request, session: SessionDep) -> User | None:
    """The user signed in to Mockgram in this browser, or None."""
    user_id = request.session.get(SESSION_USER_KEY)
    return session.get(User, user_id) if isinstance(user_id, int) else None


async def get_dpop_nonces(request: Request) -> DpopNonces | None:
    return getattr(request.app.state, "dpop_nonces", None)


SettingsDep = Annotated[MockgramSettings, Depends(get_settings)]
KeysDep = Annotated[SigningKeys, Depends(get_keys)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
EventsDep = Annotated[Events, Depends(get_events)]
ProviderDep = Annotated[Provider, Depends(get_provider)]
DpopNoncesDep = Annotated[DpopNonces | None, Depends(get_dpop_nonces)]
CurrentUserDep = Annotated[User | None, Depends(get_current_user)]
