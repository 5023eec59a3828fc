"""Step 1 — which registered redirect URI a request's redirect_uri is (RFC 6749 §3.1.2.3).

The rule is exact string comparison (RFC 9700 §4.1.3): no normalising of case, slashes,
queries or ports. One exception, for native apps: a loopback IP address's port is not compared
(RFC 8252 §7.3), because the app opens a listener on whatever port the system gives it at the
moment of the request; every other character still has to be the same. `localhost` is not a
loopback IP literal and gets no exception (RFC 8252 §8.3: it may resolve elsewhere).
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit


def _split(uri: str) -> SplitResult | None:
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        return None
    return parts


def _host_as_written(parts: SplitResult) -> str:
    """The authority without its port, character for character (no lower-casing)."""
    return parts.netloc.rsplit(":", 1)[0] if parts.port is not None else parts.netloc


def _all_but_port(uri: str, parts: SplitResult) -> tuple[str, str, str, str, str]:
    scheme = uri.split(":", 1)[0]  # as written: urlsplit lower-cases the scheme
    return (scheme, _host_as_written(parts), parts.path, parts.query, parts.fragment)


def is_loopback_ip(uri: str) -> bool:
    """An http URI on a loopback IP literal, the kind whose port may vary (RFC 8252 §7.3)."""
    parts = _split(uri)
    return (
        parts is not None
        and uri.startswith("http://")
        and _host_as_written(parts) in ("127.0.0.1", "[::1]")
    )


def matching(given: str, registered: list[str]) -> str | None:
    """The registered URI `given` stands for, or None (RFC 6749 §3.1.2.3; RFC 8252 §7.3)."""
    if given in registered:
        return given
    parts = _split(given)
    if parts is None or not is_loopback_ip(given):
        return None
    for uri in registered:
        candidate = _split(uri)
        if (
            candidate is not None
            and is_loopback_ip(uri)
            and _all_but_port(uri, candidate) == _all_but_port(given, parts)
        ):
            return uri
    return None


def differs_only_by_port(given: str, registered: list[str]) -> str | None:
    """A registered URI that `given` would equal but for its port (for the error page)."""
    parts = _split(given)
    if parts is None:
        return None
    for uri in registered:
        candidate = _split(uri)
        if (
            candidate is not None
            and candidate.port != parts.port
            and _all_but_port(uri, candidate) == _all_but_port(given, parts)
        ):
            return uri
    return None
