"""The issuer doctor: does Mockgram's metadata agree with how AwesomeService is configured?

The URL split (README, "docker compose"): browsers reach Mockgram at its public URL
(AWESOMESERVICE_MOCKGRAM_URL, e.g. http://localhost:8001), AwesomeService's back end at its
internal URL (AWESOMESERVICE_MOCKGRAM_INTERNAL_URL, e.g. http://mockgram:8001). Getting one of the
two wrong is the most common way an OAuth demo in containers breaks, and the symptom — "issuer
mismatch" at the callback, or a browser sent to a host it cannot resolve — is far from the cause.

The doctor fetches Mockgram's metadata over the back channel (OIDC Discovery 1.0 §4, falling
back to RFC 8414 §3) and compares:
- its `issuer` with the configured public URL: they must be identical strings (RFC 8414 §3.3,
  OIDC Discovery §4.3), because the `iss` of every authorization response (RFC 9207 §2.4) and
  id_token (OIDC Core §3.1.3.7) is compared with it;
- its `authorization_endpoint` — where a browser is sent in step 1 — with the public URL's origin.
Each finding is ok, a warning or an error, says what it saw in one sentence, and the fix.

When "Log in with…" uses another provider (AWESOMESERVICE_LOGIN_ISSUER), its discovery document
is fetched too and its `issuer` compared with that setting the same way (OIDC Discovery §4.3).

It runs on the /doctor page, as `python -m awesomeservice doctor`, and once at start (a log
warning, never a crash).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from awesomeservice.settings import AwesomeServiceSettings
from shared.oauth_spec import OAUTH_METADATA_PATH, OIDC_DISCOVERY_PATH

Level = Literal["ok", "warning", "error"]
START_TIMEOUT_SECONDS = 2.0  # the check at start must not hold the app up for long
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
DNS_FAILURE_MARKERS = (
    "name or service not known",
    "temporary failure in name resolution",
    "nodename nor servname",
    "no address associated",
    "getaddrinfo failed",
)
PUBLIC_VAR = "AWESOMESERVICE_MOCKGRAM_URL"
INTERNAL_VAR = "AWESOMESERVICE_MOCKGRAM_INTERNAL_URL"
ISSUER_VAR = "MOCKGRAM_ISSUER"
LOGIN_ISSUER_VAR = "AWESOMESERVICE_LOGIN_ISSUER"

log = logging.getLogger("awesomeservice.doctor")


@dataclass(frozen=True)
class Finding:
    """One thing the doctor checked: its level, what it saw, and how to fix it."""

    level: Level
    topic: str
    message: str
    fix: str = ""


@dataclass(frozen=True)
class Diagnosis:
    """Everything compared, and what was found."""

    public_url: str
    internal_url: str
    metadata_url: str | None
    issuer: str | None
    authorization_endpoint: str | None
    findings: tuple[Finding, ...]

    @property
    def problems(self) -> list[Finding]:
        """The warnings and errors."""
        return [finding for finding in self.findings if finding.level != "ok"]

    @property
    def healthy(self) -> bool:
        """True when every finding is ok."""
        return not self.problems


# ── fetching the metadata ────────────────────────────────────────────────────────────────


def metadata_urls(internal_url: str) -> list[str]:
    """Where the metadata lives, reached through the internal URL, in the order tried."""
    parts = urlsplit(internal_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return [
        # OIDC Discovery §4.1: the well-known path is appended to the issuer.
        internal_url + OIDC_DISCOVERY_PATH,
        # RFC 8414 §3.1: the well-known path goes between the host and the issuer's path.
        origin + OAUTH_METADATA_PATH + parts.path,
    ]


class _Unusable(Exception):
    """The metadata could not be fetched or read; carries the finding that says why."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


