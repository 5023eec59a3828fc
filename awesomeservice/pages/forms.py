"""Small helpers for reading HTML forms safely and for local redirects."""

from __future__ import annotations

import re

from starlette.datastructures import FormData

# C8: only these local pages may be a `next` target; anything else goes home.
_SAFE_NEXT = re.compile(r"^/(photos|orders(/[0-9]{1,12})?)?$")


def text(form: FormData, name: str) -> str:
    """One text field of the form ('' when absent or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def texts(form: FormData, name: str) -> list[str]:
    """Every text value sent under `name` (checkboxes)."""
    return [value for value in form.getlist(name) if isinstance(value, str)]


def safe_next(value: str | None) -> str:
    """The `next` path if it is one of our own pages, else '/' (never an open redirect)."""
    return value if value and _SAFE_NEXT.match(value) else "/"
