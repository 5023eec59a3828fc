"""The client report card: what a client sent, graded against the RFCs, one row per check.

Graded from the captured requests (mockgram/capture.py) and the client's registration: each check
looks at the requests it concerns and says pass, fail or not seen (no such request yet), with
the requests' evidence and the section of the RFC it holds the client to. It reads only masked
parameters and derived facts (a state's length, entropy estimate and digest), never a secret.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from mockgram import capture
from mockgram.capture import CapturedRequest
from mockgram.models import Client
from shared.clock import as_utc

PASS, FAIL, NOT_SEEN = "pass", "fail", "not_seen"
# RFC 6749 §10.10 asks 2^-128 at most for guessing a credential; a state is held to the same.
MIN_STATE_BITS = 128
RFC = "https://www.rfc-editor.org/rfc/"


class UnknownClient(LookupError):
    """No client is registered under that client_id."""


@dataclass(frozen=True)
class Request:
    """A captured request as the checks read it: parameters by name, and its facts."""

    row: CapturedRequest
    params: dict[str, str]
    facts: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.row.method} {self.row.path} at {as_utc(self.row.at):%H:%M:%S}"


@dataclass(frozen=True)
class Grade:
    status: str
    detail: str


@dataclass(frozen=True)
class Check:
    """One row of the card: what is checked, the RFC line it comes from, and how it is graded."""

    id: str
    title: str
    rfc: str
    rfc_url: str
    grade: Callable[[Client, list[Request]], Grade]


def report_card(session: Session, client_id: str) -> dict[str, Any]:
    """The report card of one registered client as a JSON-ready dict (UnknownClient if none)."""
    client = session.get(Client, client_id)
    if client is None:
        raise UnknownClient(client_id)
    rows = capture.rows(session, client_id=client_id, limit=5000)
    requests = [read(row) for row in reversed(rows)]  # oldest first: "reused" means "seen before"
    checks = []
    for check in CHECKS:
        grade = check.grade(client, requests)
        checks.append(
            {
                "id": check.id,
                "title": check.title,
                "status": grade.status,
                "detail": grade.detail,
                "rfc": check.rfc,
                "rfc_url": check.rfc_url,
            }
        )
    return {
        "client_id": client.client_id,
        "client_name": client.name,
        "requests_seen": len(requests),
        "summary": {s: sum(c["status"] == s for c in checks) for s in (PASS, FAIL, NOT_SEEN)},
        "checks": checks,
    }


def read(row: CapturedRequest) -> Request:
    params = {p["name"]: p["value"] for p in json.loads(row.params) if p["in"] != "header"}
    return Request(row, params, json.loads(row.facts))


def authorization_requests(requests: list[Request]) -> list[Request]:
    return [r for r in requests if r.row.endpoint == "authorization"]


def _failed(status_detail: list[str], passed: str, seen: int, what: str) -> Grade:
    """Fail with the first problems named, or pass; not seen when nothing was looked at."""
    if not seen:
        return Grade(NOT_SEEN, f"No {what} seen yet.")
    if status_detail:
        more = f" (and {len(status_detail) - 3} more)" if len(status_detail) > 3 else ""
        return Grade(FAIL, "; ".join(status_detail[:3]) + more + ".")
    return Grade(PASS, passed)


# ── The checks, in the order a flow meets them ──────────────────────────────────────────────


def grade_state(_client: Client, requests: list[Request]) -> Grade:
    """Every authorization request carries a fresh, unguessable state."""
    seen: set[str] = set()
    problems = []
    authorizations = authorization_requests(requests)
    for r in authorizations:
        state = r.facts.get("state")
        if state is None:
            problems.append(f"{r.label}: no state")
            continue
        if state["bits"] < MIN_STATE_BITS:
            problems.append(
                f"{r.label}: a {state['length']}-character state, about {state['bits']} bits "
                f"— guessable (want {MIN_STATE_BITS} or more)"
            )
        if state["digest"] in seen:
            problems.append(f"{r.label}: the same state as an earlier request")
        seen.add(state["digest"])
    passed = f"All {len(authorizations)} carried a fresh state of {MIN_STATE_BITS}+ bits."
    return _failed(problems, passed, len(authorizations), "authorization request")


def asks_for_code(r: Request) -> bool:
    return "code" in r.params.get("response_type", "").split()


def grade_pkce(_client: Client, requests: list[Request]) -> Grade:
    """Every request for a code sends an S256 code_challenge (never plain, never none)."""
    code_requests = [r for r in authorization_requests(requests) if asks_for_code(r)]
    problems = []
    for r in code_requests:
        method = r.params.get("code_challenge_method")
        if "code_challenge" not in r.params:
            problems.append(f"{r.label}: no code_challenge")
        elif method != "S256":
            problems.append(f"{r.label}: code_challenge_method {method or 'absent (plain)'}")
    passed = f"All {len(code_requests)} code requests used S256."
    return _failed(problems, passed, len(code_requests), "request for an authorization code")


def grade_nonce(_client: Client, requests: list[Request]) -> Grade:
    """Every OpenID Connect request carries a nonce."""
    oidc = [
        r for r in authorization_requests(requests) if "openid" in r.params.get("scope", "").split()
    ]
    problems = [f"{r.label}: scope openid without a nonce" for r in oidc if "nonce" not in r.params]
    passed = f"All {len(oidc)} OpenID Connect requests carried a nonce."
    return _failed(problems, passed, len(oidc), "OpenID Connect authorization request")


def grade_redirect_uri(client: Client, requests: list[Request]) -> Grade:
    """redirect_uri is sent, and is character for character one the client registered."""
    registered = set(client.redirect_uri_list)
    looked_at = [
        r
        for r in requests
        if r.row.endpoint == "authorization"
        or (r.row.endpoint == "token" and r.params.get("grant_type") == "authorization_code")
    ]
    problems = []
    for r in looked_at:
        uri = r.params.get("redirect_uri")
        if uri is None and r.row.endpoint == "authorization":
            problems.append(f"{r.label}: no redirect_uri")
        elif uri is not None and uri not in registered:
            problems.append(f"{r.label}: {uri} is not registered exactly")
    passed = "Every redirect_uri was exactly a registered one."
    return _failed(problems, passed, len(looked_at), "request with a redirect_uri")


def grade_client_auth(client: Client, requests: list[Request]) -> Grade:
    """Back-channel requests authenticate the way the client registered."""
    expected = client.token_endpoint_auth_method
    back_channel = [r for r in requests if "auth_method" in r.facts]
    problems = [
        f"{r.label}: {r.facts['auth_method'].replace('_', ' ')}, registered {expected}"
        for r in back_channel
        if r.facts["auth_method"] != expected
    ]
    passed = f"All {len(back_channel)} used {expected}, as registered."
    return _failed(
        problems, passed, len(back_channel), "token, revocation or introspection request"
    )


def carries_token(r: Request) -> bool:
    return r.row.endpoint in ("photos API", "userinfo", "revocation", "introspection") or (
        r.row.endpoint == "token" and r.params.get("grant_type") == "refresh_token"
    )


def grade_token_in_query(_client: Client, requests: list[Request]) -> Grade:
    """No access or refresh token ever travels in a URL's query string."""
    with_tokens = [r for r in requests if carries_token(r) or "tokens_in_query" in r.facts]
    problems = [
        f"{r.label}: {', '.join(r.facts['tokens_in_query'])} in the query string"
        for r in with_tokens
        if "tokens_in_query" in r.facts
    ]
    passed = f"All {len(with_tokens)} requests carrying a token kept it out of the URL."
    return _failed(problems, passed, len(with_tokens), "request carrying a token")


