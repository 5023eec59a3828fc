"""The nine attacks of the lab, each run for real, each answered by one defence.

Every attack returns an Outcome: the requests sent and the answers got (secrets masked),
whether the defence held, and what that means. Attacks that need a code get a fresh one from
Mockgram by playing Jane (awesomeservice/lab/browser.py); attacks on AwesomeService itself
call its own routes in-process, carrying the reader's session cookie as a forged link would.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI

from awesomeservice.backchannel import send
from awesomeservice.lab.browser import authorize_as_jane
from awesomeservice.lab.exchanges import Exchange, mask, mask_url
from awesomeservice.oauth.authorization_request import connect_request
from awesomeservice.oauth.dpop import NONCE_HEADER, DpopKey
from awesomeservice.oauth.token_endpoint import client_secret_basic
from awesomeservice.settings import AwesomeServiceSettings
from shared.db import Database
from shared.oauth_spec import new_state

TOKEN = "/oauth/token"
READ = "photos.read"


@dataclass
class LabContext:
    """What an attack may use: the back channel, this app, and who pressed the button."""

    http: httpx.AsyncClient
    settings: AwesomeServiceSettings
    database: Database
    app: FastAPI
    cookie_header: str
    user_id: int | None
    browser_binding: str | None

    def self_client(self) -> httpx.AsyncClient:
        """AwesomeService calling itself in-process, with the reader's cookies (a forged link)."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url=self.settings.url,
            headers={"Cookie": self.cookie_header} if self.cookie_header else {},
            timeout=self.settings.http_timeout_seconds,
            follow_redirects=False,
        )


@dataclass
class Outcome:
    exchanges: list[Exchange] = field(default_factory=list)
    held: bool = True
    summary: str = ""


@dataclass(frozen=True)
class Attack:
    slug: str
    number: int
    title: str
    defence: str
    why: str
    rfc: str
    run: Callable[[LabContext], Awaitable[Outcome]]
    needs_sign_in: bool = False
    switchable: str | None = None  # the defence lab mode may switch off for one run
    why_heading: str = "Why it fails"
    try_it: tuple[str, str] | None = None  # (local path, link text): see it for yourself


def basic(settings: AwesomeServiceSettings) -> dict[str, str]:
    return {"Authorization": client_secret_basic(settings.client_id, settings.client_secret)}


SHOWN_BASIC = [("Authorization", "Basic (client_id and secret, masked)")]


async def jane_code(ctx: LabContext, *, use_pkce: bool = True) -> tuple[str, str, str]:
    """A fresh code for the print shop, from Jane's consent: (code, verifier, redirect_uri)."""
    answer = await authorize_as_jane(
        ctx.http,
        ctx.settings,
        client_id=ctx.settings.client_id,
        redirect_uri=ctx.settings.connect_redirect_uri,
        scope=READ,
        use_pkce=use_pkce,
    )
    if "code" not in answer.params:
        raise_cannot(answer.params)
    return answer.params["code"], answer.verifier or "", answer.redirect_uri


def raise_cannot(params: dict[str, str]) -> None:
    from awesomeservice.lab.browser import LabCannotRun

    raise LabCannotRun(
        f"Mockgram answered {params.get('error', 'without a code')}: "
        f"{params.get('error_description', '')}"
    )


async def redeem(
    ctx: LabContext, label: str, form: dict[str, str], *, with_secret: bool
) -> tuple[httpx.Response, Exchange]:
    headers = basic(ctx.settings) if with_secret else {}
    response = await send(ctx.http, "POST", TOKEN, data=form, headers=headers)
    shown = SHOWN_BASIC if with_secret else []
    return response, Exchange.of(label, response, body=list(form.items()), headers=shown)


def error_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""


# ── 1. A stolen code without the client secret ──────────────────────────────────────────────


async def stolen_code(ctx: LabContext) -> Outcome:
    # As in the article: a code requested without PKCE, so only the secret stands in the way.
    code, _verifier, redirect_uri = await jane_code(ctx, use_pkce=False)
    # The thief has the code (from a log, a Referer, a proxy), not the print shop's secret.
    response, exchange = await redeem(
        ctx,
        "The thief redeems the code, with the client_id but no secret",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": ctx.settings.client_id,
        },
        with_secret=False,
    )
    held = response.status_code == 401 and error_of(response) == "invalid_client"
    return Outcome(
        [exchange],
        held,
        f"Mockgram answered {response.status_code} {error_of(response)}: "
        "no token without the secret."
        if held
        else f"Mockgram answered {response.status_code}: the thief got a token with the "
        "code alone.",
    )


