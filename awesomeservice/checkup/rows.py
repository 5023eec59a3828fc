"""The rows of the check-up's report: what is checked, the specification line that asks for it,
and what a provider failing it lets an attacker do. A table, in the order the report shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Grade = Literal["pass", "fail", "warn", "not_run"]
# When two legs speak to one row, the worse word wins; a check that ran beats one that did not.
SEVERITY: dict[str, int] = {"not_run": 0, "pass": 1, "warn": 2, "fail": 3}

RFC = "https://www.rfc-editor.org/rfc/"


@dataclass(frozen=True)
class Row:
    """One line of the report."""

    key: str
    group: str
    title: str
    spec: str
    link: str
    attack: str


ROWS: tuple[Row, ...] = (
    # Redirect URIs: RFC 6749 §3.1.2, RFC 9700 §2.1 and §4.1.3 — exact string comparison.
    Row(
        "redirect_trailing_slash",
        "Redirect URI",
        "A trailing slash added to the registered redirect URI is refused",
        "RFC 9700 §2.1, §4.1.3; RFC 6749 §3.1.2.3",
        f"{RFC}rfc9700#section-4.1.3",
        "Loose matching lets an attacker who controls any path the pattern covers receive "
        "the victim's code or token.",
    ),
    Row(
        "redirect_extra_path",
        "Redirect URI",
        "An extra path under the registered redirect URI is refused",
        "RFC 9700 §2.1, §4.1.3; RFC 6749 §3.1.2.3",
        f"{RFC}rfc9700#section-4.1.3",
        "Prefix matching sends codes to any page under the client's path — an open redirect or "
        "a user-content page there leaks them to the attacker.",
    ),
    Row(
        "redirect_other_port",
        "Redirect URI",
        "The registered host on another port is refused",
        "RFC 9700 §4.1.3; RFC 6749 §3.1.2.3",
        f"{RFC}rfc9700#section-4.1.3",
        "Another service on the same host (any port) receives the victim's codes.",
    ),
    Row(
        "redirect_other_host",
        "Redirect URI",
        "Another host is refused",
        "RFC 6749 §3.1.2.3, §4.1.2.1; RFC 9700 §4.1",
        f"{RFC}rfc6749#section-4.1.2.1",
        "The attacker's own site receives the victim's authorization code: account takeover.",
    ),
    Row(
        "redirect_scheme",
        "Redirect URI",
        "The other scheme (http instead of https, or the reverse) is refused",
        "RFC 9700 §4.1.3; RFC 6749 §3.1.2.1",
        f"{RFC}rfc6749#section-3.1.2.1",
        "A code sent over plain http can be read by anyone on the victim's network.",
    ),
    # PKCE: RFC 7636, RFC 9700 §2.1.1.
    Row(
        "pkce_missing",
        "PKCE",
        "A code requested with a challenge is not redeemed without code_verifier",
        "RFC 7636 §4.6; RFC 9700 §2.1.1",
        f"{RFC}rfc7636#section-4.6",
        "A stolen or injected code is redeemed by whoever holds it: PKCE protects nothing.",
    ),
    Row(
        "pkce_wrong",
        "PKCE",
        "A code is not redeemed with a wrong code_verifier",
        "RFC 7636 §4.6",
        f"{RFC}rfc7636#section-4.6",
        "The verifier is not compared, so an attacker with a stolen code sends any verifier.",
    ),
    Row(
        "pkce_plain",
        "PKCE",
        "code_challenge_method=plain is refused",
        "RFC 9700 §2.1.1; RFC 7636 §7.2",
        f"{RFC}rfc9700#section-2.1.1",
        "With plain the challenge is the verifier: whoever sees the authorization request "
        "(logs, history, a proxy) can redeem the code.",
    ),
    # Authorization codes: RFC 6749 §4.1.2, §10.5.
    Row(
        "code_replay",
        "Authorization code",
        "A code redeemed once is refused the second time",
        "RFC 6749 §4.1.2, §10.5; RFC 9700 §4.5",
        f"{RFC}rfc6749#section-4.1.2",
        "A code leaked after use (logs, Referer, history) still buys tokens for the attacker.",
    ),
    # The authorization response: RFC 6749 §4.1.2, RFC 9207.
    Row(
        "state_unchanged",
        "Authorization response",
        "state comes back exactly as sent",
        "RFC 6749 §4.1.2",
        f"{RFC}rfc6749#section-4.1.2",
        "A changed state breaks the client's CSRF check; clients then loosen it, and an "
        "attacker can log the victim in to the attacker's account (RFC 6749 §10.12).",
    ),
    Row(
        "iss_returned",
        "Authorization response",
        "iss is in the authorization response and equals the issuer",
        "RFC 9207 §2, §2.4",
        f"{RFC}rfc9207#section-2",
        "Without iss a client talking to several providers cannot tell which one answered: a "
        "mix-up attack sends the victim's code to the attacker's provider.",
    ),
    Row(
        "unknown_scope",
        "Authorization response",
        "An unknown scope is refused with invalid_scope",
        "RFC 6749 §3.3, §4.1.2.1",
        f"{RFC}rfc6749#section-4.1.2.1",
        "A provider that grants what it does not know cannot be trusted to limit what it "
        "grants; a silently dropped scope leaves the client guessing what it may do.",
    ),
    Row(
        "no_token_in_query",
        "Authorization response",
        "No token travels in a redirect's query string",
        "RFC 9700 §4.3.2; OAuth 2.0 Multiple Response Types §2.1",
        f"{RFC}rfc9700#section-4.3.2",
        "A token in a URL ends up in logs, browser history and Referer headers, where anyone "
        "reading them uses it.",
    ),
    # Refresh tokens: RFC 9700 §4.14.2.
    Row(
        "refresh_rotation",
        "Refresh token",
        "A refresh returns a new refresh token (rotation)",
        "RFC 9700 §4.14.2; RFC 6749 §6",
        f"{RFC}rfc9700#section-4.14.2",
        "Without rotation (or sender-constraining) a stolen refresh token works for as long as "
        "the grant lives, and nobody notices.",
    ),
    Row(
        "refresh_reuse",
        "Refresh token",
        "Reusing a rotated refresh token is refused and revokes the grant",
        "RFC 9700 §4.14.2",
        f"{RFC}rfc9700#section-4.14.2",
        "Without reuse detection the thief and the victim both keep refreshing; with it, the "
        "first reuse ends the stolen grant.",
    ),
)

BY_KEY = {row.key: row for row in ROWS}


def worse(a: dict[str, str] | None, b: dict[str, str]) -> dict[str, str]:
    """Of two results for one row, the one the report keeps."""
    if a is None or SEVERITY[b["grade"]] > SEVERITY[a["grade"]]:
        return b
    return a


def result(grade: Grade, detail: str) -> dict[str, str]:
    """One row's outcome as stored."""
    return {"grade": grade, "detail": detail[:600]}


def letter(results: dict[str, dict[str, str]]) -> str:
    """The headline: A+ for full marks, down to F by the number of failures."""
    grades = [results.get(row.key, {"grade": "not_run"})["grade"] for row in ROWS]
    fails = grades.count("fail")
    if fails == 0:
        return "A+" if all(grade == "pass" for grade in grades) else "A"
    return {1: "C", 2: "D", 3: "D"}.get(fails, "F")
