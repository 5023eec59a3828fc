"""The check-up's trips through the person's browser: each leg is one authorization request
the provider answers with a code (or an error), and what the check-up then does with it.

Checks that need a code need a person to sign in and consent at the provider. The first leg
asks for that; the provider remembers the consent, so the later legs usually pass straight
through. Each code is used for one purpose only (a provider may burn a code at the first wrong
try), in this order:

1. `pkce_missing` — redeem without the code_verifier (must be refused, RFC 7636 §4.6)
2. `pkce_wrong`   — redeem with another verifier (must be refused)
3. `redeem`       — redeem properly; refresh, reuse the old refresh token; replay the code
4. `pkce_plain`   — ask with code_challenge_method=plain (must be refused, RFC 9700 §2.1.1)
5. `unknown_scope` — ask for a scope nobody defines (must be invalid_scope, RFC 6749 §3.3)

Every answer is also read for state, iss and tokens in its query.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from awesomeservice.checkup import probes
from awesomeservice.checkup.rows import result, worse
from awesomeservice.settings import AwesomeServiceSettings
from shared import pkce


@dataclass(frozen=True)
class Leg:
    """One browser trip: its name, the rows it decides, and what the person is told."""

    name: str
    rows: tuple[str, ...]
    says: str


LEGS: tuple[Leg, ...] = (
    Leg("pkce_missing", ("pkce_missing",), "a code, to redeem without its PKCE verifier"),
    Leg("pkce_wrong", ("pkce_wrong",), "a code, to redeem with a wrong PKCE verifier"),
    Leg(
        "redeem",
        ("code_replay", "refresh_rotation", "refresh_reuse"),
        "a code, to redeem, refresh and replay",
    ),
    Leg("pkce_plain", ("pkce_plain",), "a request with code_challenge_method=plain"),
    Leg("unknown_scope", ("unknown_scope",), "a request for a scope that does not exist"),
)
# Read on every answer.
ANSWER_ROWS = ("state_unchanged", "iss_returned", "no_token_in_query")


@dataclass(frozen=True)
class Outbound:
    """A leg's authorization request: its URL, and the state and verifier kept here."""

    url: str
    state: str
    verifier: str


def request_for(
    leg: Leg, *, endpoint: str, client_id: str, redirect_uri: str, scope: str
) -> Outbound:
    """RFC 6749 §4.1.1 with RFC 7636 §4.3 — bent where this leg tests a refusal."""
    state = probes.checkup_state()
    verifier = pkce.make_verifier()
    method, challenge = "S256", pkce.s256_challenge(verifier)
    if leg.name == "pkce_plain":
        method, challenge = "plain", verifier  # RFC 7636 §4.2: plain's challenge is the verifier
    if leg.name == "unknown_scope":
        scope = f"{scope} {probes.UNKNOWN_SCOPE}".strip()
    parameters = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", scope),
        ("state", state),
        ("code_challenge", challenge),
        ("code_challenge_method", method),
    ]
    separator = "&" if "?" in endpoint else "?"
    return Outbound(f"{endpoint}{separator}{urlencode(parameters)}", state, verifier)


@dataclass(frozen=True)
class Pending:
    """What the check-up knows of the run when an answer comes back (no database session)."""

    issuer: str
    iss_advertised: bool
    redirect_uri: str
    state: str
    verifier: str
    client: probes.Client


def not_run(leg: Leg, why: str) -> dict[str, dict[str, str]]:
    """Every row of `leg` as not run, with the reason."""
    return {key: result("not_run", why) for key in leg.rows}


