"""The back-channel endpoints' shared prelude: token, revocation, introspection.

All three are POSTed to by AwesomeService's server, never by a browser, and open the same way:
read the urlencoded form (RFC 6749 §3.2), authenticate the client (RFC 6749 §2.3, reused by
RFC 7009 §2.1 and RFC 7662 §2.1), and answer any other method with a JSON 405. Each check lives
here once; the endpoints then read as their own checklists.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from mockgram.defences import Defences
from mockgram.events import Events
from mockgram.models import Client
from mockgram.oauth.client_auth import authenticate_client
from mockgram.oauth.errors import InvalidRequestError, method_not_allowed

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


def read_form_and_client(
    request: Request,
    body: FormData | None,
    session: Session,
    *,
    events: Events,
    defences: Defences,
) -> tuple[dict[str, str], Client]:
    """The form, and the client it authenticates as (RFC 6749 §2.3; RFC 7009/7662 §2.1)."""
    form = read_form(request, body)
    client = authenticate_client(request, form, session, events=events, defences=defences)
    return form, client


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
