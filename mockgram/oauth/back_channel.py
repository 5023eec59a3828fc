"""The back-channel endpoints' shared prelude: token, revocation, introspection.

All three are POSTed to by AwesomeService's server, never by a browser, and open the same way:
read the urlencoded form (RFC 6749 §3.2), authenticate the client (RFC 6749 §2.3, reused by
RFC 7009 §2.1 and RFC 7662 §2.1), and answer any other method with a JSON 405. Each check lives
here once; each endpoint takes one `BackChannelCall` and then reads as its own checklist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.responses import JSONResponse, Response

from mockgram.db import SessionDep
from mockgram.deps import Provider, ProviderDep
from mockgram.models import Client
from mockgram.oauth.client_auth import authenticate_client
from mockgram.oauth.errors import InvalidRequestError, OAuthError, json_error, method_not_allowed
from shared.forms import FormBodyDep

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
NOT_POST = ["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"]


def read_form(request: Request, body: FormData | None) -> dict[str, str]:
    """The form body: urlencoded, each parameter at most once, empty values absent (§3.2).

    `body` is the parsed form (shared.forms.FormBodyDep), None when it would not parse.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_CONTENT_TYPE:
        raise InvalidRequestError(f"Send the parameters as {FORM_CONTENT_TYPE}.")
    if body is None:  # a body that will not parse is the client's mistake
        raise InvalidRequestError("The form body could not be read.")
    form: dict[str, str] = {}
    for name, value in body.multi_items():
        if not isinstance(value, str) or value == "":
            continue
        if name in form:
            raise InvalidRequestError(f"The parameter {name} was sent more than once.")
        form[name] = value
    return form


@dataclass(frozen=True)
class BackChannelCall:
    """One POST to the token, revocation or introspection endpoint, and what answers it."""

    request: Request
    body: FormData | None
    session: Session
    provider: Provider
    # RFC 9449 §5: the thumbprint of the DPoP key the token request proved, once checked.
    dpop_jkt: str | None = None

    def form_and_client(self) -> tuple[dict[str, str], Client]:
        """The form, and the client it authenticates as (RFC 6749 §2.3; RFC 7009/7662 §2.1)."""
        form = read_form(self.request, self.body)
        return form, authenticate_client(self.request, form, self.session, self.provider)

    def refused(self, exc: OAuthError) -> JSONResponse:
        """Undo what the refused request left uncommitted; answer with its JSON error (§5.2)."""
        self.session.rollback()
        return json_error(exc)


async def back_channel_call(
    request: Request, body: FormBodyDep, session: SessionDep, provider: ProviderDep
) -> BackChannelCall:
    """The endpoints' one dependency: the call, with its session and the app's parts."""
    return BackChannelCall(request, body, session, provider)


BackChannelDep = Annotated[BackChannelCall, Depends(back_channel_call)]


def require_token(form: dict[str, str]) -> str:
    """The `token` parameter (RFC 7009 §2.1 and RFC 7662 §2.1: REQUIRED)."""
    token = form.get("token")
    if token is None:
        raise InvalidRequestError("token is required.")
    return token


def refuse_other_methods(router: APIRouter, path: str, endpoint: str) -> None:
    """Answer every method but POST on `path` with a JSON 405 naming the endpoint."""

    async def wrong_method() -> Response:
        return method_not_allowed(endpoint)

    router.add_api_route(path, wrong_method, methods=NOT_POST, include_in_schema=False)