async def answer(
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    leg: Leg,
    pending: Pending,
    received: Mapping[str, str],
) -> dict[str, dict[str, str]]:
    """The rows this answer decides: the answer's own, then the leg's."""
    rows = {
        "state_unchanged": probes.judge_state(received, pending.state),
        "iss_returned": probes.judge_iss(received, pending.issuer, pending.iss_advertised),
        "no_token_in_query": probes.judge_query(received),
    }
    if rows["state_unchanged"]["grade"] != "pass":
        # RFC 6749 §10.12: a client must not use a code whose state does not match.
        return rows | not_run(leg, "The state did not match, so the code was not used.")
    error = received.get("error", "")[:64]
    code = received.get("code", "")
    if leg.name in ("pkce_plain", "unknown_scope"):
        return rows | await _refusal_expected(http, settings, leg, pending, error, code)
    if error:
        said = received.get("error_description", "")[:200]
        return rows | not_run(leg, f"The provider answered error={error} {said}".strip() + ".")
    if not code:
        return rows | not_run(leg, "The answer carried neither a code nor an error.")
    return rows | await _use_code(http, settings, leg, pending, code)


async def _use_code(
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    leg: Leg,
    pending: Pending,
    code: str,
) -> dict[str, dict[str, str]]:
    """Try the code at the token endpoint as this leg says."""
    redirect_uri, client = pending.redirect_uri, pending.client
    if leg.name == "pkce_missing":
        sent = await probes.token_request(
            http, settings, client, probes.code_form(code, redirect_uri, None)
        )
        return {"pkce_missing": probes.judge_refused(sent, "a code without its code_verifier")}
    if leg.name == "pkce_wrong":
        form = probes.code_form(code, redirect_uri, probes.wrong_verifier())
        sent = await probes.token_request(http, settings, client, form)
        return {"pkce_wrong": probes.judge_refused(sent, "a code with a wrong code_verifier")}
    # `redeem`: the honest redemption first, then what an attacker would do with its leftovers.
    form = probes.code_form(code, redirect_uri, pending.verifier)
    first = await probes.token_request(http, settings, client, form)
    if not first.granted:
        why = f"The proper redemption was refused: {first.failure or first.error}."
        if first.error == "invalid_client":
            why += " Check the client_id and secret."
        return not_run(leg, why)
    refresh_token = first.body.get("refresh_token")
    rows = await probes.refresh_checks(
        http, settings, client, refresh_token if isinstance(refresh_token, str) else None
    )
    replay = await probes.token_request(http, settings, client, form)
    return rows | {"code_replay": probes.judge_refused(replay, "the same code a second time")}


async def _refusal_expected(
    http: httpx.AsyncClient,
    settings: AwesomeServiceSettings,
    leg: Leg,
    pending: Pending,
    error: str,
    code: str,
) -> dict[str, dict[str, str]]:
    """pkce_plain and unknown_scope: an error answer is the pass; a code, the failure."""
    key = leg.rows[0]
    expected = "invalid_request" if leg.name == "pkce_plain" else "invalid_scope"
    if error:
        note = "" if error == expected else f" ({expected} is the code the RFC names)"
        return {key: result("pass", f"Refused with error={error}{note}.")}
    if not code:
        return not_run(leg, "The answer carried neither a code nor an error.")
    form = probes.code_form(code, pending.redirect_uri, pending.verifier)
    sent = await probes.token_request(http, settings, pending.client, form)
    if leg.name == "pkce_plain":
        if sent.granted:
            return {key: result("fail", "A plain challenge got a code, and the code got tokens.")}
        return {
            key: result(
                "fail",
                "A plain challenge got a code (the token endpoint then "
                f"refused it: {sent.error}); it should be refused at once.",
            )
        }
    granted = str(sent.body.get("scope", "")).split()
    if probes.UNKNOWN_SCOPE in granted:
        return {key: result("fail", f"The provider granted {probes.UNKNOWN_SCOPE!r}.")}
    return {
        key: result(
            "warn",
            "The unknown scope was silently dropped and a code issued. RFC 6749 §3.3 lets a "
            "provider ignore it, but only invalid_scope tells the client what happened.",
        )
    }


def merge(
    results: dict[str, dict[str, str]], new: dict[str, dict[str, str]]
) -> dict[str, dict[str, str]]:
    """Each row keeps its worse result across legs (a failure on any answer stands)."""
    merged = dict(results)
    for key, outcome in new.items():
        merged[key] = worse(merged.get(key), outcome)
    return merged
