"""Where the OAuth debugger and the provider check-up may send AwesomeService's server:
Mockgram, or public https only — and, in demo mode, a provider on this machine too.

The debugger fetches a discovery document from a URL the reader types, then calls the token
endpoint and key set that document names. Unchecked, that is server-side request forgery: the
server would knock on its own loopback, the private network or a cloud metadata address, and
show what answered. So every such URL must be Mockgram's own (the configured public URL), or
https to a host whose every address is a public one, checked when the debugger is about to use
it. (A name may resolve differently a moment later; the check narrows the door, a network
policy on the host closes it.)

Demo mode runs on a laptop beside a local provider (a Keycloak on http://localhost:8080), so
there a host whose every address is loopback may be called too, over http or https; private
networks and cloud metadata addresses stay closed even then.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import SplitResult, urlsplit

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


def is_loopback(address: str) -> bool:
    """127.0.0.0/8 or ::1 (an IPv4-mapped loopback address included)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


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
    """Checks a URL before the debugger's server calls it; `resolver` is replaceable in tests.
    `allow_loopback` (demo mode) lets it call a provider on this machine as well."""

    def __init__(
        self,
        settings: AwesomeServiceSettings,
        resolver: Resolver = resolve,
        *,
        allow_loopback: bool | None = None,
    ) -> None:
        self.settings = settings
        self.resolver = resolver
        self.allow_loopback = settings.demo if allow_loopback is None else allow_loopback

    async def check(self, url: str, *, what: str) -> None:
        """Raise ForbiddenDestination unless `url` is Mockgram's or public https (or, in demo
        mode, on this machine's loopback)."""
        if on_mockgram(url, self.settings):
            return
        parts = urlsplit(url)
        if (
            self.allow_loopback
            and parts.scheme in ("http", "https")
            and parts.hostname
            and await self._all_loopback(parts.hostname, parts)
        ):
            return  # demo mode: a provider running beside it on this machine
        if parts.scheme != "https" or not parts.hostname:
            raise ForbiddenDestination(
                f"The {what} must be an https:// address (plain http only for Mockgram itself"
                + (", and for this machine in demo mode)." if self.allow_loopback else ").")
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

    async def _all_loopback(self, host: str, parts: SplitResult) -> bool:
        """Whether every address of `host` is a loopback one (False when it does not resolve)."""
        try:
            addresses = await self.resolver(host, parts.port or 443)
        except (OSError, ValueError, TimeoutError):
            return False
        return bool(addresses) and all(is_loopback(address) for address in addresses)