def _transport_finding(exc: httpx.TransportError, url: str, timeout: float) -> Finding:
    """Explain why the back channel did not reach Mockgram, and what to check."""
    host = _host(url)
    port = urlsplit(url).port or (443 if url.startswith("https:") else 80)
    loopback_hint = (
        f" Inside a container, {host} is the container itself: set {INTERNAL_VAR} to Mockgram's "
        "service name, e.g. http://mockgram:8001."
        if host in LOOPBACK_HOSTS
        else ""
    )
    if isinstance(exc, httpx.TimeoutException):
        return Finding(
            "error",
            "Back channel",
            f"Mockgram's metadata at {url} did not answer within {timeout:g} seconds.",
            "Check that Mockgram is running and healthy (docker compose ps), and that "
            f"{INTERNAL_VAR} names it as AwesomeService's back end sees it." + loopback_hint,
        )
    text = str(exc).lower()
    if any(marker in text for marker in DNS_FAILURE_MARKERS):
        return Finding(
            "error",
            "Back channel",
            f"The name “{host}” in {INTERNAL_VAR} does not resolve from here.",
            f"Service names such as “{host}” exist only inside the compose network. Outside it, "
            f"leave {INTERNAL_VAR} unset (it defaults to {PUBLIC_VAR}) or use "
            "http://localhost:8001.",
        )
    if isinstance(exc, httpx.ConnectError):
        return Finding(
            "error",
            "Back channel",
            f"Connection to {host}:{port} was refused: nothing listens there.",
            "Start Mockgram (python -m mockgram, or docker compose up), check its port, and "
            f"that {INTERNAL_VAR} points at it." + loopback_hint,
        )
    return Finding(
        "error",
        "Back channel",
        f"Mockgram's metadata at {url} could not be fetched ({type(exc).__name__}).",
        f"Check that Mockgram is running and that {INTERNAL_VAR} points at it.",
    )


async def fetch_metadata(
    http: httpx.AsyncClient, internal_url: str, *, timeout: float
) -> tuple[str, dict[str, Any]]:
    """(the URL that answered, the document); raises _Unusable with the reason."""
    statuses: list[str] = []
    for url in metadata_urls(internal_url):
        try:
            response = await http.get(url, timeout=timeout)
        except httpx.TransportError as exc:
            raise _Unusable(_transport_finding(exc, url, timeout)) from exc
        if response.status_code != 200:
            statuses.append(f"{url} answered HTTP {response.status_code}")
            continue
        try:
            document = response.json()
        except ValueError as exc:
            raise _Unusable(
                Finding(
                    "error",
                    "Metadata",
                    f"{url} answered, but not with JSON: is {internal_url} really Mockgram?",
                    f"Point {INTERNAL_VAR} at Mockgram itself, not at another service or proxy.",
                )
            ) from exc
        # RFC 8414 §2 / OIDC Discovery §3: a JSON object whose `issuer` is REQUIRED.
        if not isinstance(document, dict) or not isinstance(document.get("issuer"), str):
            raise _Unusable(
                Finding(
                    "error",
                    "Metadata",
                    f"{url} answered JSON without an “issuer” (RFC 8414 §2 requires one).",
                    f"Point {INTERNAL_VAR} at Mockgram itself.",
                )
            )
        return url, document
    raise _Unusable(
        Finding(
            "error",
            "Metadata",
            "Mockgram was reached but has no metadata: " + "; ".join(statuses) + ".",
            f"Is {internal_url} Mockgram's root URL? {INTERNAL_VAR} must be the URL the "
            "well-known paths hang off, with no path such as /oauth.",
        )
    )


# ── comparing ────────────────────────────────────────────────────────────────────────────


def _port(url: str) -> int | None:
    parts = urlsplit(url)
    try:
        return parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None


