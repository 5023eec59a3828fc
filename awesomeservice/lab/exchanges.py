"""What the lab shows for each request it makes: method, URL, headers, body — secrets masked."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import httpx

# Values the page never shows whole: enough to recognise them, never enough to use them.
MASKED = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "code",
        "client_secret",
        "code_verifier",
        "state",
        "password",
        "csrf_token",
    }
)
SHOWN_RESPONSE_HEADERS = ("location", "www-authenticate", "content-type", "cache-control")


def mask(value: str) -> str:
    """The first characters of a secret and its length: 'eyJhbGci… (812 characters)'."""
    return f"{value[:8]}… ({len(value)} characters)" if len(value) > 8 else "…"


def mask_pairs(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, mask(v) if k in MASKED else v) for k, v in pairs]


def _shown_pairs(encoded: str) -> str:
    """A query or fragment for reading: secrets masked and left unencoded, the rest as sent."""
    pairs = parse_qsl(encoded, keep_blank_values=True)
    return "&".join(
        f"{quote(k, safe='')}={mask(v) if k in MASKED else quote(v, safe='')}" for k, v in pairs
    )


def mask_url(url: str) -> str:
    """A URL with secret query and fragment parameters masked: 'code=fCEEpHSy… (43 characters)'."""
    parts = urlsplit(url)
    query, fragment = _shown_pairs(parts.query), _shown_pairs(parts.fragment)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, fragment))


def mask_json(text: str) -> str:
    """A JSON body pretty-printed with secret members masked; other text as it came."""
    try:
        data = json.loads(text)
    except ValueError:
        return text[:2000]
    if isinstance(data, dict):
        data = {k: mask(v) if k in MASKED and isinstance(v, str) else v for k, v in data.items()}
    return json.dumps(data, indent=2, ensure_ascii=False)[:2000]


@dataclass
class Exchange:
    """One request the lab sent and the answer it got."""

    label: str
    method: str
    url: str
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: list[tuple[str, str]] = field(default_factory=list)
    status_code: int = 0
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: str = ""

    @classmethod
    def of(
        cls,
        label: str,
        response: httpx.Response,
        *,
        body: list[tuple[str, str]] | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> Exchange:
        """Record a response and the request behind it, masked."""
        request = response.request
        content_type = response.headers.get("content-type", "")
        text = response.text if "json" in content_type else _title_of(response.text)
        return cls(
            label=label,
            method=request.method,
            url=mask_url(str(request.url)),
            request_headers=headers or [],
            request_body=mask_pairs(body or []),
            status_code=response.status_code,
            response_headers=[
                (name, mask_url(value) if name == "location" else value)
                for name in SHOWN_RESPONSE_HEADERS
                if (value := response.headers.get(name))
            ],
            response_body=mask_json(text) if "json" in content_type else text,
        )


def _title_of(html: str) -> str:
    """For an HTML page, its first heading: what a person would read first."""
    start = html.find("<h1>")
    end = html.find("</h1>", start)
    if start == -1 or end == -1:
        return html[:300]
    return "(HTML page) " + html[start + 4 : end].strip()[:300]
