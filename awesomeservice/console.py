"""The request console's rules: whose tokens, which requests, where they may go.

The console lets a reader send hand-made requests to Mockgram with their own tokens: the photos
API and userinfo with the access token as a Bearer token (RFC 6750 §2.1), introspection
(RFC 7662), the refresh_token grant (RFC 6749 §6) and revocation (RFC 7009).

Three rules keep it from being a hole in the print shop:
- Server-side request forgery: the URL's origin must be Mockgram's configured public origin,
  compared as scheme, host and port after parsing; nothing else is called (`check_destination`).
- Ownership: tokens are not typed in. The form says `{access_token}`, `{refresh_token}` or
  `{old_refresh_token}` and the server fills in the tokens of the signed-in user's own connection
  (or of the debugger's answer in this browser). With the client's credentials attached, the
  token in the body must be one of those (`check_tokens`): else the console would lend the print
  shop's identity to any refresh token a visitor found.
- The client secret: the form says `Authorization: Basic {client_credentials}`; the server puts
  the real Basic value in when it sends, and every page shows it as `Basic ****`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import httpx

from awesomeservice.backchannel import MockgramUnavailable, back_channel, on_mockgram, send
from awesomeservice.oauth.token_endpoint import client_secret_basic
from awesomeservice.settings import AwesomeServiceSettings

CREDENTIALS = "{client_credentials}"
BASIC_PLACEHOLDER = f"Basic {CREDENTIALS}"
TOKEN_PLACEHOLDERS = ("{access_token}", "{refresh_token}", "{old_refresh_token}")
METHODS = ("GET", "POST", "DELETE", "PUT", "PATCH", "HEAD")
# Set by httpx from the URL and body; a hand-written one would only confuse the lesson.
DROPPED_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "cookie", "te", "upgrade"}
)
MAX_FIELD = 8000
MAX_SHOWN_BODY = 20_000
# Fields of a token, introspection or revocation request that carry a token (RFC 6749 §6,
# RFC 7662 §2.1, RFC 7009 §2.1).
TOKEN_FIELDS = ("token", "refresh_token")


class ConsoleRefused(ValueError):
    """A request the console will not send, with the reason in words."""


@dataclass(frozen=True)
class TokenSource:
    """Whose tokens the console fills in, and the client they were issued to."""

    kind: str  # "connection" (John's print-shop connection) or "debugger"
    client_id: str
    client_secret: str  # never shown; "" when the console cannot authenticate as that client
    access_token: str
    refresh_token: str
    old_refresh_token: str

    def value_of(self, placeholder: str) -> str:
        return {
            "{access_token}": self.access_token,
            "{refresh_token}": self.refresh_token,
            "{old_refresh_token}": self.old_refresh_token,
        }[placeholder]

    @property
    def own_tokens(self) -> set[str]:
        return {t for t in (self.access_token, self.refresh_token, self.old_refresh_token) if t}


@dataclass
class Composed:
    """The request as the reader wrote it (placeholders and all)."""

    method: str
    url: str
    headers: str
    body: str


@dataclass
class Sent:
    """What went over the wire and what came back, ready for the page."""

    raw_request: str
    curl: str
    status: int = 0
    raw_response: str = ""
    json: object = None
    error: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Preset:
    """One prefilled request of the builder."""

    key: str
    label: str
    method: str
    endpoint: str  # a discovery-document field, or "photos" for the photos API
    headers: str
    body: str
    what: str


_BEARER = "Authorization: Bearer {access_token}"
_FORM = f"Authorization: {BASIC_PLACEHOLDER}\nContent-Type: application/x-www-form-urlencoded"
PRESETS: tuple[Preset, ...] = (
    Preset("photos", "Photos API", "GET", "photos", _BEARER, "", "Step 6: RFC 6750 §2.1"),
    Preset("userinfo", "Userinfo", "GET", "userinfo_endpoint", _BEARER, "", "OIDC Core §5.3"),
    Preset(
        "introspect",
        "Introspect the access token",
        "POST",
        "introspection_endpoint",
        _FORM,
        "token={access_token}&token_type_hint=access_token",
        "RFC 7662 §2",
    ),
    Preset(
        "introspect_refresh",
        "Introspect the refresh token",
        "POST",
        "introspection_endpoint",
        _FORM,
        "token={refresh_token}&token_type_hint=refresh_token",
        "RFC 7662 §2",
    ),
    Preset(
        "refresh",
        "Refresh",
        "POST",
        "token_endpoint",
        _FORM,
        "grant_type=refresh_token&refresh_token={refresh_token}",
        "RFC 6749 §6; rotation: RFC 9700 §4.14.2",
    ),
    Preset(
        "replay",
        "Replay the old refresh token",
        "POST",
        "token_endpoint",
        _FORM,
        "grant_type=refresh_token&refresh_token={old_refresh_token}",
        "RFC 9700 §4.14.2: reuse revokes the grant",
    ),
    Preset(
        "revoke",
        "Revoke the refresh token",
        "POST",
        "revocation_endpoint",
        _FORM,
        "token={refresh_token}&token_type_hint=refresh_token",
        "RFC 7009 §2.1",
    ),
)
PRESET_BY_KEY = {preset.key: preset for preset in PRESETS}


def preset_request(preset: Preset, document: dict[str, object], issuer: str) -> Composed:
    """The preset, its URL taken from Mockgram's discovery document."""
    if preset.endpoint == "photos":
        url = f"{issuer}/api/photos"
    else:
        named = document.get(preset.endpoint)
        url = named if isinstance(named, str) else f"{issuer}/(no {preset.endpoint} advertised)"
    return Composed(preset.method, url, preset.headers, preset.body)


