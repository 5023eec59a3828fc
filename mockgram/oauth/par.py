"""Step 1 by the back channel — pushed authorization requests (RFC 9126).

Instead of putting every parameter in the browser's address, the app POSTs them to Mockgram
first, authenticated like at the token endpoint (§2), and gets back a `request_uri` that stands
for them (§2.2). The browser then carries only `client_id` and `request_uri` to the
authorization endpoint (§4), which looks the request up (mockgram/oauth/request_uris.py).
What this buys: the parameters cannot be read or changed in the browser, a confidential client
is authenticated before John sees anything, and the front-channel URL stays short.

The endpoint reads as a checklist: client authentication → no request_uri inside → the
authorization endpoint's own checks (mockgram/oauth/authorize.py: the redirect URI, the
response mode, the state's length, then check_params) → store → 201.

Decisions, written down:
- Errors are JSON like the token endpoint's (§2.3), with the authorization endpoint's codes:
  a checks' page error (an unregistered redirect_uri, a bad response_mode) becomes
  invalid_request, as §2.3 names no other code for them.
- prompt=none is not judged here: whether John is signed in is only known when his browser
  arrives, so the authorization endpoint checks that (it validates the pushed request again).
- Pushes count against the client address's hourly limit of authorization requests, like the
  requests stored at the authorization endpoint (mockgram/rate_limits.py).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.responses import Response

from mockgram import rate_limits
from mockgram.oauth.authorize import (
    AuthorizePageError,
    check_form_post_target,
    check_params,
    check_redirect_uri,
    check_response_mode,
    check_state_length,
)
from mockgram.oauth.back_channel import BackChannelDep, refuse_other_methods
from mockgram.oauth.errors import (
    NO_STORE_HEADERS,
    InvalidRequestError,
    OAuthError,
    RateLimitedError,
)
from mockgram.oauth.request_uris import store_pushed

router = APIRouter()

PAR_PATH = "/oauth/par"
# Client authentication travels in the push but is not part of the authorization request.
CLIENT_AUTH_PARAMS = frozenset({"client_secret", "client_assertion", "client_assertion_type"})


@router.post(PAR_PATH)
def pushed_authorization_request_endpoint(call: BackChannelDep) -> Response:
    """Validate and keep an authorization request; answer its request_uri (RFC 9126 §2)."""
    settings = call.provider.settings
    try:
        # §2: the client authenticates as at the token endpoint (each parameter once, §2.1).
        form, client = call.form_and_client()
        params = {name: [value] for name, value in form.items() if name not in CLIENT_AUTH_PARAMS}
        # §2.1: "The request_uri authorization request parameter MUST NOT be provided".
        if "request_uri" in params:
            raise InvalidRequestError("request_uri must not be pushed (RFC 9126 §2.1).")
        # §2.1: validated as the authorization endpoint would (RFC 6749 §4.1.1, OIDC Core §3).
        try:
            redirect_uri, _ = check_redirect_uri(client, params)
            mode = check_response_mode(params)
            check_state_length(params)
            check_form_post_target(redirect_uri, mode)
        except AuthorizePageError as exc:
            raise InvalidRequestError(f"{exc.title} ({exc.rfc}).") from exc
        check_params(client, params, settings)
        limit = rate_limits.Limit(
            rate_limits.AUTHORIZATION_REQUESTS, settings.authorization_requests_per_hour
        )
        address = rate_limits.client_address(call.request)
        if wait := rate_limits.take(call.session, limit, address=address):
            raise RateLimitedError(
                "Too many authorization requests from this address.",
                headers={"Retry-After": str(wait)},
            )
        ttl = settings.par_request_uri_ttl_seconds
        pushed = store_pushed(
            call.session, client_id=client.client_id, params=params, ttl_seconds=ttl
        )
    except OAuthError as exc:
        return call.refused(exc)
    # §2.2: 201 Created, the request_uri and how many seconds it stays valid.
    return JSONResponse(
        {"request_uri": pushed.request_uri, "expires_in": ttl},
        status_code=201,
        headers=NO_STORE_HEADERS,
    )


# §2: the pushed authorization request endpoint takes POST only.
refuse_other_methods(router, PAR_PATH, "pushed authorization request")
