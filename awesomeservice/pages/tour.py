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
        "Log in with Mockgram",
        "/login/mockgram",
        "OpenID Connect: the same flow with scope openid, and an id_token that says who John is.",
        "steps 1–5, OIDC",
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
        "Attack lab",
        "/lab",
        "Eight attacks run for real against both apps, and the defence that stops each.",
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
