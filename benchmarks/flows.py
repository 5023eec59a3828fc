"""The plain-HTTP flow driver: one scripted browser per virtual user, no JavaScript, no magic.

It walks the authorization code flow the way a browser does — GET the authorization URL,
follow each redirect by hand, fill the sign-in and consent forms it meets, stop at the
redirect to the client's redirect URI and take the code from it — then plays the client's back
channel: POST the code (with the PKCE verifier and client_secret_basic) to the token endpoint,
and refresh. The same code drives Mockgram and node oidc-provider (its devInteractions pages);
only the `Provider` description differs. It also drives AwesomeService as a browser would:
sign in, "Connect Mockgram", and load the photo grid with its images.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

REDIRECTS = (301, 302, 303, 307, 308)
MAX_HOPS = 12  # a flow longer than this is a loop, not a flow
IMAGE_PARALLELISM = 6  # what a browser opens per host for a page's images


class FlowError(RuntimeError):
    """The server answered something a working flow never gets; the message says what."""


@dataclass(frozen=True)
class Provider:
    """What the driver needs to know about one authorization server and its client there."""

    name: str
    authorization_endpoint: str
    token_endpoint: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scope: str
    username: str
    password: str
    consent_marker: str  # part of the consent form's action: "/consent", "/interaction/"

    def as_dict(self) -> dict[str, str]:
        return {name: str(getattr(self, name)) for name in self.__dataclass_fields__}


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (name, type, value)
    checked: set[int] = field(default_factory=set)  # indexes of ticked checkboxes in fields
    buttons: list[tuple[str, str]] = field(default_factory=list)  # named submit buttons

    @property
    def has_password(self) -> bool:
        return any(kind == "password" for _, kind, _ in self.fields)

    def values(self, *, username: str, password: str) -> list[tuple[str, str]]:
        """What a person would send: the fields as given, the credentials typed in, the ticked
        boxes, and the button that says yes (Allow) when there is a choice."""
        data: list[tuple[str, str]] = []
        for index, (name, kind, value) in enumerate(self.fields):
            if kind == "password":
                data.append((name, password))
            elif kind in ("checkbox", "radio"):
                if index in self.checked:
                    data.append((name, value))
            elif name in ("username", "login") and not value:
                data.append((name, username))
            else:
                data.append((name, value))
        if self.buttons:
            allow = [button for button in self.buttons if button[1] == "allow"]
            data.append((allow or self.buttons)[0])
        return data


class _PageParser(HTMLParser):
    """Collects the forms (and the links) of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[str] = []
        self.images: list[str] = []
        self._form: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._form = Form(action=a.get("action", ""), method=a.get("method", "get").lower())
            self.forms.append(self._form)
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "img" and a.get("src"):
            self.images.append(a["src"])
        elif self._form is not None and tag in ("input", "button") and a.get("name"):
            kind = a.get("type", "submit" if tag == "button" else "text").lower()
            if kind == "submit":
                self._form.buttons.append((a["name"], a.get("value", "")))
                return
            if kind in ("checkbox", "radio") and "checked" in a and "disabled" not in a:
                self._form.checked.add(len(self._form.fields))
            if "disabled" not in a:
                self._form.fields.append((a["name"], kind, a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def as_form(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Form pairs as httpx sends them, repeated names (ticked scopes) kept."""
    data: dict[str, list[str]] = {}
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    return data


def parse_page(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser


def pkce_pair() -> tuple[str, str]:
    """A fresh (verifier, S256 challenge) pair (RFC 7636 §4.1, §4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(provider: Provider, challenge: str) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": provider.client_id,
            "redirect_uri": provider.redirect_uri,
            "scope": provider.scope,
            "state": secrets.token_urlsafe(16),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{provider.authorization_endpoint}?{query}"


def _describe(response: httpx.Response) -> str:
    snippet = " ".join(response.text[:300].split())
    return f"{response.request.method} {response.request.url} → {response.status_code}: {snippet}"


@dataclass
class Walk:
    """Where a walk through redirects and forms ended, and how many requests it took."""

    location: str
    requests: int


async def walk_to(
    http: httpx.AsyncClient,
    response: httpx.Response,
    *,
    stop_at: str,
    username: str,
    password: str,
    consent_marker: str,
    requests: int = 1,
) -> Walk:
    """Follow redirects and fill the sign-in and consent forms until a redirect to `stop_at`."""
    while requests <= MAX_HOPS:
        if response.status_code in REDIRECTS:
            location = urljoin(str(response.url), response.headers["location"])
            if location.startswith(stop_at):
                return Walk(location, requests)
            response = await http.get(location)
        elif response.status_code == 200:
            page = parse_page(response.text)
            posts = [form for form in page.forms if form.method == "post"]
            form = next((f for f in posts if f.has_password), None) or next(
                (f for f in posts if consent_marker in f.action), None
            )
            if form is None:
                raise FlowError(f"no sign-in or consent form: {_describe(response)}")
            response = await http.post(
                urljoin(str(response.url), form.action),
                data=as_form(form.values(username=username, password=password)),
            )
        else:
            raise FlowError(_describe(response))
        requests += 1
    raise FlowError(f"more than {MAX_HOPS} requests without reaching {stop_at}")


@dataclass
class Code:
    code: str
    verifier: str
    requests: int  # HTTP requests the browser made to get it


async def get_code(http: httpx.AsyncClient, provider: Provider) -> Code:
    """One pass through the authorization endpoint: sign in and consent only if asked."""
    verifier, challenge = pkce_pair()
    first = await http.get(authorization_url(provider, challenge))
    walk = await walk_to(
        http,
        first,
        stop_at=provider.redirect_uri,
        username=provider.username,
        password=provider.password,
        consent_marker=provider.consent_marker,
    )
    query = parse_qs(urlsplit(walk.location).query)
    if "code" not in query:
        raise FlowError(f"the redirect carried no code: {walk.location}")
    return Code(query["code"][0], verifier, walk.requests)


@dataclass
class Tokens:
    access_token: str
    refresh_token: str | None


async def token_request(
    http: httpx.AsyncClient, provider: Provider, data: dict[str, str]
) -> Tokens:
    response = await http.post(
        provider.token_endpoint, data=data, auth=(provider.client_id, provider.client_secret)
    )
    if response.status_code != 200:
        raise FlowError(_describe(response))
    body = response.json()
    return Tokens(body["access_token"], body.get("refresh_token"))


async def redeem(http: httpx.AsyncClient, provider: Provider, code: Code) -> Tokens:
    """RFC 6749 §4.1.3 with RFC 7636 §4.5: code, redirect_uri and the PKCE verifier."""
    return await token_request(
        http,
        provider,
        {
            "grant_type": "authorization_code",
            "code": code.code,
            "redirect_uri": provider.redirect_uri,
            "code_verifier": code.verifier,
        },
    )


async def refresh(http: httpx.AsyncClient, provider: Provider, refresh_token: str) -> Tokens:
    """RFC 6749 §6: one refresh; the answer carries the next refresh token (rotation)."""
    return await token_request(
        http, provider, {"grant_type": "refresh_token", "refresh_token": refresh_token}
    )


async def client_credentials(http: httpx.AsyncClient, provider: Provider) -> Tokens:
    """RFC 6749 §4.4: a token for the client itself."""
    return await token_request(http, provider, {"grant_type": "client_credentials"})


async def whole_flow(http: httpx.AsyncClient, provider: Provider) -> int:
    """Authorize (signing in and consenting only when asked) and redeem; returns requests made."""
    code = await get_code(http, provider)
    await redeem(http, provider, code)
    return code.requests + 1


# --- AwesomeService, driven as John's browser ----------------------------------------------


@dataclass(frozen=True)
class PrintShop:
    """AwesomeService's address and the two accounts John types in along the way."""

    base_url: str
    username: str
    password: str
    mockgram_url: str
    mockgram_username: str
    mockgram_password: str


async def _submit(
    http: httpx.AsyncClient, page: httpx.Response, action: str, **typed: str
) -> httpx.Response:
    """Submit the page's POST form with this action, with `typed` filled in."""
    for form in parse_page(page.text).forms:
        if form.method == "post" and form.action == action:
            data = as_form(form.values(username="", password=""))
            data |= {name: [value] for name, value in typed.items()}
            return await http.post(urljoin(str(page.url), form.action), data=data)
    raise FlowError(f"no form posting to {action}: {_describe(page)}")


async def sign_in_to_print_shop(http: httpx.AsyncClient, shop: PrintShop) -> None:
    page = await http.get(f"{shop.base_url}/login")
    answer = await _submit(http, page, "/login", username=shop.username, password=shop.password)
    if answer.status_code != 303:
        raise FlowError(f"AwesomeService sign-in: {_describe(answer)}")


async def connect_print_shop(http: httpx.AsyncClient, shop: PrintShop) -> None:
    """'Connect Mockgram': AwesomeService's step 1 page, Mockgram's sign-in and consent, and
    the callback, where AwesomeService redeems the code over its back channel."""
    grid = await http.get(f"{shop.base_url}/photos")
    if grid.status_code == 200 and "/image" in grid.text:
        return  # John's account is connected already (an earlier measurement did it)
    preview = await _submit(http, grid, "/connect")
    if preview.status_code != 200:
        raise FlowError(f"Connect Mockgram: {_describe(preview)}")
    links = [unescape(link) for link in parse_page(preview.text).links]
    authorize = next((link for link in links if link.startswith(shop.mockgram_url)), None)
    if authorize is None:
        raise FlowError(f"no link to Mockgram on the step 1 page: {_describe(preview)}")
    walk = await walk_to(
        http,
        await http.get(authorize),
        stop_at=f"{shop.base_url}/connect/callback",
        username=shop.mockgram_username,
        password=shop.mockgram_password,
        consent_marker="/consent",
    )
    callback = await http.get(walk.location)
    if callback.status_code not in (200, 303):
        raise FlowError(f"AwesomeService's callback: {_describe(callback)}")


async def load_photo_grid(http: httpx.AsyncClient, shop: PrintShop) -> int:
    """GET /photos and every image on it, as a browser would; returns the requests made."""
    page = await http.get(f"{shop.base_url}/photos")
    if page.status_code != 200 or "/image" not in page.text:
        raise FlowError(f"the photo grid: {_describe(page)}")
    images = [urljoin(str(page.url), src) for src in parse_page(page.text).images]
    images = [src for src in images if src.startswith(f"{shop.base_url}/photos/")]
    gate = asyncio.Semaphore(IMAGE_PARALLELISM)

    async def fetch(src: str) -> None:
        async with gate:
            answer = await http.get(src)
        if answer.status_code != 200:
            raise FlowError(f"an image of the grid: {_describe(answer)}")

    await asyncio.gather(*(fetch(src) for src in images))
    return 1 + len(images)
