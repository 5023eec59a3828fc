"""What the check-up sends a provider and how it reads the answers — the client side's view of
the authorization server's rules (SECURITY-CHECKLIST.md items 1, 6, 9, 12, 13, 15, 18, 24).

Two kinds of probe. Near-miss redirect URIs are sent from this server (no browser, no session):
a provider that checks `redirect_uri` exactly refuses them with a 400 page before anyone signs
in. Everything that needs a code goes through the person's browser (awesomeservice/checkup/
legs.py), and the code is then tried here at the token endpoint in the ways an attacker would.
Every call goes through the app's one HTTP client (its timeout) on the back channel.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import httpx

from awesomeservice.backchannel import MockgramUnavailable, back_channel, send
from awesomeservice.checkup.rows import result
from awesomeservice.oauth import token_endpoint
from awesomeservice.settings import AwesomeServiceSettings
from shared import pkce
from shared.oauth_spec import new_state

# What a provider would have to invent to grant: no provider defines it.
UNKNOWN_SCOPE = "checkup-no-such-scope"
# Printable characters a careless provider re-encodes, trims or drops: space, plus, slash,
# equals and tilde (RFC 6749 Appendix A.5: state is any VSCHAR).
STATE_TAIL = " +/=~"
TOKEN_PARAMETERS = ("access_token", "id_token", "refresh_token", "token")


def checkup_state() -> str:
    """An unguessable state (RFC 6749 §10.12) with characters that must come back unchanged."""
    return new_state() + STATE_TAIL


def _netloc(host: str, port: int | None) -> str:
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port is not None else host


def near_misses(registered: str) -> list[tuple[str, str]]:
    """(row key, URI) for each near miss of the registered redirect URI (RFC 9700 §4.1.3)."""
    parts = urlsplit(registered)
    host = parts.hostname or ""
    default_port = 443 if parts.scheme == "https" else 80
    other_port = (parts.port or default_port) + 1
    other_scheme = "http" if parts.scheme == "https" else "https"

    def build(*, scheme: str = parts.scheme, netloc: str = parts.netloc, path: str = parts.path):
        return urlunsplit((scheme, netloc, path, parts.query, ""))

    return [
        ("redirect_trailing_slash", build(path=parts.path + "/")),
        ("redirect_extra_path", build(path=parts.path.rstrip("/") + "/extra")),
        ("redirect_other_port", build(netloc=_netloc(host, other_port))),
        ("redirect_other_host", build(netloc=_netloc("attacker.example", parts.port))),
        ("redirect_scheme", build(scheme=other_scheme)),
    ]


def port_may_vary(registered: str) -> bool:
    """RFC 8252 §7.3: a redirect URI on a loopback IP literal may come back on any port, so
    another port is no near miss there (a name such as localhost gets no such leeway)."""
    host = urlsplit(registered).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _same_place(url: str, other: str) -> bool:
    """Scheme, host, port and path equal: where a browser would land."""
    a, b = urlsplit(url), urlsplit(other)
    try:
        return (a.scheme, a.hostname, a.port, a.path) == (b.scheme, b.hostname, b.port, b.path)
    except ValueError:
        return False


@dataclass(frozen=True)
class Probe:
    """The authorization endpoint's answer to one request sent from this server."""

    status: int
    location: str  # the redirect's target, absolute; "" when it did not redirect
    failure: str = ""  # why there is no answer (timeout, unreachable)


async def probe_authorization(
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    authorization_endpoint: str,
    *,
    client_id: str,
    redirect_uri: str,
    scope: str,
) -> Probe:
    """GET one otherwise valid code request (PKCE S256) without a session; never followed."""
    parameters = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", scope),
        ("state", new_state()),
        ("code_challenge", pkce.s256_challenge(pkce.make_verifier())),
        ("code_challenge_method", "S256"),
    ]
    separator = "&" if "?" in authorization_endpoint else "?"
    url = f"{authorization_endpoint}{separator}{urlencode(parameters)}"
    try:
        response = await send(http, "GET", back_channel(url, settings))
    except MockgramUnavailable as exc:
        return Probe(0, "", exc.kind)
    location = response.headers.get("location", "")
    return Probe(
        response.status_code, urljoin(authorization_endpoint, location) if location else ""
    )