# ── 2. The same code redeemed twice ─────────────────────────────────────────────────────────


async def code_replay(ctx: LabContext) -> Outcome:
    code, verifier, redirect_uri = await jane_code(ctx)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    first, first_x = await redeem(
        ctx, "First redemption (as the print shop)", form, with_secret=True
    )
    second, second_x = await redeem(ctx, "The same code, again", form, with_secret=True)
    exchanges = [first_x, second_x]
    token = first.json().get("access_token", "") if first.status_code == 200 else ""
    revoked = False
    if token:
        check = await send(
            ctx.http, "GET", "/api/photos", headers={"Authorization": f"Bearer {token}"}
        )
        exchanges.append(
            Exchange.of(
                "The token from the first redemption, used afterwards",
                check,
                headers=[("Authorization", f"Bearer {mask(token)}")],
            )
        )
        revoked = check.status_code == 401
    held = second.status_code == 400 and error_of(second) == "invalid_grant" and revoked
    return Outcome(
        exchanges,
        held,
        "The replay got invalid_grant, and the first token stopped working."
        if held
        else "The replay was not refused as it should be.",
    )


# ── 3. A tampered redirect_uri ──────────────────────────────────────────────────────────────


async def tampered_redirect(ctx: LabContext) -> Outcome:
    params = {
        "response_type": "code",
        "client_id": ctx.settings.client_id,
        "redirect_uri": "https://attacker.example/steal",
        "scope": READ,
        "state": new_state(),
    }
    response = await send(ctx.http, "GET", "/oauth/authorize", params=params)
    exchange = Exchange.of("An authorization request naming the attacker's address", response)
    held = response.status_code == 400 and "location" not in response.headers
    return Outcome(
        [exchange],
        held,
        "Mockgram showed an error page and redirected nowhere."
        if held
        else "Mockgram redirected — the code could have leaked.",
    )


# ── 4. A forged callback (login CSRF) ───────────────────────────────────────────────────────


async def forged_callback(ctx: LabContext) -> Outcome:
    code, _verifier, _redirect_uri = await jane_code(ctx)
    async with ctx.self_client() as own:
        response = await own.get(
            "/connect/callback",
            params={
                "code": code,
                "state": new_state(),  # one AwesomeService never sent
                "iss": ctx.settings.mockgram_url,
            },
        )
    exchange = Exchange.of(
        "The attacker's link, opened in your browser: her code, a made-up state",
        response,
        headers=[("Cookie", "your AwesomeService session (masked)")],
    )
    held = response.status_code == 400 and "location" not in response.headers
    return Outcome(
        [exchange],
        held,
        "AwesomeService refused: it never sent this state, so "
        "Jane's account was not attached to yours."
        if held
        else "AwesomeService accepted the forged answer.",
    )


# ── 5. The print shop tries to delete a photo ───────────────────────────────────────────────


async def delete_photo(ctx: LabContext) -> Outcome:
    code, verifier, redirect_uri = await jane_code(ctx)
    tokens, token_x = await redeem(
        ctx,
        "The print shop's ordinary token request (scope photos.read)",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        with_secret=True,
    )
    token = tokens.json().get("access_token", "") if tokens.status_code == 200 else ""
    if not token:
        return Outcome([token_x], False, "Could not get a token to try with.")
    auth = {"Authorization": f"Bearer {token}"}
    shown = [("Authorization", f"Bearer {mask(token)}")]
    listing = await send(ctx.http, "GET", "/api/photos", headers=auth)
    photos = listing.json().get("photos", []) if listing.status_code == 200 else []
    photo_id = photos[0]["id"] if photos else 1
    response = await send(ctx.http, "DELETE", f"/api/photos/{photo_id}", headers=auth)
    exchange = Exchange.of("DELETE one of Jane's photos with that token", response, headers=shown)
    held = response.status_code == 403 and error_of(response) == "insufficient_scope"
    return Outcome(
        [token_x, exchange],
        held,
        "403 insufficient_scope: the photo is still there."
        if held
        else "The photo was not protected by scope.",
    )


# ── 6. A public client's code without the PKCE verifier ─────────────────────────────────────