# ── The three rules ─────────────────────────────────────────────────────────────────────────


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError as exc:
        raise ConsoleRefused("That URL's port is not a number.") from exc
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port or default


def check_destination(url: str, settings: AwesomeServiceSettings) -> None:
    """SSRF: the URL must be on Mockgram's configured origin, and nothing else."""
    mockgram = settings.mockgram_url
    parts = urlsplit(url)
    if any(ch in url for ch in "\\\r\n\t ") or parts.username or parts.password:
        raise ConsoleRefused(
            "That URL carries characters or a user part the console does not send."
        )
    if _origin(url) != _origin(mockgram) or not on_mockgram(url, settings):
        raise ConsoleRefused(
            f"The console sends requests only to Mockgram, at {mockgram}. “{url[:200]}” is "
            "elsewhere, so nothing was sent: a server that fetches any URL a visitor types "
            "can be made to knock on its own network (server-side request forgery)."
        )


def parse_headers(text: str) -> list[tuple[str, str]]:
    """`Name: value` lines; blank lines skipped, hop-by-hop and Host headers dropped."""
    headers = []
    for line in text.splitlines():
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not name or not all(33 <= ord(c) < 127 and c != ":" for c in name):
            raise ConsoleRefused(f"“{line[:80]}” is not a header line (Name: value).")
        if name.lower() not in DROPPED_HEADERS:
            headers.append((name, value.strip()))
    return headers


def fill(text: str, source: TokenSource) -> str:
    """Put the source's tokens where the placeholders are."""
    for placeholder in TOKEN_PLACEHOLDERS:
        if placeholder in text:
            value = source.value_of(placeholder)
            if not value:
                raise ConsoleRefused(f"There is no {placeholder.strip('{}')} to put in.")
            text = text.replace(placeholder, value)
    return text


def check_tokens(body: str, source: TokenSource) -> None:
    """With the client's credentials, only the source's own tokens may be sent."""
    for name, value in parse_qsl(body, keep_blank_values=True):
        if name in TOKEN_FIELDS and value not in source.own_tokens:
            raise ConsoleRefused(
                f"With {source.client_id}'s client credentials the console sends only your "
                f"own tokens (written as placeholders); the {name} given is not one of them."
            )
        if name == "client_secret":
            raise ConsoleRefused("The console adds the client's credentials itself.")


# ── Sending ──────────────────────────────────────────────────────────────────────────────────


def _shown_headers(headers: list[tuple[str, str]], source: TokenSource) -> list[tuple[str, str]]:
    """Headers as shown: the Basic credentials hidden, tokens shortened."""
    shown = []
    for name, value in headers:
        if name.lower() == "authorization" and value.lower().startswith("basic"):
            value = f"Basic **** ({source.client_id}:client secret, hidden)"
        shown.append((name, shorten_tokens(value, source)))
    return shown


def shorten_tokens(text: str, source: TokenSource) -> str:
    """Each of the source's tokens cut to its first 12 characters."""
    for token in sorted(source.own_tokens, key=len, reverse=True):
        text = text.replace(token, f"{token[:12]}…")
    return text


