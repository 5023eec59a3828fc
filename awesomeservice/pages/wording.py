"""What John reads when the protocol says no, or shows its work: the words for each reason
code awesomeservice/oauth/ raises, and for each parameter of Connect's request (step 1).

The rules live in awesomeservice/oauth/; only their words live here, next to the pages.
"""

from __future__ import annotations

from awesomeservice.oauth.callback import CallbackRefused

# Step 1: what each parameter of Connect's authorization request means (RFC 6749 §4.1.1).
PARAMETER_MEANINGS: dict[str, str] = {
    "client_id": "Who is asking: the ID Mockgram gave AwesomeService when it registered (step 0).",
    "redirect_uri": "Where Mockgram sends John back; it must match a registered address exactly.",
    "scope": "What is asked for: read John's photos — never post, change or delete them.",
    "response_type": "Send back a short-lived code, not the token itself "
    "(the authorization code flow).",
    "response_mode": "The code comes back in the query string of the redirect.",
    "state": "A random one-time value tied to this browser; the answer must bring it back.",
    "code_challenge": "The SHA-256 of a secret (the PKCE verifier) that stays on "
    "AwesomeService's server.",
    "code_challenge_method": "How the challenge was made: SHA-256. "
    "The weak 'plain' method is never used.",
}

# Step 4, C1: (title, message) for each way a state fails, per flow.
CONNECT_STATE: dict[str, tuple[str, str]] = {
    "state_missing": (
        "This answer has no state",
        "Every answer to a Connect request must carry the state AwesomeService sent. "
        "Without it we cannot tell the answer belongs to you, so nothing was redeemed.",
    ),
    "state_unknown": (
        "We did not send this request",
        "The state in this answer does not match any Connect request AwesomeService made. "
        "Someone may be trying to attach their account to yours, so nothing was redeemed.",
    ),
    "state_other_session": (
        "This answer belongs to another browser",
        "The Connect request was started in a different browser session, "
        "so this one cannot finish it. Nothing was redeemed.",
    ),
    "state_used": (
        "This answer was already used",
        "Each Connect request can be answered once. This one was already used, "
        "so nothing was redeemed again.",
    ),
    "state_expired": (
        "This Connect request has expired",
        "It was started too long ago. Nothing was redeemed; start again.",
    ),
}
LOGIN_STATE: dict[str, tuple[str, str]] = {
    "state_missing": (
        "This answer has no state",
        "A login answer must carry the state we sent; nothing was redeemed.",
    ),
    "state_unknown": (
        "We did not start this login",
        "The state does not match any login AwesomeService started. Someone may be trying "
        "to sign you in to their account (login CSRF), so nothing was redeemed.",
    ),
    "state_other_session": (
        "This answer belongs to another browser",
        "The login was started in a different browser session. Nothing was redeemed.",
    ),
    "state_used": (
        "This answer was already used",
        "Each login answer works once. Nothing was redeemed again.",
    ),
    "state_expired": ("This login has expired", "Start again; nothing was redeemed."),
}


def cross_host_refusal(public_url: str) -> tuple[str, str]:
    """Step 4, C1: (title, message) for an answer whose request began under another host name."""
    return (
        "You started at another address",
        f"This answer came back to {public_url}, the address Mockgram sends every answer to, "
        "but this browser has no AwesomeService session here: the request was started at "
        "another address for AwesomeService (such as http://127.0.0.1:8000 instead of "
        "http://localhost:8000). Browsers keep cookies per host name, so the session holding "
        f"the state stayed there. Nothing was redeemed. Open {public_url} and start again.",
    )


def issuer_refusal(refused: CallbackRefused, expected: str) -> tuple[str, str]:
    """Step 4, C3: (title, message) for an answer whose iss is missing or another server's."""
    if refused.reason == "iss_missing":
        return (
            "This answer does not say who sent it",
            "Mockgram always names itself (iss) in its answers. This one did not, so it may "
            "come from another server; the code was not redeemed.",
        )
    return (
        "This answer comes from the wrong server",
        f"It names its sender as “{refused.detail}”, not Mockgram ({expected}). This is how a "
        "mix-up attack looks, so the code was not redeemed.",
    )


# Step 4: the provider's error answers the client knows by name (RFC 6749 §4.1.2.1,
# OIDC Core §3.1.2.6).
AUTHORIZATION_ERRORS: dict[str, str] = {
    "invalid_request": "The request AwesomeService sent was malformed.",
    "unauthorized_client": "Mockgram does not allow AwesomeService to use this flow.",
    "unsupported_response_type": "Mockgram does not support the kind of answer we asked for.",
    "invalid_scope": "Mockgram does not allow the access AwesomeService asked for.",
    "server_error": "Something went wrong inside Mockgram.",
    "temporarily_unavailable": "Mockgram is busy or under maintenance.",
    "login_required": "You need to sign in to Mockgram first.",
    "consent_required": "Mockgram needs you to approve the request first.",
}

# Step 5: the token endpoint's errors (RFC 6749 §5.2).
TOKEN_ERRORS: dict[str, str] = {
    "invalid_grant": "The code has expired, was already used, or does not match this request. "
    "Codes live only a few minutes and work once.",
    "invalid_client": "Mockgram did not accept AwesomeService's client ID and secret. "
    "This is a configuration problem on our side, not yours.",
    "invalid_request": "The token request was malformed.",
    "unauthorized_client": "Mockgram does not let AwesomeService use this grant.",
    "unsupported_grant_type": "Mockgram does not support this grant type.",
    "invalid_scope": "Mockgram does not allow the access that was asked for.",
}

# 'Log in with Mockgram', steps 5–6 and the account: (title, message) per LoginRefused reason.
LOGIN_REFUSALS: dict[str, tuple[str, str]] = {
    "id_token_missing": (
        "The provider sent no id_token",
        "Without an id_token nobody has said who logged in, so you were not signed in.",
    ),
    "userinfo_refused": (
        "The provider would not tell us who you are",
        "Its userinfo endpoint answered HTTP {detail}.",
    ),
    "userinfo_sub_mismatch": (
        "The profile is about someone else",
        "The userinfo answer names another subject than the id_token, so neither was used.",
    ),
    "identity_linked_elsewhere": (
        "That Mockgram account is linked to another AwesomeService account",
        "To use it, sign out and press “Log in with Mockgram”: you reach the "
        "AwesomeService account it belongs to. Nothing was changed.",
    ),
    "identity_race": ("That login was just finished elsewhere", "Try again."),
}