def registered_uri_accepted(probe: Probe) -> bool:
    """The control probe: the registered URI must not be refused, or near misses prove nothing."""
    return not probe.failure and not 400 <= probe.status < 500


def judge_near_miss(probe: Probe, variant: str, registered: str, endpoint: str) -> dict[str, str]:
    """RFC 6749 §4.1.2.1: a wrong redirect_uri is never redirected to — not even the registered
    one (the OpenID conformance suite's oidcc-ensure-registered-redirect-uri)."""
    if probe.failure:
        return result("not_run", f"No answer from the authorization endpoint ({probe.failure}).")
    if probe.location and _same_place(probe.location, variant):
        return result("fail", f"Redirected to the near miss {variant} (HTTP {probe.status}).")
    if probe.location and _same_place(probe.location, registered):
        return result(
            "fail", "Redirected to the registered URI instead of refusing with a page of its own."
        )
    if 400 <= probe.status < 500:
        return result("pass", f"Refused {variant} with HTTP {probe.status}, no redirect.")
    if probe.status >= 500:
        return result("warn", f"Answered {variant} with a server error (HTTP {probe.status}).")
    origin = urlsplit(endpoint)
    where = urlsplit(probe.location) if probe.location else origin
    if where.netloc == origin.netloc:
        return result(
            "not_run",
            f"The provider answered HTTP {probe.status} on its own site (a sign-in page?) "
            "before checking the redirect URI; what it does after sign-in cannot be seen from "
            "here.",
        )
    return result("warn", f"Redirected somewhere unexpected: {probe.location[:200]}")


# ── Step 4: the authorization response (RFC 6749 §4.1.2, RFC 9207) ─────────────────────────


def judge_state(received: Mapping[str, str], sent: str) -> dict[str, str]:
    """RFC 6749 §4.1.2: "the exact value received from the client"."""
    if "state" not in received:
        return result("fail", "The answer carried no state.")
    if received["state"] != sent:
        return result("fail", f"state came back as {received['state'][:80]!r}, not {sent!r}.")
    return result("pass", f"Came back exactly, spaces and {STATE_TAIL.strip()} included.")


def judge_iss(received: Mapping[str, str], issuer: str, advertised: bool) -> dict[str, str]:
    """RFC 9207 §2: iss in the response; §2.4: compared as a plain string with the issuer."""
    if "iss" not in received:
        said = "though its metadata advertises it" if advertised else "and its metadata does not"
        return result("fail", f"No iss in the authorization response, {said}.")
    if received["iss"] != issuer:
        return result("fail", f"iss is {received['iss'][:120]!r}, not the issuer {issuer!r}.")
    return result("pass", "iss equals the issuer" + (", as advertised." if advertised else "."))


def judge_query(received: Mapping[str, str]) -> dict[str, str]:
    """RFC 9700 §4.3.2: tokens never in a URL's query."""
    found = [name for name in TOKEN_PARAMETERS if name in received]
    if found:
        return result("fail", f"The redirect's query carried {', '.join(found)}.")
    return result("pass", "No token in the redirect's query string.")


# ── Step 5: the token endpoint, as an attacker would use it (RFC 6749 §4.1.3, §6) ───────────


@dataclass(frozen=True)
class TokenAnswer:
    """The token endpoint's answer: its status and JSON body (empty when not JSON)."""

    status: int
    body: dict[str, Any]
    failure: str = ""

    @property
    def granted(self) -> bool:
        return 200 <= self.status < 300 and isinstance(self.body.get("access_token"), str)

    @property
    def error(self) -> str:
        return str(self.body.get("error", ""))[:64] or f"HTTP {self.status}"


@dataclass(frozen=True)
class Client:
    """Who the check-up is at the provider: its token endpoint and client authentication."""

    token_endpoint: str
    client: token_endpoint.Client


