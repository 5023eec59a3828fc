"""What each authorization-request and callback parameter means, in plain words."""

from __future__ import annotations

MEANINGS: dict[str, tuple[str, str]] = {
    # name: (meaning, where it is defined)
    "client_id": (
        "Who is asking: the ID the app got when it registered (step 0).",
        "RFC 6749 §2.2",
    ),
    "redirect_uri": (
        "Where the browser is sent back; it must match a registered address exactly.",
        "RFC 6749 §3.1.2",
    ),
    "scope": ("What is asked for, as space-separated scope names.", "RFC 6749 §3.3"),
    "response_type": (
        "What comes back: code (a code to trade), token, id_token, or a mix.",
        "RFC 6749 §3.1.1",
    ),
    "response_mode": (
        "How the answer travels: query string, fragment, or an auto-submitted form.",
        "OAuth 2.0 Multiple Response Types §2.1",
    ),
    "state": (
        "A random one-time value tied to this browser; the answer must bring it back (CSRF).",
        "RFC 6749 §4.1.1, §10.12",
    ),
    "nonce": (
        "A random value the id_token must repeat: it ties the token to this request.",
        "OpenID Connect Core §3.1.2.1",
    ),
    "code_challenge": (
        "The SHA-256 of the PKCE verifier, a secret that stays on the server until step 5.",
        "RFC 7636 §4.3",
    ),
    "code_challenge_method": ("How the challenge was made; S256, never plain.", "RFC 7636 §4.3"),
    "prompt": (
        "Whether to force a new sign-in or consent, or to show nothing.",
        "OIDC Core §3.1.2.1",
    ),
    "max_age": ("How old the sign-in may be, in seconds.", "OIDC Core §3.1.2.1"),
    "login_hint": ("Who is probably signing in.", "OIDC Core §3.1.2.1"),
    "code": (
        "The authorization code: short-lived, single use, worthless alone.",
        "RFC 6749 §4.1.2",
    ),
    "iss": ("Who sent the answer: it must equal the expected issuer.", "RFC 9207 §2"),
    "error": ("Why the request was refused, as an RFC error code.", "RFC 6749 §4.1.2.1"),
    "error_description": ("A human-readable note on the error.", "RFC 6749 §4.1.2.1"),
    "error_uri": ("A page explaining the error.", "RFC 6749 §4.1.2.1"),
    "access_token": ("The access token itself (implicit or hybrid flows).", "RFC 6749 §4.2.2"),
    "id_token": ("Who signed in, as a signed JWT.", "OpenID Connect Core §2"),
    "token_type": ("How to use the token: Bearer.", "RFC 6749 §7.1"),
    "expires_in": ("Seconds until the access token expires.", "RFC 6749 §5.1"),
    "session_state": ("The provider's session, for session management.", "OIDC Session §2"),
}


def meaning(name: str) -> tuple[str, str]:
    """(meaning, reference) of a parameter; unknown parameters are ignored by servers."""
    return MEANINGS.get(
        name, ("Not a standard parameter; servers ignore unknown ones.", "RFC 6749 §3.1")
    )


ERRORS: dict[str, str] = {
    "invalid_request": "The request was malformed: a parameter is missing, repeated or invalid.",
    "unauthorized_client": "This client may not use this flow or response type.",
    "access_denied": "The user (or the server) said no.",
    "unsupported_response_type": "The server does not support this response_type.",
    "invalid_scope": "A requested scope is unknown, malformed or not allowed for this client.",
    "server_error": "Something went wrong inside the authorization server.",
    "temporarily_unavailable": "The server is busy or under maintenance.",
    "login_required": "prompt=none was asked, but nobody is signed in.",
    "consent_required": "prompt=none was asked, but the user has not consented yet.",
    "interaction_required": "prompt=none was asked, but the server needs to show a page.",
    "invalid_client": "Client authentication failed: unknown client, wrong secret or method.",
    "invalid_grant": "The code (or refresh token) is expired, used, revoked, for another client, "
    "or the redirect_uri or PKCE verifier does not match the authorization request.",
    "unsupported_grant_type": "The server does not support this grant_type.",
    "invalid_token": "The access token is expired, revoked, malformed or for another audience.",
    "insufficient_scope": "The token is valid but its scope does not allow this call.",
}


def explain_error(code: str) -> str:
    """A plain-words explanation of an OAuth error code (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1)."""
    return ERRORS.get(code, "Not a standard OAuth error code.")