def _curl(method: str, url: str, headers: list[tuple[str, str]], body: str) -> str:
    """The same request for a terminal; the secret left to an environment variable."""

    def quoted(value: str) -> str:
        return "'" + value.replace("'", "'\\''") + "'"

    parts = ["curl", "-i"]
    if method != "GET":
        parts += ["-X", method]
    parts.append(quoted(url))
    for name, value in headers:
        if name.lower() == "authorization" and value == BASIC_PLACEHOLDER:
            parts += ["-u", '"$CLIENT_ID:$CLIENT_SECRET"']
        else:
            parts += ["-H", quoted(f"{name}: {value}")]
    if body:
        parts += ["--data", quoted(body)]
    return " \\\n  ".join([" ".join(parts[:2]), *_pairs(parts[2:])])


def _pairs(items: list[str]) -> list[str]:
    """curl's arguments, an option with its value per line."""
    lines: list[str] = []
    for item in items:
        if lines and lines[-1].startswith("-") and " " not in lines[-1]:
            lines[-1] += " " + item
        else:
            lines.append(item)
    return lines


def _raw_response(response: httpx.Response) -> tuple[str, object]:
    lines = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
    lines += [f"{name}: {value}" for name, value in response.headers.items()]
    content_type = response.headers.get("content-type", "")
    parsed: object = None
    if content_type.startswith("image/"):
        body = f"({len(response.content)} bytes of {content_type})"
    else:
        body = response.text[:MAX_SHOWN_BODY]
        try:
            parsed = response.json()
            body = json.dumps(parsed, indent=2, ensure_ascii=False)[:MAX_SHOWN_BODY]
        except ValueError:
            parsed = None
    return "\n".join(lines) + "\n\n" + body, parsed


async def send_composed(
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    source: TokenSource,
    composed: Composed,
) -> Sent:
    """Check the three rules, send the request over the back channel, and show both sides."""
    method = composed.method.upper()
    if method not in METHODS:
        raise ConsoleRefused(f"Pick a method: {', '.join(METHODS)}.")
    url = composed.url.strip()
    check_destination(url, settings)
    written = parse_headers(composed.headers)
    body = fill(composed.body.strip(), source)
    headers = [(name, fill(value, source)) for name, value in written]
    url = fill(url, source)
    check_destination(url, settings)  # again: a token is never a way out
    if any(CREDENTIALS in part for part in (url, body)):
        raise ConsoleRefused("{client_credentials} belongs in an Authorization: Basic header.")
    if any(CREDENTIALS in value for _name, value in headers):
        if not source.client_secret:
            raise ConsoleRefused(
                f"The console does not hold {source.client_id}'s secret, so it cannot "
                "authenticate as that client."
            )
        check_tokens(body, source)
    real_basic = client_secret_basic(source.client_id, source.client_secret)
    to_send = [
        (name, real_basic if value == BASIC_PLACEHOLDER else value) for name, value in headers
    ]
    if any(CREDENTIALS in value for _name, value in to_send):
        raise ConsoleRefused(
            "Write the credentials header as “Authorization: Basic {client_credentials}”."
        )
    path = urlsplit(url)
    target = path.path + (f"?{path.query}" if path.query else "")
    shown = [f"{method} {target or '/'} HTTP/1.1", f"Host: {path.netloc}"]
    shown += [f"{name}: {value}" for name, value in _shown_headers(to_send, source)]
    raw_request = "\n".join(shown) + ("\n\n" + shorten_tokens(body, source) if body else "")
    sent = Sent(
        raw_request=raw_request,
        curl=_curl(method, fill(composed.url.strip(), source), headers, body),
    )
    try:
        response = await send(
            http,
            method,
            back_channel(url, settings),
            headers=dict(to_send),
            content=body.encode("utf-8") if body else None,
        )
    except MockgramUnavailable as exc:
        waited = settings.http_timeout_seconds
        sent.error = f"No answer: {exc.detail} (the console waits {waited:g} s at most)"
        return sent
    sent.status = response.status_code
    sent.raw_response, sent.json = _raw_response(response)
    return sent


def refresh_outcome(body: str, source: TokenSource, sent: Sent) -> tuple[str, str] | None:
    """("rotated", new refresh token) or ("replayed", ""): what a refresh_token grant showed."""
    form = dict(parse_qsl(body, keep_blank_values=True))
    if form.get("grant_type") != "refresh_token":
        return None
    presented = form.get("refresh_token", "")
    answer = sent.json if isinstance(sent.json, dict) else {}
    new = answer.get("refresh_token")
    if sent.status == 200 and presented == source.refresh_token and isinstance(new, str):
        return "rotated", new
    if presented and presented == source.old_refresh_token and answer.get("error"):
        return "replayed", ""
    return None