async def token_request(
    http: httpx.AsyncClient, settings: AwesomeServiceSettings, client: Client, form: dict[str, str]
) -> TokenAnswer:
    """One POST to the token endpoint, authenticated as the client (RFC 6749 §2.3)."""
    try:
        response = await token_endpoint.post(
            http, back_channel(client.token_endpoint, settings), client.client, form
        )
    except MockgramUnavailable as exc:
        return TokenAnswer(0, {}, exc.kind)
    try:
        body = response.json()
    except ValueError:
        body = {}
    return TokenAnswer(response.status_code, body if isinstance(body, dict) else {})


def code_form(code: str, redirect_uri: str, verifier: str | None) -> dict[str, str]:
    """RFC 6749 §4.1.3 with RFC 7636 §4.5 — or without the verifier, as an attacker would."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        form["code_verifier"] = verifier
    return form


def wrong_verifier() -> str:
    """A well-formed verifier that is not the one behind the challenge (RFC 7636 §4.1)."""
    return pkce.make_verifier()


def judge_refused(answer: TokenAnswer, what: str) -> dict[str, str]:
    """The token endpoint must refuse `what` (RFC 6749 §5.2: invalid_grant)."""
    if answer.failure:
        return result("not_run", f"No answer from the token endpoint ({answer.failure}).")
    if answer.granted:
        return result("fail", f"Tokens were issued for {what}.")
    if answer.status >= 500:
        return result("warn", f"{what[:1].upper()}{what[1:]} gave a server error, not a refusal.")
    return result("pass", f"Refused {what}: {answer.error} (HTTP {answer.status}).")


async def refresh_checks(
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    client: Client,
    refresh_token: str | None,
) -> dict[str, dict[str, str]]:
    """RFC 9700 §4.14.2: refresh once, reuse the old token, then try the newest one."""
    if not refresh_token:
        why = "The provider issued no refresh token (some issue one only for offline_access)."
        return {"refresh_rotation": result("not_run", why), "refresh_reuse": result("not_run", why)}
    first = await token_request(
        http, settings, client, {"grant_type": "refresh_token", "refresh_token": refresh_token}
    )
    if not first.granted:
        why = f"The first refresh was refused: {first.failure or first.error}."
        return {"refresh_rotation": result("not_run", why), "refresh_reuse": result("not_run", why)}
    newest = first.body.get("refresh_token")
    if not isinstance(newest, str) or newest == refresh_token:
        # §4.14.2 asks confidential clients' tokens to be rotated or sender-constrained; client
        # authentication is the latter, so a kept token is a warning, not a failure, for them.
        rotation = result(
            "warn",
            "The refresh did not rotate the refresh token (allowed for confidential clients "
            "only, RFC 9700 §4.14.2).",
        )
        return {"refresh_rotation": rotation, "refresh_reuse": result("not_run", "No rotation.")}
    rotation = result("pass", "A new refresh token came with the new access token.")
    reuse = await token_request(
        http, settings, client, {"grant_type": "refresh_token", "refresh_token": refresh_token}
    )
    if reuse.granted:
        return {
            "refresh_rotation": rotation,
            "refresh_reuse": result("fail", "The rotated-out refresh token still worked."),
        }
    if reuse.failure:
        why = f"No answer from the token endpoint ({reuse.failure})."
        return {"refresh_rotation": rotation, "refresh_reuse": result("not_run", why)}
    after = await token_request(
        http, settings, client, {"grant_type": "refresh_token", "refresh_token": newest}
    )
    if after.granted:
        detail = (
            f"The old token was refused ({reuse.error}), but the newest one still works: the "
            "reuse did not revoke the grant (RFC 9700 §4.14.2)."
        )
        return {"refresh_rotation": rotation, "refresh_reuse": result("warn", detail)}
    detail = f"The old token was refused ({reuse.error}) and the newest one was revoked with it."
    return {"refresh_rotation": rotation, "refresh_reuse": result("pass", detail)}
