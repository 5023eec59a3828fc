"""A second person for the lab: Jane, Mockgram's other demo account, played by a script.

The attacks need real authorization codes and tokens, but never John's. So the lab does what
Jane's browser would do — GET the authorization endpoint, sign in on Mockgram's login page,
press Allow on the consent page — through AwesomeService's back channel, with its own cookie
jar and the CSRF tokens the pages hand out. Only the demo account's password (setting
lab_mockgram_password, Mockgram's demo password) is used, and only when the reader presses a
button on /lab.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import httpx

from awesomeservice.backchannel import send
from awesomeservice.oauth.authorization_request import fresh_secrets, request_parameters
from awesomeservice.settings import AwesomeServiceSettings

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_REQUEST_ID = re.compile(r'name="request_id" value="([^"]+)"')
_SCOPE_BOX = re.compile(r'name="scope" value="([^"]+)"')
MAX_HOPS = 8


class LabCannotRun(Exception):
    """The lab could not set the attack up (Mockgram refused an ordinary step)."""


@dataclass(frozen=True)
class Answer:
    """Where Mockgram finally sent Jane's browser, and what the lab used to get there."""

    location: str
    params: dict[str, str]  # from the query, or the fragment for the implicit flow
    state: str
    verifier: str | None
    redirect_uri: str
    request_url: str  # the authorization request, as a browser would have sent it


async def authorize_as_jane(
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    *,
    client_id: str,
    redirect_uri: str,
    scope: str,
    response_type: str = "code",
    use_pkce: bool = True,
) -> Answer:
    """Run one authorization at Mockgram as Jane, up to the redirect back; nothing is redeemed."""
    secrets = fresh_secrets(nonce=response_type != "code")
    state, verifier = secrets.state, secrets.code_verifier if use_pkce else None
    params = request_parameters(
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=scope,
        response_type=response_type,
        state=state,
        nonce=secrets.nonce,
        code_verifier=verifier or "",
    )
    jar: dict[str, str] = {}

    async def go(method: str, url: str, data: dict[str, str | list[str]] | None = None):  # type: ignore[no-untyped-def]
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())} if jar else {}
        response = await send(http, method, url, data=data, headers=headers)
        for name, value in response.cookies.items():
            jar[name] = value
        return response

    first = "/oauth/authorize?" + urlencode(params)
    response = await go("GET", first)
    for _ in range(MAX_HOPS):
        if response.status_code in (302, 303):
            location = response.headers["location"]
            if location.startswith(redirect_uri):
                parts = urlsplit(location)
                answer = dict(parse_qsl(parts.fragment or parts.query))
                request_url = settings.mockgram_url + first
                return Answer(location, answer, state, verifier, redirect_uri, request_url)
            if location.startswith(("http://", "https://")):
                location = urlsplit(location)._replace(scheme="", netloc="").geturl()
            response = await go("GET", urljoin("/", location))
            continue
        if response.status_code != 200:
            raise LabCannotRun(
                f"Mockgram answered {response.status_code} on {response.request.url.path}; "
                "is this client registered there?"
            )
        page = response.text
        csrf = _CSRF.search(page)
        request_id = _REQUEST_ID.search(page)
        if csrf is None or request_id is None:
            raise LabCannotRun("Mockgram showed a page the lab does not know how to answer.")
        if 'name="password"' in page:
            form: dict[str, str | list[str]] = {
                "csrf_token": csrf.group(1),
                "request_id": request_id.group(1),
                "username": settings.lab_mockgram_username,
                "password": settings.lab_mockgram_password,
            }
            response = await go("POST", "/login", data=form)
            if response.status_code not in (302, 303):
                raise LabCannotRun(
                    "Mockgram did not accept the lab's demo account "
                    f"({settings.lab_mockgram_username}); check lab_mockgram_password."
                )
        else:
            form = {
                "csrf_token": csrf.group(1),
                "request_id": request_id.group(1),
                "decision": "allow",
                "scope": _SCOPE_BOX.findall(page),
            }
            response = await go("POST", "/consent", data=form)
    raise LabCannotRun("Mockgram never sent the browser back.")