def describe_difference(found: str, expected: str, *, internal_host: str) -> list[str]:
    """Name each way `found` differs from `expected`, in words; empty when they are equal."""
    if found == expected:
        return []
    if found.rstrip("/") == expected.rstrip("/"):
        return ["they differ only by a trailing slash, and issuers are compared as exact strings"]
    seen, wanted = urlsplit(found), urlsplit(expected)
    reasons: list[str] = []
    if seen.scheme != wanted.scheme:
        reasons.append(f"the scheme is {seen.scheme or '(none)'}, not {wanted.scheme}")
    seen_host, wanted_host = seen.hostname or "", wanted.hostname or ""
    if seen_host != wanted_host:
        if internal_host and seen_host == internal_host:
            reasons.append(
                f"the host is “{seen_host}”, the internal name only AwesomeService's back end "
                "can reach — a browser cannot resolve it"
            )
        else:
            reasons.append(f"the host is “{seen_host}”, not “{wanted_host}”")
    if _port(found) != _port(expected):
        reasons.append(f"the port is {_port(found)}, not {_port(expected)}")
    elif seen.netloc.lower() != wanted.netloc.lower() and seen_host == wanted_host:
        reasons.append("the port is written out in one and left implicit in the other")
    if seen.path.rstrip("/") != wanted.path.rstrip("/"):
        reasons.append(f"the path is “{seen.path or '/'}”, not “{wanted.path or '/'}”")
    elif seen.path != wanted.path:
        reasons.append("one ends with a slash and the other does not")
    if not reasons:
        reasons.append("they differ in letter case or spelling, and are compared as exact strings")
    return reasons


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _public_url_looks_internal(settings: AwesomeServiceSettings) -> bool:
    """A bare name like “mockgram” as the browser-facing host: a container's service name."""
    host = _host(settings.mockgram_url)
    return bool(host) and "." not in host and ":" not in host and host not in LOOPBACK_HOSTS


# When the public URL itself is wrong, no other fix should copy it anywhere.
FIX_PUBLIC_URL_FIRST = (
    f"First mend the public URL (see “Public URL”): {PUBLIC_VAR} and {ISSUER_VAR} both the URL "
    "a browser uses, e.g. http://localhost:8001."
)


def check_public_url(settings: AwesomeServiceSettings) -> list[Finding]:
    """Configuration alone: is the browser-facing URL one a browser can resolve?"""
    host = _host(settings.mockgram_url)
    if _public_url_looks_internal(settings):
        return [
            Finding(
                "warning",
                "Public URL",
                f"{PUBLIC_VAR} is {settings.mockgram_url}: browsers outside the compose network "
                f"usually cannot resolve “{host}”, which looks like a container's service name.",
                f"Set {PUBLIC_VAR} (and {ISSUER_VAR}) to the URL a browser uses, e.g. "
                f"http://localhost:8001, and put the service name in {INTERNAL_VAR}.",
            )
        ]
    return []


def check_issuer(issuer: str, settings: AwesomeServiceSettings) -> Finding:
    """The metadata's issuer against the configured public URL (RFC 8414 §3.3)."""
    expected = settings.mockgram_url
    internal_host = _internal_host(settings)
    if issuer == expected:
        return Finding(
            "ok",
            "Issuer",
            f"Mockgram's metadata names the issuer {issuer}, exactly the public URL "
            "AwesomeService expects.",
        )
    reasons = describe_difference(issuer, expected, internal_host=internal_host)
    if _public_url_looks_internal(settings):
        fix = FIX_PUBLIC_URL_FIRST
    elif internal_host and _host(issuer) == internal_host:
        fix = (
            f"Set {ISSUER_VAR} to the URL browsers use, {expected}; the internal URL belongs "
            f"only in {INTERNAL_VAR}."
        )
    else:
        fix = (
            f"Give {ISSUER_VAR} (Mockgram) and {PUBLIC_VAR} (AwesomeService) the same value, "
            "the URL browsers use to reach Mockgram."
        )
    return Finding(
        "error",
        "Issuer",
        f"Mockgram's metadata names the issuer {issuer}, but AwesomeService expects {expected}: "
        + "; ".join(reasons)
        + ". Every sign-in would be refused at the callback (RFC 9207 §2.4).",
        fix,
    )