async def pkce_missing(ctx: LabContext) -> Outcome:
    client_id = ctx.settings.spa_pkce_client_id
    answer = await authorize_as_jane(
        ctx.http,
        ctx.settings,
        client_id=client_id,
        redirect_uri=f"{ctx.settings.url}/spa/pkce",
        scope=READ,
    )
    if "code" not in answer.params:
        raise_cannot(answer.params)
    # The interceptor has the code (a malicious app on the same redirect URI) but not the
    # verifier, which never left the single-page app; a public client has no secret to steal.
    response, exchange = await redeem(
        ctx,
        "The intercepted code, redeemed without the code_verifier",
        {
            "grant_type": "authorization_code",
            "code": answer.params["code"],
            "redirect_uri": answer.redirect_uri,
            "client_id": client_id,
        },
        with_secret=False,
    )
    held = response.status_code == 400 and error_of(response) == "invalid_grant"
    return Outcome(
        [exchange],
        held,
        f"Mockgram answered {response.status_code} {error_of(response)}: "
        "without the verifier the code is worthless."
        if held
        else f"Mockgram answered {response.status_code}: the interceptor got a token "
        "without the verifier.",
    )


# ── 7. The implicit flow's token in the URL ─────────────────────────────────────────────────


async def implicit_token_in_url(ctx: LabContext) -> Outcome:
    answer = await authorize_as_jane(
        ctx.http,
        ctx.settings,
        client_id=ctx.settings.spa_implicit_client_id,
        redirect_uri=f"{ctx.settings.url}/spa/implicit",
        scope=READ,
        response_type="token",
        use_pkce=False,
    )
    if "access_token" not in answer.params:
        raise_cannot(answer.params)
    token = answer.params["access_token"]
    exchange = Exchange(
        label="Mockgram's answer to the implicit request: the token is in the address it "
        "sends the browser to",
        method="GET",
        url=mask_url(answer.request_url),
        status_code=303,
        response_headers=[("location", mask_url(answer.location))],
        response_body=(
            f"The address bar and the history now hold a live access token ({len(token)} "
            f"characters, scope {answer.params.get('scope', READ)}). A refresh token: "
            f"{'yes' if 'refresh_token' in answer.params else 'none (never in this flow)'}."
        ),
    )
    # There is no defence in the flow itself: this is why RFC 9700 §2.1.2 retires it.
    return Outcome(
        [exchange],
        False,
        "The token sat in the URL: anything that reads the "
        "history, a browser extension or a shared screen has it.",
    )


# ── 8. Mix-up: an answer carrying the wrong iss ─────────────────────────────────────────────


async def mix_up(ctx: LabContext) -> Outcome:
    if ctx.user_id is None or not ctx.browser_binding:
        from awesomeservice.lab.browser import LabCannotRun

        raise LabCannotRun(
            "Sign in to AwesomeService first: the forged answer needs your "
            "own, real Connect request to answer."
        )
    # A real Connect request of yours, so state is right and only iss is wrong.
    request = await ctx.database.run(
        connect_request,
        ctx.settings,
        user_id=ctx.user_id,
        browser_binding=ctx.browser_binding,
        authorization_endpoint=f"{ctx.settings.mockgram_url}/oauth/authorize",
    )
    state = dict(request.parameters)["state"]
    async with ctx.self_client() as own:
        response = await own.get(
            "/connect/callback",
            params={
                "code": new_state(),  # made up: the point is whether it is sent on
                "state": state,
                "iss": "https://attacker.example",
            },
        )
    exchange = Exchange.of(
        "An answer to your own request, claiming to come from https://attacker.example",
        response,
        headers=[("Cookie", "your AwesomeService session (masked)")],
    )
    held = (
        response.status_code == 400 and "iss" in response.text and "wrong server" in (response.text)
    )
    return Outcome(
        [exchange],
        held,
        "AwesomeService compared iss with Mockgram's issuer and refused before redeeming anything."
        if held
        else "AwesomeService took an answer from the wrong server for Mockgram's and sent its "
        "code on to the token endpoint. In a real mix-up that is the moment a code or token "
        "reaches the wrong hands. (The lab's code is made up, so Mockgram then refused to "
        "trade it, as the answer below shows; the point is that the print shop tried.)",
    )


# ── 9. A stolen access token, replayed from another machine ─────────────────────────────────


async def dpop_redeem(ctx: LabContext, form: dict[str, str], key: DpopKey) -> httpx.Response:
    """The print shop's token request with a DPoP proof; once more with the nonce if asked."""
    url = f"{ctx.settings.mockgram_url}{TOKEN}"  # htu: Mockgram's public URL (RFC 9449 §4.2)
    headers = basic(ctx.settings) | {"DPoP": key.proof("POST", url)}
    response = await send(ctx.http, "POST", TOKEN, data=form, headers=headers)
    if error_of(response) == "use_dpop_nonce":  # RFC 9449 §8: retry with the server's nonce
        nonce = response.headers.get(NONCE_HEADER)
        headers["DPoP"] = key.proof("POST", url, nonce=nonce)
        response = await send(ctx.http, "POST", TOKEN, data=form, headers=headers)
    return response


