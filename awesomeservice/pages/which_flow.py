"""Which flow when: the grants side by side — who is there, where the token goes, what a thief
gets. A table, because it is one: each row a flow, each column a question to ask of it."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from awesomeservice.deps import TemplatesDep

router = APIRouter()


@dataclass(frozen=True)
class FlowRow:
    name: str
    rfc: str
    rfc_url: str
    present: str  # who takes part
    travels: str  # where the access token travels
    thief: str  # what someone who steals it (or what leads to it) can do
    use_when: str
    try_href: str = ""
    legacy: bool = False


RFC_EDITOR = "https://www.rfc-editor.org/rfc"

FLOWS: tuple[FlowRow, ...] = (
    FlowRow(
        "Authorization code (confidential client)",
        "RFC 6749 §4.1",
        f"{RFC_EDITOR}/rfc6749#section-4.1",
        "John (his browser, his consent), the app's server, Mockgram.",
        "Back channel only: Mockgram → the app's server. The browser carries only the code.",
        "A stolen code is useless without the app's secret (and its PKCE verifier). A stolen "
        "token reads John's photos until it expires or he revokes the app.",
        "A web app with a server, acting for a person. The article's story.",
        "/connect",
    ),
    FlowRow(
        "Authorization code + PKCE (public client)",
        "RFC 7636; RFC 9700 §2.1.1",
        f"{RFC_EDITOR}/rfc7636",
        "John, an app that cannot keep a secret (single-page or native app), Mockgram.",
        "Back to the app itself (in the browser or on the device), from the token endpoint.",
        "A stolen code is useless without the verifier, which never left the app. A stolen "
        "token works like any bearer token: keep it short-lived, in memory.",
        "A browser or mobile app with no server of its own, acting for a person.",
        "/spa/pkce",
    ),
    FlowRow(
        "Implicit (legacy)",
        "RFC 6749 §4.2; RFC 9700 §2.1.2",
        f"{RFC_EDITOR}/rfc9700#section-2.1.2",
        "John's browser and Mockgram; no server, no client authentication.",
        "In the URL fragment: browser history, the page's scripts, extensions, referrers.",
        "Whoever reads the fragment has the token itself, with no code or secret to stop "
        "them, and nothing binds it to the app. RFC 9700 says: do not use it.",
        "Never for new work; shown here to see why.",
        "/spa/implicit",
        legacy=True,
    ),
    FlowRow(
        "Client credentials",
        "RFC 6749 §4.4",
        f"{RFC_EDITOR}/rfc6749#section-4.4",
        "Only the app's server and Mockgram. No person at all.",
        "Back channel only: Mockgram → the app's server.",
        "Acts as the app, not as anyone: here, it reads nobody's photos. Stealing the app's "
        "secret is the real prize: it mints such tokens at will — so keep it in a vault.",
        "A job or a service acting for itself: the nightly print-queue job.",
        "/print-queue",
    ),
    FlowRow(
        "Device authorization",
        "RFC 8628",
        f"{RFC_EDITOR}/rfc8628",
        "John on a second device (his phone) typing a short code; the device polling Mockgram.",
        "Back channel: Mockgram → the device that polls. The user code is all John sees.",
        "A phished user code gives the attacker's device John's token: so the code is short-"
        "lived and John is shown which device he is approving.",
        "A device with no browser or keyboard: a printer kiosk, a TV.",
    ),
    FlowRow(
        "Token exchange",
        "RFC 8693",
        f"{RFC_EDITOR}/rfc8693",
        "The app's server (holding John's token), Mockgram; the downstream service receives.",
        "Back channel: Mockgram → the app's server → the downstream service.",
        "The downstream token is narrower (scope, audience), lives no longer than John's, and "
        "names the actor: a leak at the lab reads a few photos, briefly, and is traceable.",
        "Passing part of a person's access to another service: the print lab.",
        "/orders",
    ),
)


@router.get("/flows")
def which_flow(request: Request, templates: TemplatesDep) -> Response:
    """The grants compared: who is present, where the token travels, what a thief can do."""
    return templates.TemplateResponse(
        request, "which_flow.html", {"page_title": "Which flow when", "flows": FLOWS}
    )
