"""Reading HTML form fields safely: text where text is expected, never an uploaded file."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import FormData


async def form_body(request: Request) -> FormData | None:
    """The request's form body, read on the event loop (None when it would not parse).

    Reading a body means awaiting it, which a synchronous endpoint cannot do; taking it as this
    dependency lets the endpoint stay synchronous, so its database work runs in the thread
    pool. Starlette keeps the parsed form on the request, so reading it again costs nothing.
    """
    try:
        return await request.form()
    except Exception:  # a body that will not parse is the sender's mistake, told by the caller
        return None


FormBodyDep = Annotated[FormData | None, Depends(form_body)]


async def page_form(request: Request) -> FormData:
    """A page's form body; one that would not parse is a 400 (see `readable_form`)."""
    return readable_form(await form_body(request))


PageFormDep = Annotated[FormData, Depends(page_form)]


def readable_form(body: FormData | None) -> FormData:
    """The parsed form body of a page's form; one that would not parse is a 400, as Starlette
    answers when an endpoint awaits such a form itself."""
    if body is None:
        raise HTTPException(400, "The form sent could not be read.")
    return body


def text(form: FormData, name: str) -> str:
    """One text field of the form ('' when absent, or when a file came where text was expected)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def texts(form: FormData, name: str) -> list[str]:
    """Every text value sent under `name` (ticked checkboxes)."""
    return [value for value in form.getlist(name) if isinstance(value, str)]
