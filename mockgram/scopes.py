"""The scopes Mockgram knows, with the plain words the consent page shows (RFC 6749 §3.3)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ScopeInfo:
    name: str
    title: str
    description: str
    dangerous: bool = False


SCOPES: dict[str, ScopeInfo] = {
    "photos.read": ScopeInfo(
        "photos.read",
        "See your photos",
        "View your photos, their captions and dates, and download the images.",
    ),
    "photos.write": ScopeInfo(
        "photos.write",
        "Post and delete photos",
        "Upload new photos to your account and delete the ones you have.",
        dangerous=True,
    ),
}


def normalize_scope(scopes: Iterable[str]) -> str:
    """Known scopes in Mockgram's own order, duplicates collapsed (order is irrelevant, §3.3)."""
    wanted = set(scopes)
    return " ".join(name for name in SCOPES if name in wanted)


def describe(scope: str) -> list[ScopeInfo]:
    """The known scopes in a space-separated scope string, in Mockgram's own order."""
    requested = set(scope.split())
    return [info for name, info in SCOPES.items() if name in requested]