def grade_refresh_rotation(_client: Client, requests: list[Request]) -> Grade:
    """Each refresh uses the newest refresh token; a rotated one never comes back."""
    refreshes = [
        r
        for r in requests
        if r.row.endpoint == "token" and r.params.get("grant_type") == "refresh_token"
    ]
    problems = [
        f"{r.label}: an already-used refresh token (the whole grant was revoked)"
        for r in refreshes
        if "refresh_token_reused" in r.facts.get("notes", ())
    ]
    passed = f"All {len(refreshes)} refreshes used the newest refresh token."
    return _failed(problems, passed, len(refreshes), "refresh")


def grade_revocation(_client: Client, requests: list[Request]) -> Grade:
    """On logout or disconnect the client revokes its tokens, and the revocation is accepted."""
    revocations = [r for r in requests if r.row.endpoint == "revocation"]
    if not revocations:
        return Grade(
            NOT_SEEN,
            "No revocation seen yet: on logout or disconnect, POST the refresh token to "
            "/oauth/revoke.",
        )
    accepted = [r for r in revocations if r.row.status == 200]
    if not accepted:
        last = revocations[-1]
        return Grade(
            FAIL,
            f"{len(revocations)} revocation request(s), none accepted; the last, {last.label}, "
            f"was answered {last.row.status} {last.row.error or ''}".rstrip()
            + ".",
        )
    return Grade(PASS, f"{len(accepted)} revocation request(s) accepted.")


CHECKS: tuple[Check, ...] = (
    Check(
        "state",
        "state present, unguessable and never reused",
        "RFC 6749 §10.12; RFC 9700 §4.7.1",
        f"{RFC}rfc9700#section-4.7.1",
        grade_state,
    ),
    Check(
        "pkce",
        "PKCE with S256 (not plain, not missing)",
        "RFC 7636 §4.2; RFC 9700 §2.1.1",
        f"{RFC}rfc9700#section-2.1.1",
        grade_pkce,
    ),
    Check(
        "nonce",
        "nonce in OpenID Connect requests",
        "OIDC Core §3.1.2.1, §15.5.2",
        "https://openid.net/specs/openid-connect-core-1_0.html#NonceNotes",
        grade_nonce,
    ),
    Check(
        "redirect_uri",
        "redirect_uri exactly as registered",
        "RFC 9700 §4.1.3; RFC 6749 §3.1.2",
        f"{RFC}rfc9700#section-4.1.3",
        grade_redirect_uri,
    ),
    Check(
        "client_auth",
        "client authentication as registered",
        "RFC 6749 §2.3.1; RFC 7591 §2",
        f"{RFC}rfc6749#section-2.3.1",
        grade_client_auth,
    ),
    Check(
        "token_in_query",
        "no token in a query string",
        "RFC 6750 §2.3; RFC 9700 §4.3.2",
        f"{RFC}rfc9700#section-4.3.2",
        grade_token_in_query,
    ),
    Check(
        "refresh_rotation",
        "refresh token rotation honoured (no reuse)",
        "RFC 9700 §4.14.2; RFC 6749 §6",
        f"{RFC}rfc9700#section-4.14.2",
        grade_refresh_rotation,
    ),
    Check(
        "revocation",
        "tokens revoked on logout",
        "RFC 7009 §2",
        f"{RFC}rfc7009#section-2",
        grade_revocation,
    ),
)
