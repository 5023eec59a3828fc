"""Which client address to believe: the peer's, or X-Forwarded-For from a proxy we trust.

Sign-in throttling counts failures per client address, so that address must not be whatever a
client writes into a header. Each app's `forwarded_allow_ips` setting names the proxies in
front of it (addresses or networks, comma-separated; `*` trusts every peer, for a platform whose
own proxy is the only way in). Only a request whose peer is one of them has its X-Forwarded-For
(the last address not itself a trusted proxy) and X-Forwarded-Proto applied; from anyone else
the headers are ignored. Empty: no proxy is trusted. The default, 127.0.0.1, is uvicorn's: a
reverse proxy on the same host works unchanged, and a direct client is never a loopback peer.

It is applied inside the app (uvicorn's ProxyHeadersMiddleware), not by the server's flags, so
one setting holds however the app is served and tests see exactly what production does;
shared/serve.py keeps uvicorn's own proxy handling off.
"""

from __future__ import annotations

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware


def trust_forwarded_headers(app: FastAPI, forwarded_allow_ips: str) -> None:
    """Add last (outermost), so every part of the app sees the believed client address."""
    trusted = [item.strip() for item in forwarded_allow_ips.split(",") if item.strip()]
    if trusted:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted)
