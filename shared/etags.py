"""Entity tags for bytes that do not change under one URL (a photo's image), and the
If-None-Match check that answers a browser's revalidation with 304 (RFC 9110 §8.8.3, §13.1.2)."""

from __future__ import annotations

import hashlib


def etag_of(content: bytes) -> str:
    """A strong entity tag for these bytes: the same bytes, the same tag, on every worker."""
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def none_match(if_none_match: str | None, etag: str) -> bool:
    """Whether If-None-Match names this tag (RFC 9110 §13.1.2: weak comparison, or "*")."""
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False
