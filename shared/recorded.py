"""Recorded requests keep their parameters as JSON lists of [name, value] pairs.

Both apps record a request that failed (Mockgram's error explanations, AwesomeService's refused
callbacks) already redacted, as text in one column; this reads such a column back.
"""

from __future__ import annotations

import json


def pairs(text: str) -> list[tuple[str, str]]:
    """A stored JSON list of pairs back as tuples; anything else is an empty list."""
    try:
        data = json.loads(text)
    except ValueError:
        return []
    if not isinstance(data, list):
        return []
    return [(str(p[0]), str(p[1])) for p in data if isinstance(p, list) and len(p) == 2]
