"""The pages every `error_uri` points at: `/errors/{code}` explains one OAuth error code — its
cause, the fix, the RFC section — and, given `?ref=`, shows the (redacted) request that failed.

RFC 6749 §4.1.2.1 and §5.2 (error_uri), RFC 6750 §3 (bearer errors), RFC 7591 §3.2.2
(registration errors), RFC 7009 §2.2.1, OpenID Connect Core §3.1.2.6 — plus `not_found`, the
photos API's own 404, which no RFC names. The recording side is mockgram/failures.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mockgram import failures
from mockgram.db import SessionDep
from mockgram.deps import TemplatesDep
from shared.recorded import pairs
from shared.web import render_error

router = APIRouter(tags=["Error explanations"])


@dataclass(frozen=True)
class Explanation:
    title: str
    cause: str
    fix: str
    rfc: str
    step: int | None = None
    kind: str = "OAuth error"


EXPLANATIONS: dict[str, Explanation] = {
    "invalid_request": Explanation(
        "The request was malformed",
        "A required parameter was missing, a parameter was sent twice, a value was not "
        "allowed (for example PKCE with the plain method), or the request came in a form "
        "Mockgram does not read (a token in the query string, JSON where a form was due). "
        "At the authorization endpoint, when the fault is in client_id, redirect_uri or "
        "response_mode, Mockgram shows John a page instead of redirecting: it cannot trust "
        "where, or how, the answer would go.",
        "Read error_description (or the page): it names the parameter. Send each parameter "
        "once, as application/x-www-form-urlencoded at the token endpoint, tokens only in the "
        "Authorization header; send redirect_uri when several are registered.",
        "RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; RFC 7636 §4.4.1",
    ),
    "invalid_client": Explanation(
        "The client could not be authenticated",
        "The client_id is unknown, the client secret is wrong or missing, or the client sent "
        "it in two ways at once. A confidential client must prove who it is at the token "
        "endpoint; this is what makes a stolen authorization code useless (the article's "
        "reason for step 5). At the authorization endpoint an unknown client_id gets a page "
        "for John, never a redirect: nothing says where the app's redirect URIs are.",
        "Send client_id and the secret Mockgram gave you in step 0, once: as HTTP Basic "
        "(client_secret_basic, id and secret form-urlencoded before Base64) or in the body "
        "(client_secret_post). Public clients send only client_id and use PKCE. Register the "
        "app first (the developer portal or POST /oauth/register) to get a client_id.",
        "RFC 6749 §2.3.1, §3.2.1, §4.1.2.1, §5.2",
        5,
    ),
    "invalid_grant": Explanation(
        "The code or refresh token was not accepted",
        "The authorization code (or refresh token) is unknown, expired, already used, issued "
        "to another client, or the redirect_uri or PKCE code_verifier does not match the "
        "authorization request. A code works once: a replayed code also revokes the tokens "
        "its first redemption produced.",
        "Redeem each code once, within ten minutes, with the same redirect_uri as in step 1 "
        "and the code_verifier whose SHA-256 was the code_challenge. Start the flow again to "
        "get a new code.",
        "RFC 6749 §4.1.2, §4.1.3, §5.2; RFC 7636 §4.6; RFC 9700 §4.5.3",
        5,
    ),
    "unauthorized_client": Explanation(
        "This client may not use this flow",
        "The client is registered, but not for this response_type or grant_type — for "
        "example the implicit flow for a client registered for the code flow only, or "
        "client_credentials or token exchange for a client whose grant_types do not list them "
        "(a public client can never use client_credentials).",
        "Use a flow the client is registered for, or register it for this one.",
        "RFC 6749 §4.1.2.1, §5.2",
        1,
    ),
    "unsupported_grant_type": Explanation(
        "Mockgram does not know this grant type",
        "grant_type was not one of the grants Mockgram implements.",
        "Use authorization_code (or refresh_token); the server metadata lists "
        "grant_types_supported.",
        "RFC 6749 §5.2; RFC 8414 §2",
        5,
    ),
    "invalid_scope": Explanation(
        "The scope was refused",
        "A requested scope is unknown, missing, or not allowed for this client, or a refresh "
        "asked for more than was granted.",
        "Ask only for scopes in scopes_supported that the client is registered for; the "
        "print shop needs photos.read, never photos.write.",
        "RFC 6749 §3.3, §4.1.2.1, §5.2",
        1,
    ),
    "invalid_target": Explanation(
        "Mockgram issues no tokens for that resource",
        "The request named a resource (RFC 8707) or an audience (RFC 8693) that is not a "
        "resource server Mockgram knows — the photos API, or one the operator added — or "
        "the resource is not an absolute URI, or a token request named another resource than "
        "its authorization request did. A token is only ever minted for a server Mockgram "
        "vouches for, so a token meant for one server cannot be replayed at another.",
        "Name the photos API's identifier (the `resource` in "
        "/.well-known/oauth-protected-resource/api), or leave resource out: the photos API is "
        "the default audience. At the token endpoint, repeat the authorization request's "
        "resource or send none.",
        "RFC 8707 §2, §2.2; RFC 8693 §2.2.2; RFC 9728 §2",
        5,
    ),
    "access_denied": Explanation(
        "The request was denied",
        "John pressed Deny on the consent page, unticked every scope, or the operation is "
        "closed (for example client registration when it is switched off).",
        "Nothing is broken: the user said no. Offer to try again later; never retry in a loop. "
        "A device polling with its device_code gets it once John pressed Deny on /device: "
        "stop polling and say so on the screen.",
        "RFC 6749 §4.1.2.1; RFC 8628 §3.5",
        3,
    ),
    "unsupported_response_type": Explanation(
        "Mockgram does not return this kind of response",
        "response_type named something Mockgram does not support.",
        "Use a response type from response_types_supported in the server metadata; code "
        "is the one to use.",
        "RFC 6749 §4.1.2.1; OAuth 2.0 Multiple Response Types §3",
        1,
    ),
    "server_error": Explanation(
        "Something went wrong inside Mockgram",
        "An unexpected condition on Mockgram's side, not the client's mistake.",
        "Try again later; the error was logged on Mockgram.",
        "RFC 6749 §4.1.2.1",
    ),
    "temporarily_unavailable": Explanation(
        "Mockgram is busy",
        "Mockgram is overloaded or under maintenance — or, with HTTP 429, your address has "
        "registered as many clients or started as many authorization requests as it may this "
        "hour (MOCKGRAM_REGISTRATIONS_PER_HOUR, MOCKGRAM_AUTHORIZATION_REQUESTS_PER_HOUR).",
        "Try again later: a 429 answer's Retry-After header says how many seconds to wait.",
        "RFC 6749 §4.1.2.1; RFC 6585 §4",
    ),
    "invalid_token": Explanation(
        "The access token was not accepted",
        "The bearer token is expired, revoked (John removed the app, or a code replay revoked "
        "it), malformed, signed by someone else, or meant for another audience.",
        "Get a new token: refresh it, or run the flow again. Never put tokens in URLs.",
        "RFC 6750 §3.1; RFC 9068 §4",
        6,
    ),
    "insufficient_scope": Explanation(
        "The token may not do that",
        "The token is valid but lacks the scope this call needs — like the print shop's "
        "photos.read token trying to delete a photo, the article's opening problem. The "
        "WWW-Authenticate header names the scope that would be enough.",
        "Nothing to fix for a well-behaved client: it asked for the least it needs. If the "
        "app truly needs more, it must ask the user for that scope in a new authorization.",
        "RFC 6750 §3.1",
        6,
    ),
    "login_required": Explanation(
        "John must sign in first",
        "The request said prompt=none, but nobody is signed in to Mockgram in this browser.",
        "Send the request again without prompt=none, so Mockgram can show its sign-in page.",
        "OpenID Connect Core §3.1.2.6",
        2,
    ),
    "consent_required": Explanation(
        "John has not agreed to this yet",
        "The request said prompt=none, but John has not consented to this client and scope.",
        "Send the request again without prompt=none, so Mockgram can ask him.",
        "OpenID Connect Core §3.1.2.6",
        3,
    ),
    "interaction_required": Explanation(
        "Mockgram needs to show John a page",
        "The request said prompt=none, but some interaction with John is needed.",
        "Send the request again without prompt=none.",
        "OpenID Connect Core §3.1.2.6",
        2,
    ),
    "invalid_redirect_uri": Explanation(
        "The redirect URI was refused",
        "At registration: a redirect URI is not absolute, has a fragment, uses plain http "
        "on a host that is not a loopback address, or uses a private-use scheme "
        "(com.example.app:/callback) for a client that is not public. At the authorization "
        "endpoint: the redirect_uri is not, character for character, one the client "
        "registered — another path, an added port, an upper-case host, a trailing slash or "
        "an extra query all differ; only the port of http://127.0.0.1 or http://[::1] may "
        "(RFC 8252 §7.3). Mockgram then shows John a page and sends him nowhere, not even to a "
        "registered URI: redirecting to an unchecked address would hand the code to whoever "
        "wrote it.",
        "Register absolute https URIs (http only for localhost or 127.0.0.1), without #, and "
        "send exactly one of them as redirect_uri in step 1.",
        "RFC 7591 §2, §3.2.2; RFC 6749 §3.1.2, §4.1.2.1; RFC 9700 §4.1.3; RFC 8252 §7",
        0,
    ),
    "invalid_request_uri": Explanation(
        "The request_uri cannot be used",
        "The authorization request named a pushed request (RFC 9126) by its request_uri, and "
        "Mockgram could not use it: nobody pushed it, it was already used (a request_uri "
        "serves once), it expired (MOCKGRAM_PAR_REQUEST_URI_TTL_SECONDS, 60 s by default), "
        "another client pushed it, or client_id was missing beside it. The redirect URI is "
        "among the pushed parameters that could not be found, so Mockgram shows John a page "
        "and redirects nowhere.",
        "Push the request again (POST /oauth/par, authenticated like at the token endpoint) "
        "right before sending the browser, and send exactly client_id and the new request_uri.",
        "RFC 9126 §2.2, §4, §7.3",
        1,
    ),
    "invalid_client_metadata": Explanation(
        "The client metadata was refused",
        "A registration field is missing, malformed or not allowed (name, scope, "
        "token_endpoint_auth_method, grant or response types, post_logout_redirect_uris, or "
        "a FAPI 2.0 client that is public or uses another response type than code).",
        "Read error_description: it names the field.",
        "RFC 7591 §3.2.2",
        0,
    ),
    "unsupported_token_type": Explanation(
        "Mockgram cannot revoke this kind of token",
        "token_type_hint named a token type the revocation endpoint does not know.",
        "Use access_token or refresh_token as the hint, or send no hint.",
        "RFC 7009 §2.2.1",
    ),
    # RFC 8628 §3.5: the device flow's answers to a poll before John has approved.
    "authorization_pending": Explanation(
        "John has not answered yet",
        "A device polled the token endpoint with its device_code, and John has not yet typed "
        "the user code on /device and approved. This is the normal answer while he reaches "
        "for his phone, not a failure.",
        "Keep polling, waiting at least `interval` seconds (from the device authorization "
        "response) between requests, until tokens, access_denied or expired_token arrive.",
        "RFC 8628 §3.5",
        kind="Device flow answer",
    ),
    "slow_down": Explanation(
        "The device is polling too fast",
        "A poll came sooner than the interval after the previous one. Mockgram added five "
        "seconds to this device_code's interval, for this and every later poll.",
        "Add 5 seconds to the interval you wait between polls, and keep polling. A client "
        "library does this for you.",
        "RFC 8628 §3.5",
        kind="Device flow answer",
    ),
    "expired_token": Explanation(
        "The device code has expired",
        "Nobody approved the request within its lifetime (`expires_in`, ten minutes by "
        "default), so the device_code and its user code are void.",
        "Stop polling and start over: ask the device authorization endpoint for new codes "
        "and show the new user code.",
        "RFC 8628 §3.5",
        kind="Device flow answer",
    ),
    "invalid_dpop_proof": Explanation(
        "The DPoP proof was refused",
        "A DPoP-bound token works only together with a fresh proof, a small JWT signed by the "
        "client's private key. This one was missing, malformed, or broke a rule: typ must be "
        "dpop+jwt; alg asymmetric (ES256, RS256…, never none or HS256); jwk the public key "
        "only; the signature must verify; htm and htu must be this request's method and URL "
        "(query and fragment left out); iat within a few minutes of now; jti never seen "
        "before. At the photos API, ath must be the hash of the access token and the key the "
        "one the token is bound to (cnf.jkt). A client registered with "
        "dpop_bound_access_tokens must send a proof with every token request, and a public "
        "client's DPoP-bound refresh token is refreshed only with a proof by the same key.",
        "Sign a new proof for every request with the key you hold: typ dpop+jwt, your public "
        "jwk in the header, jti random, htm and htu this request's, iat now, and ath = "
        "base64url(SHA-256(access token)) at the API. Send the token as Authorization: DPoP, "
        "the proof in the DPoP header.",
        "RFC 9449 §4.2, §4.3, §5, §7.1, §11.1",
        5,
    ),
    "use_dpop_nonce": Explanation(
        "Mockgram wants its nonce in the DPoP proof",
        "This Mockgram requires a server-provided nonce in every DPoP proof "
        "(MOCKGRAM_DPOP_REQUIRE_NONCE), so that a proof cannot be made in advance and kept "
        "for later. The proof had none, or one that is no longer valid. The answer's DPoP-Nonce "
        "header carries the nonce to use.",
        "Sign a new proof with the nonce claim set to the DPoP-Nonce header's value and send "
        "the request again; keep using the newest DPoP-Nonce Mockgram sends.",
        "RFC 9449 §8, §9",
        5,
    ),
    "not_found": Explanation(
        "There is no such photo",
        "Not an OAuth error code: this is the photos API's plain HTTP 404. The token was "
        "fine, but the photo does not exist — or belongs to someone other than the token's "
        "owner. Both get the same answer, so a token never learns what other people have.",
        "Use an id from GET /api/photos made with the same token. Another person's photo is "
        "out of reach by design: only that person can authorize an app to see it.",
        "No RFC code — HTTP 404 (RFC 9110 §15.5.5); RFC 6750 §3.1 names only token errors",
        6,
        kind="Resource server error (not an RFC code)",
    ),
}


@router.get("/errors/{code}", include_in_schema=False)
def explain(request: Request, code: str, session: SessionDep, templates: TemplatesDep) -> Response:
    """Cause, fix and RFC section of one error code, and the recorded request when named."""
    explanation = EXPLANATIONS.get(code)
    if explanation is None:
        return render_error(
            request,
            status_code=404,
            title="Mockgram does not know this error code",
            message="There is no explanation page for it: it is not an error Mockgram returns.",
            back_url="/errors",
            back_label="All error codes",
        )
    ref = request.query_params.get("ref", "")
    failed = failures.load(session, ref) if ref else None
    return templates.TemplateResponse(
        request,
        "errors_explained.html",
        {
            "page_title": f"Error {code}",
            "code": code,
            "explanation": explanation,
            "ref": ref,
            "failed": failed,
            "failed_query": pairs(failed.query) if failed else [],
            "failed_headers": pairs(failed.headers) if failed else [],
            "failed_body": pairs(failed.body) if failed else [],
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get("/errors", include_in_schema=False)
def index(request: Request, templates: TemplatesDep) -> Response:
    """Every error code Mockgram returns, each linking to its page."""
    return templates.TemplateResponse(
        request,
        "errors_index.html",
        {"page_title": "Error codes", "explanations": EXPLANATIONS},
    )
