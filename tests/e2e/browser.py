"""A tiny scripted browser for end-to-end tests: one cookie jar per origin, forms, redirects.

It drives any httpx-style client (Starlette's TestClient in-process, or httpx.Client against a
real server), one per origin, and never follows a redirect by itself: the test sees every hop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit


class HttpClient(Protocol):
    def get(self, url: str, **kwargs: Any) -> Any: ...
    def post(self, url: str, **kwargs: Any) -> Any: ...


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    checkboxes: list[tuple[str, str, bool]] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def values(self, *, button: tuple[str, str] | None = None, **overrides: Any) -> list[tuple[str, str]]:
        """The fields a browser would send: hidden/text inputs, ticked boxes, the pressed button."""
        data = [(k, v) for k, v in self.fields if k not in overrides]
        data += [(k, v) for k, v, checked in self.checkboxes if checked and k not in overrides]
        for key, value in overrides.items():
            if isinstance(value, list):
                data += [(key, str(v)) for v in value]
            elif value is not None:
                data.append((key, str(value)))
        if button:
            data.append(button)
        return data


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._current: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = Form(action=a.get("action", ""), method=a.get("method", "get").lower())
            self.forms.append(self._current)
        elif self._current is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind == "checkbox" or kind == "radio":
                self._current.checkboxes.append((a["name"], a.get("value", "on"), "checked" in a))
            elif kind == "submit":
                self._current.buttons.append((a["name"], a.get("value", "")))
            else:
                self._current.fields.append((a["name"], a.get("value", "")))
        elif tag == "button" and a.get("name"):
            self._current.buttons.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def forms(html: str) -> list[Form]:
    """Every form on a page."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def find_form(html: str, action_contains: str) -> Form:
    """The first form whose action contains the given text."""
    for form in forms(html):
        if action_contains in form.action:
            return form
    raise AssertionError(f"no form with action containing {action_contains!r} on the page")


class Browser:
    """Routes each absolute URL to the client for its origin; remembers the last page's URL."""

    def __init__(self, clients: dict[str, HttpClient]) -> None:
        self.clients = clients
        self.url = ""

    def _client(self, url: str) -> HttpClient:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self.clients:
            raise AssertionError(f"the browser was sent to an unknown origin: {url}")
        return self.clients[origin]

    def get(self, url: str) -> Any:
        url = urljoin(self.url, url)
        self.url = url
        return self._client(url).get(url)

    def submit(self, form: Form, *, button: tuple[str, str] | None = None, **overrides: Any) -> Any:
        url = urljoin(self.url, form.action or self.url)
        data = form.values(button=button, **overrides)
        self.url = url
        if form.method == "post":
            return self._client(url).post(url, data=data)
        return self._client(url).get(url, params=data)

    def follow(self, response: Any) -> Any:
        """Follow one redirect; the response must be one."""
        assert response.status_code in (301, 302, 303, 307, 308), (
            f"expected a redirect, got {response.status_code}: {response.text[:300]}"
        )
        return self.get(urljoin(self.url, response.headers["location"]))
