"""The article's six steps (plus step 0), told once and shown by both apps' pages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    # Who acts, in the article's vocabulary: resource owner, client, authorization server and
    # resource server, each with the story's name in brackets.
    who: str
    text: str
    rfc: str
    # The tour banner: a one-line headline, what just happened, and what comes next.
    headline: str = ""
    happened: str = ""
    coming: str = ""


STEPS: dict[int, Step] = {
    0: Step(
        0,
        "AwesomeService registers with Mockgram",
        "a developer → the authorization server (Mockgram's developer portal)",
        "Before any user is involved, the print shop registers its app with Mockgram and "
        "receives a client ID and a client secret.",
        "RFC 6749 §2; RFC 7591",
        headline="AwesomeService registers with Mockgram and gets a client ID and secret",
        happened="No user is involved yet: a print-shop developer opened Mockgram's portal.",
        coming="With a client ID and secret, AwesomeService can send people to Mockgram (step 1).",
    ),
    1: Step(
        1,
        "AwesomeService sends John's browser to Mockgram",
        "the client (AwesomeService) → the resource owner's browser (John) → the authorization "
        "server (Mockgram)",
        "A plain GET to the authorization endpoint carrying client_id, redirect_uri, scope, "
        "response_type, state and a PKCE code_challenge. Nothing secret travels here.",
        "RFC 6749 §4.1.1; RFC 7636 §4.3",
        headline="AwesomeService sends John's browser to Mockgram's authorization endpoint",
        happened="John, signed in to the print shop, pressed “Connect Mockgram”.",
        coming="His browser GETs this URL at Mockgram, which asks him to sign in (step 2).",
    ),
    2: Step(
        2,
        "Mockgram authenticates John",
        "the resource owner (John) ↔ the authorization server (Mockgram)",
        "John types his Mockgram password on Mockgram's own page. AwesomeService never sees it.",
        "RFC 6749 §3.1",
        headline="Mockgram asks John who he is, with his Mockgram password",
        happened="Mockgram checked the request (client, redirect_uri, scope, PKCE) and kept it.",
        coming="Once John is signed in, Mockgram asks him about AwesomeService (step 3).",
    ),
    3: Step(
        3,
        "Mockgram asks John for consent",
        "the resource owner (John) ↔ the authorization server (Mockgram)",
        "Mockgram names the app and says in plain words what each requested scope allows. "
        "John can allow, deny, or give less than was asked.",
        "RFC 6749 §3.3, §4.1.1",
        headline="Mockgram asks John whether AwesomeService may read his photos",
        happened="John signed in to Mockgram; the print shop still knows nothing about him.",
        coming="If John allows it, Mockgram redirects his browser back with a code (step 4).",
    ),
    4: Step(
        4,
        "Mockgram redirects John back with a code",
        "the authorization server (Mockgram) → the resource owner's browser (John) → the "
        "client's callback (AwesomeService)",
        "The browser carries a short-lived, single-use authorization code back to the "
        "registered redirect URI, with the state it was sent and Mockgram's issuer (iss).",
        "RFC 6749 §4.1.2; RFC 9207 §2",
        headline="Mockgram sends John back to AwesomeService with a one-time code",
        happened="John answered the consent question; Mockgram wrote down his answer.",
        coming="AwesomeService checks state and iss, then trades the code for a token (step 5).",
    ),
    5: Step(
        5,
        "AwesomeService trades the code for a token",
        "the client (AwesomeService's back end) → the authorization server (Mockgram's token "
        "endpoint), on the back channel",
        "Server to server, the print shop sends the code, its client secret and the PKCE "
        "verifier. A stolen code alone is worthless.",
        "RFC 6749 §4.1.3, §2.3.1; RFC 7636 §4.5",
        headline="AwesomeService trades the code, its secret and the PKCE verifier for a token",
        happened="The callback arrived: state matched this browser, iss named Mockgram.",
        coming="With the access token, AwesomeService reads John's photos (step 6).",
    ),
    6: Step(
        6,
        "AwesomeService reads John's photos",
        "the client (AwesomeService's back end) → the resource server (Mockgram's photos API)",
        "The access token goes in the Authorization header. It can read photos — and only "
        "read them: a delete is refused with insufficient_scope.",
        "RFC 6750 §2.1, §3.1",
        headline="AwesomeService reads John's photos with the access token, and only reads them",
        happened="Steps 4 and 5, in a blink: Mockgram sent John back with a code, and "
        "AwesomeService traded it on the back channel for a photos.read access token, which "
        "stays on the print shop's server.",
        coming="The story is complete. Try a delete: Mockgram refuses (insufficient_scope).",
    ),
}


def step(number: int) -> Step:
    """The step with this number (0–6)."""
    return STEPS[number]
