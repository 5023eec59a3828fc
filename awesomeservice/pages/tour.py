"""The tour index: the article's steps, and every flow the two apps can run, each a link that
starts it. The step texts live once, in shared/steps.py; the banners come from the same place."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from awesomeservice.deps import SettingsDep, TemplatesDep

router = APIRouter()


@dataclass(frozen=True)
class Flow:
    title: str
    href: str
    what: str
    steps: str
    start_with_post: bool = False  # "Connect Mockgram" starts with a CSRF-checked POST
    post_fields: tuple[tuple[str, str], ...] = ()  # more fields of that POST


FLOWS: list[Flow] = [
    Flow(
        "Connect Mockgram",
        "/connect",
        "The article's story: the authorization code flow with state and PKCE, the code traded "
        "for a token with the client secret, then John's photos.",
        "steps 1–6",
        start_with_post=True,
    ),
    Flow(
        "Connect Mockgram with PAR",
        "/connect",
        "Pushed authorization requests: the server sends step 1's parameters to Mockgram "
        "first, authenticated, and John's browser carries only client_id and a one-time "
        "request_uri. The step 1 page shows both addresses side by side.",
        "steps 1–6, RFC 9126",
        start_with_post=True,
        post_fields=(("par", "on"),),
    ),
    Flow(
        "Log in with Mockgram",
        "/login/mockgram",
        "OpenID Connect: the same flow with scope openid, and an id_token that says who John is.",
        "steps 1–5, OIDC",
    ),
    Flow(
        "Sign out at Mockgram too",
        "/login/mockgram",
        "RP-initiated logout: log in with Mockgram, then press Sign out. AwesomeService ends "
        "its session and sends your browser to Mockgram's end_session_endpoint with the "
        "id_token as hint and a registered return address; Mockgram ends its session and "
        "sends you back with the state.",
        "OIDC RP-Initiated Logout §2–3",
    ),
    Flow(
        "Single-page app, implicit flow",
        "/spa/implicit",
        "response_type=token: the token comes back in the URL fragment. Teaching only.",
        "steps 1–4, 6",
    ),
    Flow(
        "Single-page app, code + PKCE",
        "/spa/pkce",
        "The modern way for a browser app: a public client, the code flow, PKCE, no secret.",
        "steps 1–6",
    ),
    Flow(
        "Print kiosk, device flow",
        "/kiosk",
        "The shop's kiosk has no keyboard: it shows a code, John approves on his phone, and "
        "the kiosk's server polls until Mockgram hands over a token (RFC 8628).",
        "device flow A–F",
    ),
    Flow(
        "The nightly print-queue job (client credentials)",
        "/print-queue",
        "No person at all: AwesomeService asks a token for itself with its secret (RFC 6749 "
        "§4.4), and the photos API shows it reads nobody's photos.",
        "back channel only",
    ),
    Flow(
        "Hand a print job to the lab (token exchange)",
        "/orders",
        "Open one of your orders: AwesomeService trades John's token for a narrower one the "
        "print lab reads the photos with, naming itself as the actor (RFC 8693).",
        "after steps 1–6",
    ),
    Flow(
        "Which flow when",
        "/flows",
        "Code, code + PKCE, implicit, client credentials, device and token exchange side by "
        "side: who is present, where the token travels, what a thief can do with it.",
        "all flows",
    ),
    Flow(
        "DPoP: a token bound to a key",
        "/spa/pkce#dpop",
        "RFC 9449: tick “Bind the token to a key” — a non-extractable Web Crypto key signs a "
        "proof for each request (shown decoded), and the token (cnf.jkt) works only with it. "
        "Attack 9 in the lab shows a stolen bearer token working and a bound one refused.",
        "steps 5–6",
    ),
    Flow(
        "Flow inspector",
        "/inspector",
        "Every step of your own flows as it happened, secrets redacted, JWTs decoded.",
        "all steps",
    ),
    Flow(
        "OAuth debugger",
        "/debugger",
        "Build any authorization request by hand and see what Mockgram answers.",
        "steps 1, 4, 5",
    ),
    Flow(
        "Which response type?",
        "/response-types",
        "code, token and code id_token side by side: what travels through the browser, what "
        "through the back channel, what a thief in the address bar gets.",
        "steps 1, 4, 5",
    ),
    Flow(
        "Request console",
        "/console",
        "Your own tokens, whole and decoded; hand-made calls to the photos API, introspection, "
        "refresh (rotation, then a replay) and revocation.",
        "steps 5, 6",
    ),
    Flow(
        "Attack lab",
        "/lab",
        "Nine attacks run for real against both apps, and the defence that stops each.",
        "steps 4–6",
    ),
]


@dataclass(frozen=True)
class StepLink:
    """Where the tour index sends a reader who picks one of the article's steps."""

    number: int
    href: str
    label: str
    start_with_post: bool = False


def step_links(mockgram_url: str) -> list[StepLink]:
    """Step 0 is on Mockgram's developer portal; 1–5 happen in one run of Connect; 6 is the grid.

    Steps 2 to 5 get no button of their own (no href): five identical "Start" buttons would
    suggest five different starts, when one run of Connect Mockgram goes through all of them."""
    same_run = [StepLink(n, "", "in the same run") for n in range(2, 6)]
    return [
        StepLink(0, f"{mockgram_url}/developers", "Open the developer portal"),
        StepLink(1, "/connect", "Start Connect Mockgram (steps 1 to 5)", True),
        *same_run,
        StepLink(6, "/photos", "See the photos"),
    ]


@router.get("/tour")
def tour_index(request: Request, templates: TemplatesDep, settings: SettingsDep) -> Response:
    """The steps and the flows, each a link that starts it."""
    return templates.TemplateResponse(
        request,
        "tour.html",
        {
            "page_title": "The guided tour",
            "flows": FLOWS,
            "step_links": step_links(settings.mockgram_url),
        },
    )
