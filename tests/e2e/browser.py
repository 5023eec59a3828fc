"""A tiny scripted browser for end-to-end tests: one cookie jar per origin, forms, redirects.

It drives any httpx-style client (Starlette's TestClient in-process, or httpx.Client against a
real server), one per origin, and never follows a redirect by itself: the test sees every hop.
"""

from __future__ import annotations

import re
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
    id: str = ""
    fields: list[tuple[str, str]] = field(default_factory=list)
    checkboxes: list[tuple[str, str, bool]] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def values(
        self, *, button: tuple[str, str] | None = None, **overrides: Any
    ) -> list[tuple[str, str]]:
        """The fields a browser would send: hidden/text inputs, ticked boxes, the pressed button."""
        data = [(k, v) for k, v in self.fields if k not in overrides]
        data += [(k, v) for k, v, checked in self.checkboxes if checked and k not in overrides]
        ticked = overrides.pop("tick", None)
        if ticked is not None:  # tick these checkbox values (by value), as a person would
            data += [(k, v) for k, v, checked in self.checkboxes if not checked and v in ticked]
        for key, value in overrides.items():
            if isinstance(value, list):
                data += [(key, str(v)) for v in value]
            elif value is not None:
                data.append((key, str(value)))
        if button:
            data.append(button)
        return data


class _FormParser(HTMLParser):
    """Collects forms and their controls, including controls tied to a form by `form="id"`."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._current: Form | None = None
        self._detached: list[tuple[str, str, dict[str, str]]] = []  # (form id, tag, attrs)
        self._select: tuple[Form, str] | None = None
        self._select_value: str | None = None
        self._textarea: tuple[Form, str] | None = None
        self._text = ""

    def _owner(self, a: dict[str, str], tag: str) -> Form | None:
        if a.get("form"):
            self._detached.append((a["form"], tag, a))
            return None
        return self._current

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = Form(
                action=a.get("action", ""),
                method=a.get("method", "get").lower(),
                id=a.get("id", ""),
            )
            self.forms.append(self._current)
            return
        if tag == "option" and self._select is not None:
            if self._select_value is None or "selected" in a:
                self._select_value = a.get("value", "")
            return
        if not a.get("name") or tag not in ("input", "button", "select", "textarea"):
            return
        owner = self._owner(a, tag)
        if owner is None:
            return
        if tag == "select":
            self._select, self._select_value = (owner, a["name"]), None
        elif tag == "textarea":
            self._textarea, self._text = (owner, a["name"]), ""
        else:
            _add_control(owner, tag, a)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None
        elif tag == "select" and self._select is not None:
            form, name = self._select
            form.fields.append((name, self._select_value or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            form, name = self._textarea
            form.fields.append((name, self._text))
            self._textarea = None

    def close(self) -> None:
        super().close()
        by_id = {form.id: form for form in self.forms if form.id}
        for form_id, tag, a in self._detached:
            if form_id in by_id:
                _add_control(by_id[form_id], tag, a)


def _add_control(form: Form, tag: str, a: dict[str, str]) -> None:
    kind = a.get("type", "submit" if tag == "button" else "text").lower()
    if kind in ("checkbox", "radio"):
        form.checkboxes.append((a["name"], a.get("value", "on"), "checked" in a))
    elif kind == "submit":
        form.buttons.append((a["name"], a.get("value", "")))
    else:
        form.fields.append((a["name"], a.get("value", "")))


def forms(html: str) -> list[Form]:
    """Every form on a page."""
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def find_form(html: str, action_contains: str) -> Form:
    """The first form whose action contains the given text."""
    for form in forms(html):
        if action_contains in form.action:
            return form
    raise AssertionError(f"no form with action containing {action_contains!r} on the page")


def page_said(response: Any) -> str:
    """A failed step in one line: the status and the page's title and lead, not the whole page
    (so the server's traceback, printed after it, stays readable in a CI log)."""
    text = response.text
    title = re.search(r"<title>(.*?)</title>", text, re.S)
    lead = re.search(r'<p class="lead">(.*?)</p>', text, re.S)
    said = " — ".join(match.group(1).strip() for match in (title, lead) if match)
    return f"{response.status_code}: {said or text[:300]}"


class Browser:
    """Routes each absolute URL to the client for its origin; remembers the last page's URL."""

    def __init__(self, clients: dict[str, HttpClient]) -> None:
        self.clients = clients
        self.url = ""
        self.sent: list[tuple[str, str, dict[str, list[str]]]] = []  # (method, url, form data)

    def _client(self, url: str) -> HttpClient:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self.clients:
            raise AssertionError(f"the browser was sent to an unknown origin: {url}")
        return self.clients[origin]

    def get(self, url: str) -> Any:
        url = urljoin(self.url, url)
        self.url = url
        self.sent.append(("GET", url, {}))
        return self._client(url).get(url)

    def submit(self, form: Form, *, button: tuple[str, str] | None = None, **overrides: Any) -> Any:
        url = urljoin(self.url, form.action or self.url)
        data: dict[str, list[str]] = {}
        for key, value in form.values(button=button, **overrides):
            data.setdefault(key, []).append(value)
        self.url = url
        self.sent.append((form.method.upper(), url, data))
        if form.method == "post":
            return self._client(url).post(url, data=data)
        return self._client(url).get(url, params=data)

    def follow(self, response: Any) -> Any:
        """Follow one redirect; the response must be one."""
        assert response.status_code in (301, 302, 303, 307, 308), (
            f"expected a redirect, got {response.status_code}: {response.text[:300]}"
        )
        return self.get(urljoin(self.url, response.headers["location"]))