def check_authorization_endpoint(endpoint: object, settings: AwesomeServiceSettings) -> Finding:
    """Where step 1 sends the browser: it must be on Mockgram's public origin."""
    if not isinstance(endpoint, str) or not endpoint:
        return Finding(
            "error",
            "Browser redirect",
            "The metadata has no authorization_endpoint, so there is nowhere to send a browser.",
            "Point the internal URL at Mockgram; its metadata lists one (RFC 8414 §2).",
        )
    expected = _origin(settings.mockgram_url)
    if _origin(endpoint) == expected:
        return Finding(
            "ok",
            "Browser redirect",
            f"Browsers are sent to {endpoint}, on Mockgram's public URL.",
        )
    internal_host = _internal_host(settings)
    reasons = describe_difference(_origin(endpoint), expected, internal_host=internal_host)
    return Finding(
        "error",
        "Browser redirect",
        f"Browsers would be sent to {endpoint}, not to Mockgram's public URL {expected}: "
        + "; ".join(reasons)
        + ".",
        FIX_PUBLIC_URL_FIRST
        if _public_url_looks_internal(settings)
        else f"Mockgram builds its endpoints from {ISSUER_VAR}: set it to {settings.mockgram_url}.",
    )


def check_client_secret(settings: AwesomeServiceSettings) -> list[Finding]:
    """Configuration alone: outside demo mode the client secret must be set (shared/demo.py)."""
    if settings.client_secret:
        return []
    return [
        Finding(
            "error",
            "Client secret",
            "AWESOMESERVICE_CLIENT_SECRET is not set, so Connect Mockgram and Log in with "
            "Mockgram cannot authenticate at the token endpoint (RFC 6749 §2.3).",
            "Set it to the secret Mockgram printed at its first start (or one of your choosing, "
            "set on both apps), or run both apps in demo mode (python3 scripts/demo.py).",
        )
    ]


async def check_login_issuer(
    http: httpx.AsyncClient, settings: AwesomeServiceSettings, *, timeout: float
) -> list[Finding]:
    """ "Log in with…" at another provider: its discovery document must name exactly the
    configured issuer (OIDC Discovery §4.3), or every id_token would be refused."""
    issuer = settings.login_issuer
    if issuer == settings.mockgram_url:
        return []  # the same provider as above: already compared
    name = settings.login_provider
    # OIDC Discovery §4.1: the well-known path appended to the issuer.
    url = issuer + OIDC_DISCOVERY_PATH
    try:
        response = await http.get(url, timeout=timeout)
        document = response.json() if response.status_code == 200 else None
    except httpx.TransportError as exc:
        return [
            Finding(
                "error",
                "Login issuer",
                f"{name}'s discovery document at {url} could not be fetched "
                f"({type(exc).__name__}): Log in with {name} will fail.",
                f"Check that {LOGIN_ISSUER_VAR} is the provider's issuer and that this server "
                "can reach it.",
            )
        ]
    except ValueError:
        document = None
    if not isinstance(document, dict) or not isinstance(document.get("issuer"), str):
        return [
            Finding(
                "error",
                "Login issuer",
                f"{url} answered HTTP {response.status_code} without a discovery document "
                "naming an issuer (OIDC Discovery §4.2).",
                f"{LOGIN_ISSUER_VAR} must be the issuer itself, the URL "
                "/.well-known/openid-configuration is appended to.",
            )
        ]
    named = document["issuer"]
    if named == issuer:
        return [
            Finding(
                "ok",
                "Login issuer",
                f"{name}'s discovery document names the issuer {named}, exactly "
                f"{LOGIN_ISSUER_VAR}.",
            )
        ]
    reasons = describe_difference(named, issuer, internal_host="")
    return [
        Finding(
            "error",
            "Login issuer",
            f"{name}'s discovery document names the issuer {named}, but {LOGIN_ISSUER_VAR} is "
            f"{issuer}: " + "; ".join(reasons) + ". Every login would be refused (OIDC "
            "Discovery §4.3, OIDC Core §3.1.3.7).",
            f"Set {LOGIN_ISSUER_VAR} to {named}, character for character.",
        )
    ]


def _internal_host(settings: AwesomeServiceSettings) -> str:
    """The internal URL's host, when it differs from the public one (else nothing leaks)."""
    internal, public = _host(settings.back_channel_url), _host(settings.mockgram_url)
    return internal if internal != public else ""


