"""Where the OAuth debugger may send AwesomeService's server: Mockgram, or public https only.

The debugger fetches a discovery document from a URL the reader types, then calls the token
endpoint and key set that document names. Unchecked, that is server-side request forgery: the
server would knock on its own loopback, the private network or a cloud metadata address, and
show what answered. So every such URL must be Mockgram's own (the configured public URL), or
https to a host whose every address is a public one, checked when the debugger is about to use
it. (A name may resolve differently a moment later; the check narrows the door, a network
policy on the host closes it.)
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from awesomeservice.backchannel import on_mockgram
from awesomeservice.settings import AwesomeServiceSettings

Resolver = Callable[[str, int], Awaitable[list[str]]]
RESOLVE_TIMEOUT_SECONDS = 3.0


class ForbiddenDestination(ValueError):
    """A URL the debugger will not call, with the reason in words."""


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (IPv4 and IPv6)."""
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(
        loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_SECONDS
    )
    return [str(info[4][0]) for info in infos]


def is_public(address: str) -> bool:
    """A globally routable unicast address: not loopback, private, link-local or reserved."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class DestinationGuard:
    """Checks a URL before the debugger's server calls it; `resolver` is replaceable in tests."""

    def __init__(self, settings: AwesomeServiceSettings, resolver: Resolver = resolve) -> None:
        self.settings = settings
        self.resolver = resolver

    async def check(self, url: str, *, what: str) -> None:
        """Raise ForbiddenDestination unless `url` is Mockgram's or public https."""
        if on_mockgram(url, self.settings):
            return
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise ForbiddenDestination(
                f"The {what} must be an https:// address (plain http only for Mockgram itself)."
            )
        try:
            port = parts.port or 443
            addresses = await self.resolver(parts.hostname, port)
        except (OSError, ValueError, TimeoutError) as exc:
            raise ForbiddenDestination(
                f"The {what}'s host “{parts.hostname}” could not be resolved."
            ) from exc
        if not addresses or not all(is_public(address) for address in addresses):
            raise ForbiddenDestination(
                f"The {what}'s host “{parts.hostname}” is on a loopback, private or link-local "
                "address: the debugger calls only public servers (and Mockgram), never this "
                "machine's own network."
            )
