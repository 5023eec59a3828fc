"""Where a form may send the browser next: local pages only (SECURITY.md, C8)."""

from __future__ import annotations

import re

# Only these local pages may be a `next` target; anything else goes home.
_SAFE_NEXT = re.compile(r"^/(photos|orders(/[0-9]{1,12})?)?$")


def safe_next(value: str | None) -> str:
    """The `next` path if it is one of our own pages, else '/' (never an open redirect)."""
    return value if value and _SAFE_NEXT.match(value) else "/"
