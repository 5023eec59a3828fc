"""What each refusal means: the cause, the fix and the RFC section behind every reason an
AwesomeService page can show. `/errors/{reason}` (pages/errors_explained.py) reads it.

Two families: AwesomeService's own refusals — step 4's checks (RFC 6749 §4.1.2, RFC 9700 §4.7,
RFC 9207), the id_token's (OIDC Core §3.1.3.7), the login's (OIDC Core §5), a provider that
does not answer — and the error codes the provider sends back (RFC 6749 §4.1.2.1, §5.2,
RFC 6750 §3.1, OIDC Core §3.1.2.6), explained from the client's side. A test reads the code for
every reason it can emit and checks each has an entry here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    title: str
    cause: str
    fix: str
    rfc: str


_STATE = "RFC 6749 §4.1.2, §10.12; RFC 9700 §4.7"
_ID_TOKEN = "OIDC Core §3.1.3.7"
_NOT_YOURS = "Nothing to fix on your side: AwesomeService refuses such answers on purpose."
_AGAIN = "Start again. If it happens every time, the provider is misconfigured."

# Step 4: the authorization response (awesomeservice/oauth_client.py, CallbackRefused).
CALLBACK_REFUSALS: dict[str, Reason] = {
    "state_missing": Reason(
        "The answer carried no state",
        "Every authorization request AwesomeService sends carries a random, single-use state "
        "tied to the browser that started it. An answer without one cannot be matched to a "
        "request, so it may be forged (login CSRF).",
        "Start again from “Connect Mockgram”. An attacker's link never works here.",
        _STATE,
    ),
    "state_unknown": Reason(
        "AwesomeService never sent this state",
        "The state in the answer matches no request AwesomeService made. This is what a forged "
        "callback looks like: someone trying to attach their Mockgram account (and their code) "
        "to yours — login CSRF.",
        "Nothing to fix if you did not start a Connect just now; otherwise start again.",
        _STATE,
    ),
    "state_other_session": Reason(
        "The request was started in another browser",
        "The state is bound to the browser session that started the flow; this answer arrived "
        "in a different one.",
        "Finish the flow in the browser where you started it, or start again here.",
        "RFC 9700 §4.7.1",
    ),
    "state_used": Reason(
        "This answer was already used",
        "A state works once. A second arrival of the same answer (a replay, a reload of an old "
        "link) is refused, so nothing is redeemed twice.",
        "Start again from “Connect Mockgram”.",
        _STATE,
    ),
    "state_expired": Reason(
        "The request expired",
        "A Connect request waits a few minutes for its answer; this one waited too long.",
        "Start again from “Connect Mockgram”.",
        _STATE,
    ),
    "iss_missing": Reason(
        "The answer did not name its sender",
        "Mockgram announces in its metadata that every authorization response carries iss. An "
        "answer without it may come from another authorization server (a mix-up attack).",
        _NOT_YOURS,
        "RFC 9207 §2.4",
    ),
    # Also an id_token check (OIDC Core §3.1.3.7 step 2): one name, one reason — the sender.
    "iss_mismatch": Reason(
        "The answer came from the wrong server",
        "The iss in the answer (step 4) or in its id_token (step 5) is not the provider's "
        "issuer, compared as an exact string. In a mix-up attack a malicious server makes the "
        "client send a code to the wrong place; checking iss before redeeming anything stops "
        "it, and an id_token from another issuer says nothing about who logged in here.",
        _NOT_YOURS,
        "RFC 9207 §2.4; RFC 9700 §4.4; OIDC Core §3.1.3.7",
    ),
    "code_missing": Reason(
        "The answer had neither a code nor an error",
        "A successful authorization response must carry a code.",
        "Start again; if it keeps happening, Mockgram is misbehaving.",
        "RFC 6749 §4.1.2",
    ),
}

# Step 5: the id_token (awesomeservice/id_token.py, IdTokenRejected; iss_mismatch is above).
ID_TOKEN_REFUSALS: dict[str, Reason] = {
    "malformed": Reason(
        "The id_token is not a well-formed signed JWT",
        "An id_token is a JWS in compact form: three Base64url parts joined by dots, a JSON "
        "header and a JSON object of claims. This one was not, so nothing in it can be believed.",
        _AGAIN,
        "RFC 7515 §7.1; OIDC Core §2",
    ),
    "alg_not_allowed": Reason(
        "The id_token is signed with an algorithm we do not accept",
        "AwesomeService checks a signature only with an algorithm it expects from the provider "
        "(RS256 or ES256) — never with the one the token asks for. alg none, and HS256 keyed "
        "with the provider's public key, are the two classic forgeries.",
        "If the provider really signs otherwise, its discovery document must say so "
        "(id_token_signing_alg_values_supported); if not, the token was forged.",
        "OIDC Core §3.1.3.7; RFC 8725 §2.1, §3.1",
    ),
    "kid_unknown": Reason(
        "The id_token is signed with a key the provider does not publish",
        "Its header names a key (kid) missing from the provider's JWKS, even after fetching "
        "the set again in case the keys were rotated: someone else's key, or one not published.",
        "Try again in a moment if the provider is rotating its keys; otherwise the token was "
        "not made by the provider.",
        "OIDC Core §10.1.1",
    ),
    "kid_missing": Reason(
        "The id_token names no key, and the provider has several",
        "Without a kid AwesomeService cannot tell which of the provider's keys signed the "
        "token, and it does not try them all.",
        "The provider must put a kid in the header when it publishes more than one key.",
        "OIDC Core §10.1",
    ),
    "alg_key_mismatch": Reason(
        "The provider's key does not fit the algorithm",
        "The key the header points at is declared for another algorithm, or is not an RSA or EC "
        "key. A key that names its algorithm is used with that algorithm only.",
        "The provider's JWKS and its signing must agree; nothing to fix on your side.",
        "RFC 7517 §4.4; OIDC Core §3.1.3.7",
    ),
    "bad_signature": Reason(
        "The id_token's signature does not verify",
        "The token was changed after it was signed, or signed with a key that is not the "
        "provider's. None of its claims can be believed.",
        _NOT_YOURS,
        "OIDC Core §3.1.3.7; RFC 7515 §5.2",
    ),
    "sub_invalid": Reason(
        "The id_token names nobody",
        "sub — who logged in — is required: a string of at most 255 ASCII characters, unique "
        "at the issuer. Without it there is nobody to sign in.",
        "The provider must send a valid sub; nothing to fix on your side.",
        "OIDC Core §2",
    ),
    "aud_mismatch": Reason(
        "The id_token is meant for another app",
        "aud must contain AwesomeService's client_id. A token issued to another client — "
        "perhaps stolen from it — must not sign anyone in here.",
        "Start again; if it persists, check that the provider and AwesomeService agree on the "
        "client_id.",
        _ID_TOKEN,
    ),
    "aud_untrusted": Reason(
        "The id_token is also meant for apps we do not trust",
        "Besides AwesomeService, aud names other audiences. AwesomeService trusts none of them, "
        "so it does not accept a token they could also use.",
        _AGAIN,
        _ID_TOKEN,
    ),
    "azp_missing": Reason(
        "The id_token has several audiences and no azp",
        "With more than one audience, azp must say which client the token was issued to.",
        _AGAIN,
        _ID_TOKEN,
    ),
    "azp_mismatch": Reason(
        "The id_token was issued to another app",
        "azp names the client the token was handed to; it must be AwesomeService.",
        _AGAIN,
        _ID_TOKEN,
    ),
    "exp_missing": Reason(
        "The id_token has no expiry",
        "exp is required: a token without an end could be replayed for ever.",
        _AGAIN,
        "OIDC Core §2, §3.1.3.7",
    ),
    "expired": Reason(
        "The id_token has expired",
        "Its exp is in the past, even allowing a minute of clock skew: an old token being "
        "replayed, or clocks that disagree.",
        "Start again. If it happens every time, check both servers' clocks.",
        _ID_TOKEN,
    ),
    "iat_missing": Reason(
        "The id_token does not say when it was issued",
        "iat is required: it tells how old the statement “this person logged in” is.",
        _AGAIN,
        "OIDC Core §2, §3.1.3.7",
    ),
    "iat_future": Reason(
        "The id_token claims to come from the future",
        "Its iat is later than now, beyond a minute of clock skew: clocks that disagree, or a "
        "token made up.",
        "Check both servers' clocks, then start again.",
        _ID_TOKEN,
    ),
    "nonce_mismatch": Reason(
        "The id_token belongs to another login",
        "A login sends a random nonce and its id_token must bring it back unchanged. Another "
        "value means the token was made for another request: replayed or injected.",
        "Start again from “Log in with Mockgram”.",
        "OIDC Core §3.1.3.7, §15.5.2",
    ),
    "at_hash_missing": Reason(
        "The id_token does not name its access token",
        "This flow needs at_hash, half of the SHA-256 of the access token, which ties the "
        "access token to the id_token.",
        _AGAIN,
        "OIDC Core §3.2.2.10, §3.3.2.11",
    ),
    "bad_at_hash": Reason(
        "The access token does not belong to this id_token",
        "at_hash does not match the access token that came with it: the two were mixed up, "
        "or one was swapped for another (token substitution).",
        _NOT_YOURS,
        "OIDC Core §3.1.3.8, §3.3.2.11",
    ),
    "c_hash_missing": Reason(
        "The id_token does not name its code",
        "This flow needs c_hash, half of the SHA-256 of the authorization code, which ties the "
        "code to the id_token.",
        _AGAIN,
        "OIDC Core §3.3.2.11",
    ),
    "bad_c_hash": Reason(
        "The code does not belong to this id_token",
        "c_hash does not match the code that came with it: the code was swapped (code injection).",
        _NOT_YOURS,
        "OIDC Core §3.3.2.10, §3.3.2.11",
    ),
}

# 'Log in with Mockgram' after the id_token (awesomeservice/oidc_login.py, LoginRefused).
LOGIN_REFUSALS: dict[str, Reason] = {
    "id_token_missing": Reason(
        "The provider sent no id_token",
        "A successful token response to a request with scope openid carries an id_token. "
        "Without one nobody has said who logged in.",
        _AGAIN,
        "OIDC Core §3.1.3.3",
    ),
    "userinfo_refused": Reason(
        "The provider would not say who you are",
        "The userinfo endpoint refused the access token just issued.",
        "Try again; if it persists the provider revoked the token or is misconfigured.",
        "OIDC Core §5.3.3",
    ),
    "userinfo_sub_mismatch": Reason(
        "The profile is about someone else",
        "The sub in the userinfo answer must equal the id_token's, exactly; otherwise neither "
        "may be used (a token substitution).",
        _NOT_YOURS,
        "OIDC Core §5.3.2",
    ),
    "identity_linked_elsewhere": Reason(
        "That provider account belongs to another AwesomeService account",
        "Accounts are matched by the provider's (iss, sub) only. This one is already linked to "
        "another AwesomeService account; linking it twice would open two accounts to one person.",
        "Sign out and press “Log in with Mockgram” to reach the account it belongs to.",
        "OIDC Core §5.7",
    ),
    "identity_race": Reason(
        "The same login finished twice at once",
        "Two requests tried to link the same provider account at the same moment; one won.",
        "Try again.",
        "OIDC Core §5.7",
    ),
}

# The back channel failed (awesomeservice/errors.py): no protocol error, no answer at all.
UNAVAILABLE_REFUSALS: dict[str, Reason] = {
    "provider_timeout": Reason(
        "Mockgram did not answer in time",
        "AwesomeService calls Mockgram server to server (the back channel) with a timeout on "
        "every call; this call ran out of time. Nothing was stored.",
        "Try again in a moment. Running it yourself: is Mockgram up, and is AwesomeService's "
        "back-channel address (mockgram_internal_url) right?",
        "RFC 6749 §3.2; RFC 8414 §3",
    ),
    "provider_unreachable": Reason(
        "Mockgram could not be reached",
        "AwesomeService could not connect to Mockgram's back-channel address at all. The "
        "browser reaches Mockgram's public URL; AwesomeService's server needs its own way in.",
        "Try again in a moment. Running it yourself: start Mockgram, and check "
        "mockgram_internal_url (in docker compose, the service name, not localhost).",
        "RFC 6749 §3.2; RFC 8414 §3",
    ),
    "provider_bad_answer": Reason(
        "Mockgram sent an answer we could not read",
        "The reply was not what the protocol promises: not JSON, a token response without an "
        "access_token or not of type Bearer, a discovery document naming another issuer, a "
        "key set without usable keys.",
        "Nothing to fix on your side. The /doctor page checks the provider's metadata.",
        "RFC 6749 §5.1; RFC 8414 §3.2; OIDC Discovery §4.3",
    ),
    "client_secret_missing": Reason(
        "AwesomeService has no client secret yet",
        "A confidential client proves who it is at the token endpoint with its secret. Outside "
        "demo mode no published secret is used, and none was configured, so AwesomeService "
        "sent nothing to Mockgram rather than start a flow it could not finish.",
        "Set AWESOMESERVICE_CLIENT_SECRET (or _LOGIN_CLIENT_SECRET) to the secret Mockgram "
        "printed on its first start, and restart; or run both apps in demo mode.",
        "RFC 6749 §2.3.1",
    ),
}

# Step 6 and token renewal (awesomeservice/pages/photos.py).
RESOURCE_REFUSALS: dict[str, Reason] = {
    "refresh_in_progress": Reason(
        "Your Mockgram access is being renewed",
        "Another page of yours is using the refresh token right now. A rotated refresh token "
        "works once, so only one request may renew it at a time.",
        "Reload the page in a second.",
        "RFC 6749 §6; RFC 9700 §4.14.2",
    ),
    "api_error": Reason(
        "The photos API refused without an error code",
        "Mockgram's resource server refused the request and named no error.",
        "Try again; if it persists, connect Mockgram again.",
        "RFC 6750 §3.1",
    ),
}

# Error codes the provider sends back, explained from the client's side. The provider's own
# page (its error_uri) tells its side; the explanation page links to both.
PROVIDER_ERRORS: dict[str, Reason] = {
    "invalid_request": Reason(
        "The request was malformed",
        "A required parameter was missing, repeated or not allowed — in the authorization "
        "request (step 1), the token request (step 5), or a form sent to AwesomeService.",
        "Read the error description: it names the parameter. If you edited the request "
        "(step-through mode, the debugger), undo the change and start again.",
        "RFC 6749 §4.1.2.1, §5.2",
    ),
    "invalid_dpop_proof": Reason(
        "The provider refused the DPoP proof",
        "With DPoP (RFC 9449) the token is bound to a key the client holds, and every request "
        "carries a fresh proof signed by it: this method, this URL, now, once, and at the API "
        "the token's hash. The provider found the proof missing, stale, replayed, made for "
        "another request, or signed by another key than the token is bound to.",
        "Start again: a new proof is signed for every request. If it persists, check that the "
        "clocks agree and that the proof names the provider's public URL.",
        "RFC 9449 §4.3, §5, §7.1",
    ),
    "use_dpop_nonce": Reason(
        "The provider asked for its nonce in the DPoP proof",
        "The provider requires a nonce it handed out (the DPoP-Nonce header) in each proof, so "
        "that proofs cannot be made in advance. A client signs a new proof with it and tries "
        "once more; this time that was not enough.",
        "Try again: the next proof carries the newest nonce.",
        "RFC 9449 §8, §9",
    ),
    "invalid_client": Reason(
        "The provider did not accept AwesomeService's credentials",
        "At the token endpoint AwesomeService proves who it is with its client_id and secret "
        "(client_secret_basic). The provider did not recognise them: a configuration problem "
        "on AwesomeService's side, not yours.",
        "The operator must set the client_id and secret the provider issued (step 0).",
        "RFC 6749 §2.3.1, §5.2",
    ),
    "invalid_grant": Reason(
        "The provider would not trade the code",
        "The code expired, was already used, was issued to another client or for another "
        "redirect_uri, or the PKCE verifier did not match its challenge. Codes live a few "
        "minutes and work once — so a stolen one is worth little.",
        "Start again: a fresh request gets a fresh code.",
        "RFC 6749 §4.1.3, §5.2; RFC 7636 §4.6",
    ),
    "unauthorized_client": Reason(
        "The provider does not allow AwesomeService this flow",
        "AwesomeService's registration at the provider does not include this grant or "
        "response type (the code flow, client credentials for the nightly job, token "
        "exchange for the print lab).",
        "The operator must register the client for the grant it uses (its grant_types).",
        "RFC 6749 §4.1.2.1, §5.2",
    ),
    "unsupported_grant_type": Reason(
        "The provider does not support this grant",
        "The token endpoint does not know the grant_type AwesomeService sent.",
        "Use a grant the provider lists in grant_types_supported.",
        "RFC 6749 §5.2; RFC 8414 §2",
    ),
    "unsupported_response_type": Reason(
        "The provider does not support this kind of answer",
        "The response_type of the request is not one the provider offers.",
        "Use a response type the provider lists in response_types_supported.",
        "RFC 6749 §4.1.2.1; RFC 8414 §2",
    ),
    "invalid_scope": Reason(
        "The provider refused the access asked for",
        "A requested scope is unknown, malformed or not allowed for this client, or a refresh "
        "asked for more than was granted.",
        "Ask for the scopes the client is registered for (photos.read here), no more.",
        "RFC 6749 §3.3, §4.1.2.1, §5.2",
    ),
    "invalid_target": Reason(
        "The provider will not issue a token for that server",
        "AwesomeService named a resource or audience (RFC 8707, RFC 8693) the provider does "
        "not know, or another one than it named when asking John.",
        "The operator should name the photos API's identifier, as its own metadata gives it "
        "(/.well-known/oauth-protected-resource/api).",
        "RFC 8707 §2; RFC 8693 §2.2.2",
    ),
    "access_denied": Reason(
        "You said no",
        "On the provider's consent page the request was declined (or the provider declined "
        "it). Nothing was shared.",
        "Nothing to fix. Connect again whenever you want. At the print kiosk: press Deny on "
        "the phone and the kiosk's next poll hears access_denied, stops, and shows nothing.",
        "RFC 6749 §4.1.2.1; RFC 8628 §3.5",
    ),
    # The print kiosk's polls (RFC 8628 §3.5), explained from the kiosk's side.
    "authorization_pending": Reason(
        "Waiting for you to approve on your phone",
        "The kiosk asked Mockgram's token endpoint whether its device code was approved; you "
        "have not typed the code on Mockgram's /device page yet (or not answered there). This "
        "is the normal answer while you reach for your phone.",
        "Nothing to fix: the kiosk keeps asking every few seconds until you answer.",
        "RFC 8628 §3.5",
    ),
    "slow_down": Reason(
        "The kiosk asked too soon",
        "Mockgram told the kiosk to wait longer between polls: it came back sooner than the "
        "interval Mockgram set. From now on the kiosk waits five seconds more each time. The "
        "kiosk page's “Poll now, too soon” button does this on purpose, to show it.",
        "Nothing to fix: a client adds five seconds to its interval and keeps polling.",
        "RFC 8628 §3.5",
    ),
    "expired_token": Reason(
        "The kiosk's code expired",
        "Nobody approved the code in time (ten minutes at Mockgram), so the device code and "
        "the code on the screen no longer work.",
        "Press Start again on the kiosk for a new code.",
        "RFC 8628 §3.5",
    ),
    "server_error": Reason(
        "Something went wrong on the server",
        "The server met an unexpected condition: the provider, in an error it returned, or "
        "AwesomeService itself, which logged it.",
        "Try again in a moment.",
        "RFC 6749 §4.1.2.1",
    ),
    "temporarily_unavailable": Reason(
        "The provider is busy",
        "The provider is overloaded or under maintenance and cannot handle the request now.",
        "Try again in a moment.",
        "RFC 6749 §4.1.2.1",
    ),
    "login_required": Reason(
        "You need to sign in to the provider first",
        "The request asked the provider not to show any page (prompt=none), but nobody was "
        "signed in there.",
        "Start again without prompt=none, and sign in on the provider's page.",
        "OIDC Core §3.1.2.6",
    ),
    "consent_required": Reason(
        "The provider needs your approval first",
        "The request asked the provider not to show any page (prompt=none), but you have not "
        "approved this app yet.",
        "Start again without prompt=none, and approve on the consent page.",
        "OIDC Core §3.1.2.6",
    ),
    "interaction_required": Reason(
        "The provider needs to ask you something",
        "The request asked the provider not to show any page (prompt=none), but it needs one.",
        "Start again without prompt=none.",
        "OIDC Core §3.1.2.6",
    ),
    "invalid_token": Reason(
        "The access token was refused",
        "Mockgram's API did not accept the token: it expired, was revoked (Disconnect, or "
        "“Apps with access” on Mockgram), or is not one Mockgram issued.",
        "Connect Mockgram again to get a new token.",
        "RFC 6750 §3.1",
    ),
    "insufficient_scope": Reason(
        "The token does not allow this",
        "The access token is valid but its scope does not cover the request — AwesomeService "
        "asks for photos.read only, so it can never change or delete a photo.",
        "Nothing to fix: least privilege is the point.",
        "RFC 6750 §3.1",
    ),
    "not_found": Reason(
        "There is no such photo",
        "The photos API answered a plain HTTP 404: the photo does not exist, or belongs to "
        "someone other than the token's owner (both look the same, on purpose).",
        "Go back to your photos and pick one from the list.",
        "RFC 9110 §15.5.5; RFC 6750 §3.1",
    ),
    "invalid_request_uri": Reason(
        "The pushed request could not be found",
        "With PAR, AwesomeService pushes its request to the provider first and your browser "
        "carries only a request_uri standing for it. That reference was unknown, already used "
        "(it works once), expired (it lives about a minute) or pushed by another app, so the "
        "provider showed you a page and sent you nowhere.",
        "Start again from “Connect Mockgram”: each attempt pushes a fresh request.",
        "RFC 9126 §4, §7.3",
    ),
}

REFUSALS: dict[str, Reason] = {
    **CALLBACK_REFUSALS,
    **ID_TOKEN_REFUSALS,
    **LOGIN_REFUSALS,
    **UNAVAILABLE_REFUSALS,
    **RESOURCE_REFUSALS,
}
REASONS: dict[str, Reason] = {**REFUSALS, **PROVIDER_ERRORS}

# For a code AwesomeService knows nothing about (a provider may send any code).
GENERIC = Reason(
    "AwesomeService has no page for this code",
    "The code did not come from AwesomeService's own checks: most likely the provider sent "
    "it in its error answer, and AwesomeService does not know it. The error description on "
    "the page you came from, and the provider's own page about it if it sent one "
    "(error_uri), say more.",
    "Start again. If it keeps happening, tell the provider's operator the code and the time.",
    "RFC 6749 §4.1.2.1, §5.2",
)