async def photos_with(
    ctx: LabContext, label: str, token: str, *, key: DpopKey | None = None, scheme: str = "Bearer"
) -> tuple[httpx.Response, Exchange]:
    """GET /api/photos with a token, as Bearer or under DPoP with a proof by `key`."""
    headers = {"Authorization": f"{scheme} {token}"}
    shown = [("Authorization", f"{scheme} {mask(token)}")]
    if key is not None:
        url = f"{ctx.settings.mockgram_url}/api/photos"
        headers["DPoP"] = key.proof("GET", url, access_token=token)
        shown.append(("DPoP", f"a proof signed by the key {key.jkt[:10]}… (ES256)"))
    response = await send(ctx.http, "GET", "/api/photos", headers=headers)
    return response, Exchange.of(label, response, headers=shown)


async def stolen_token(ctx: LabContext) -> Outcome:
    def form(code: str, verifier: str, redirect_uri: str) -> dict[str, str]:
        return {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }

    # A. An ordinary bearer token, copied from a log or a proxy: it works anywhere.
    code, verifier, redirect_uri = await jane_code(ctx)
    issued, issued_x = await redeem(
        ctx,
        "A. The print shop gets a plain Bearer token",
        form(code, verifier, redirect_uri),
        with_secret=True,
    )
    bearer_token = issued.json().get("access_token", "") if issued.status_code == 200 else ""
    if not bearer_token:
        return Outcome([issued_x], False, "Could not get a token to try with.")
    replay, replay_x = await photos_with(
        ctx, "A. The thief, on another machine, replays the bearer token", bearer_token
    )
    # B. The same, with the token bound to the print shop's DPoP key.
    shop_key, thief_key = DpopKey.generate(), DpopKey.generate()
    code, verifier, redirect_uri = await jane_code(ctx)
    bound = await dpop_redeem(ctx, form(code, verifier, redirect_uri), shop_key)
    bound_x = Exchange.of(
        "B. The print shop asks for a DPoP-bound token (its proof in the DPoP header)",
        bound,
        body=list(form(code, verifier, redirect_uri).items()),
        headers=[
            *SHOWN_BASIC,
            ("DPoP", f"a proof signed by the print shop's key {shop_key.jkt[:10]}…"),
        ],
    )
    dpop_token = bound.json().get("access_token", "") if bound.status_code == 200 else ""
    if not dpop_token:
        return Outcome([issued_x, replay_x, bound_x], False, "Could not get a DPoP-bound token.")
    as_bearer, as_bearer_x = await photos_with(
        ctx, "B. The thief replays the DPoP-bound token as a bearer token", dpop_token
    )
    own_proof, own_proof_x = await photos_with(
        ctx,
        "B. The thief signs a proof with a key of their own",
        dpop_token,
        key=thief_key,
        scheme="DPoP",
    )
    shop, shop_x = await photos_with(
        ctx, "B. The print shop itself, with its key", dpop_token, key=shop_key, scheme="DPoP"
    )
    bearer_accepted = replay.status_code == 200
    held = (
        as_bearer.status_code == 401
        and own_proof.status_code == 401
        and error_of(own_proof) == "invalid_dpop_proof"
        and shop.status_code == 200
    )
    exchanges = [issued_x, replay_x, bound_x, as_bearer_x, own_proof_x, shop_x]
    return Outcome(
        exchanges,
        held,
        (
            "A: the stolen bearer token read Jane's photos from the thief's machine"
            if bearer_accepted
            else "A: the bearer token was refused (unexpectedly)"
        )
        + (
            ". B: the DPoP-bound token was refused both ways — as a bearer token (invalid_token)"
            " and with the thief's own proof (invalid_dpop_proof) — while the print shop, "
            "holding the key, still reads the photos."
            if held
            else ". B: the DPoP-bound token was not refused as it should be."
        ),
    )


