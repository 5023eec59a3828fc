"""Reading HTML form fields safely: text where text is expected, never an uploaded file."""

from __future__ import annotations

from starlette.datastructures import FormData


def text(form: FormData, name: str) -> str:
    """One text field of the form ('' when absent, or when a file came where text was expected)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def texts(form: FormData, name: str) -> list[str]:
    """Every text value sent under `name` (ticked checkboxes)."""
    return [value for value in form.getlist(name) if isinstance(value, str)]