async def diagnose(
    http: httpx.AsyncClient, settings: AwesomeServiceSettings, *, timeout: float | None = None
) -> Diagnosis:
    """Fetch the metadata over the back channel and compare; never raises for what it finds."""
    timeout = settings.http_timeout_seconds if timeout is None else timeout
    findings = check_public_url(settings) + check_client_secret(settings)
    metadata_url: str | None = None
    issuer: str | None = None
    endpoint: str | None = None
    try:
        metadata_url, document = await fetch_metadata(
            http, settings.back_channel_url, timeout=timeout
        )
    except _Unusable as exc:
        findings.append(exc.finding)
    else:
        issuer = document["issuer"]
        raw_endpoint = document.get("authorization_endpoint")
        endpoint = raw_endpoint if isinstance(raw_endpoint, str) else None
        findings.append(
            Finding("ok", "Back channel", f"Fetched Mockgram's metadata from {metadata_url}.")
        )
        findings.append(check_issuer(issuer, settings))
        findings.append(check_authorization_endpoint(raw_endpoint, settings))
    findings += await check_login_issuer(http, settings, timeout=timeout)
    return Diagnosis(
        public_url=settings.mockgram_url,
        internal_url=settings.back_channel_url,
        metadata_url=metadata_url,
        issuer=issuer,
        authorization_endpoint=endpoint,
        findings=tuple(findings),
    )


# ── at start, and on the command line ────────────────────────────────────────────────────


async def check_on_start(http: httpx.AsyncClient, settings: AwesomeServiceSettings) -> None:
    """Run once as the app starts: log each problem as a warning; never raise, never wait long."""
    if not settings.doctor_on_start:
        return
    try:
        diagnosis = await diagnose(
            http, settings, timeout=min(settings.http_timeout_seconds, START_TIMEOUT_SECONDS)
        )
    except Exception:  # the doctor must never stop the app from starting
        log.warning("issuer doctor: the check itself failed", exc_info=True)
        return
    for finding in diagnosis.problems:
        log.warning("issuer doctor: %s: %s Fix: %s", finding.topic, finding.message, finding.fix)
    if diagnosis.healthy:
        log.info("issuer doctor: Mockgram's metadata agrees with this configuration")
    else:
        log.warning("issuer doctor: see /doctor or run: python -m awesomeservice doctor")


def render_text(diagnosis: Diagnosis) -> str:
    """The diagnosis as plain text, for the terminal."""
    rows = [
        (f"public URL ({PUBLIC_VAR})", diagnosis.public_url),
        (f"internal URL ({INTERNAL_VAR})", diagnosis.internal_url),
        ("metadata fetched from", diagnosis.metadata_url or "—"),
        ("issuer in the metadata", diagnosis.issuer or "—"),
        ("browsers are sent to", diagnosis.authorization_endpoint or "—"),
    ]
    width = max(len(label) for label, _ in rows)
    lines = ["Issuer doctor: Mockgram as AwesomeService sees it", ""]
    lines += [f"  {label.ljust(width)}  {value}" for label, value in rows]
    lines.append("")
    for finding in diagnosis.findings:
        lines.append(f"[{finding.level}] {finding.topic}: {finding.message}")
        if finding.fix:
            lines.append(f"    fix: {finding.fix}")
    lines.append("")
    count = len(diagnosis.problems)
    lines.append(
        "Everything agrees." if not count else f"{count} problem{'s' if count != 1 else ''} found."
    )
    return "\n".join(lines)


async def run_cli(
    settings: AwesomeServiceSettings, *, transport: httpx.AsyncBaseTransport | None = None
) -> tuple[int, str]:
    """`python -m awesomeservice doctor`: (exit code 0 ok / 1 problems, the text to print)."""
    async with httpx.AsyncClient(
        timeout=settings.http_timeout_seconds, transport=transport, follow_redirects=False
    ) as http:
        diagnosis = await diagnose(http, settings)
    return (0 if diagnosis.healthy else 1), render_text(diagnosis)