ATTACKS: list[Attack] = [
    Attack(
        "stolen-code",
        1,
        "A stolen authorization code, redeemed without the client secret",
        "Client authentication at the token endpoint → 401 invalid_client",
        "The code travels through the browser (step 4), so it can leak: browser history, "
        "logs, a Referer header. That is why the article has step 5 at all: the code is "
        "traded for a token on the back channel, and only together with the client secret, "
        "which never leaves the print shop's server. A code alone buys nothing. (The lab "
        "requests this code without PKCE, as the article does, so the secret is the only "
        "thing in the way; with PKCE the verifier would stop the thief too.)",
        "RFC 6749 §2.3.1, §4.1.3, §10.5",
        stolen_code,
        switchable="client_secret",
    ),
    Attack(
        "code-replay",
        2,
        "The same code redeemed twice",
        "Single use → 400 invalid_grant, and the first redemption's tokens revoked",
        "A code works once. When it shows up again, someone else has it — so Mockgram "
        "refuses the second redemption and also revokes every token the first one "
        "produced, in case the thief won the race.",
        "RFC 6749 §4.1.2, §10.5; RFC 9700 §4.5.3",
        code_replay,
        switchable="single_use",
    ),
    Attack(
        "tampered-redirect",
        3,
        "A tampered redirect_uri",
        "Exact redirect_uri match → an error page, no redirect",
        "If Mockgram sent the code to any address the request names, an attacker would "
        "only need to change that address. Mockgram compares redirect_uri with the "
        "registered ones as exact strings and, on a mismatch, shows a page instead of "
        "redirecting anywhere — not even to the registered address.",
        "RFC 6749 §3.1.2, §4.1.2.1; RFC 9700 §4.1",
        tampered_redirect,
    ),
    Attack(
        "forged-callback",
        4,
        "A forged callback (login CSRF) with a wrong state",
        "state bound to your browser → AwesomeService refuses",
        "Jane runs the flow with her own Mockgram account, stops before the callback and "
        "sends you the link. Without a state check, AwesomeService would attach Jane's "
        "Mockgram account to yours — and print her photos, or store yours where she sees "
        "them. AwesomeService only accepts answers to requests this very browser started.",
        "RFC 6749 §10.12; RFC 9700 §4.7",
        forged_callback,
    ),
    Attack(
        "delete-photo",
        5,
        "The print shop tries to delete a photo",
        "Scope → 403 insufficient_scope",
        "The article's opening problem: giving a print shop your password gives it "
        "everything. With OAuth it holds a token for photos.read only, so even a hacked "
        "print shop cannot delete, post or change a photo.",
        "RFC 6749 §3.3; RFC 6750 §3.1",
        delete_photo,
    ),
    Attack(
        "pkce-missing",
        6,
        "An intercepted code of a public client, without the PKCE verifier",
        "PKCE (S256) → 400 invalid_grant",
        "A single-page app cannot keep a secret, so a stolen code would be enough — "
        "unless the code is bound to a verifier that never left the app. Only the SHA-256 "
        "of it travelled with the authorization request.",
        "RFC 7636 §1, §4.6; RFC 9700 §2.1.1",
        pkce_missing,
        switchable="pkce",
    ),
    Attack(
        "implicit-token",
        7,
        "The implicit flow's token in the browser's URL and history",
        "None in the flow itself — use the code flow with PKCE",
        "response_type=token puts the access token itself in the redirect's fragment: it "
        "lands in the address bar and the history, where scripts, extensions and anyone "
        "looking can read it, and nothing proves who receives it. The OAuth 2.0 Security "
        "BCP says not to use it; the single-page demo beside it shows the code flow with "
        "PKCE instead.",
        "RFC 6749 §4.2, §10.16; RFC 9700 §2.1.2",
        implicit_token_in_url,
        why_heading="Why the flow cannot defend against it",
        try_it=("/spa/implicit", "See it in your own address bar: the implicit-flow demo"),
    ),
    Attack(
        "mix-up",
        8,
        "Mix-up: an answer carrying the wrong iss",
        "iss compared with Mockgram's issuer → refused before any redemption",
        "A client that talks to several authorization servers can be tricked into sending "
        "a code or token to the wrong one. Mockgram names itself in every answer (iss), "
        "and AwesomeService checks it, exactly, before it redeems anything.",
        "RFC 9207 §2.4; RFC 9700 §4.4",
        mix_up,
        needs_sign_in=True,
        switchable="iss",
    ),
    Attack(
        "stolen-token",
        9,
        "A stolen access token, replayed from another machine",
        "DPoP: a token bound to the print shop's key → 401 without that key's proof",
        "A bearer token is like cash: whoever holds it can spend it — copied from a log, a "
        "proxy or a compromised server, it works from any machine until it expires. With DPoP "
        "the print shop keeps a private key and signs a small proof for every request (this "
        "method, this URL, now, this token); Mockgram binds the token to that key (cnf.jkt). "
        "Stolen, the token is refused as a bearer token, and no proof the thief can sign "
        "matches the key. Both outcomes are shown: first an ordinary bearer token, then a "
        "DPoP-bound one.",
        "RFC 9449 §1, §4.3, §7; RFC 9700 §4.10.1",
        stolen_token,
    ),
]
BY_SLUG = {attack.slug: attack for attack in ATTACKS}
