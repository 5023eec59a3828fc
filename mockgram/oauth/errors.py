"""OAuth errors: one class per RFC error code, each carrying its wire code and HTTP status.

RFC 6749 §4.1.2.1 (authorization endpoint errors, sent back in the redirect), §5.2 (token
endpoint errors, JSON), RFC 7591 §3.2.2 (registration errors). The helpers here render the
back channel's answer: JSON with `Cache-Control: no-store`. Front-channel errors travel like
any authorization response (mockgram/oauth/responses.py).
"""

from __future__ import annotations

import re
from typing import ClassVar

from fastapi.responses import JSONResponse

from mockgram.failures import error_uri

# RFC 6749 §5.1: responses carrying tokens or credentials must not be cached; errors too (§5.2).
NO_STORE_HEADERS: dict[str, str] = {"Cache-Control": "no-store", "Pragma": "no-cache"}

# RFC 6749 §4.1.2.1 / §5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E.
_OUTSIDE_DESCRIPTION_CHARSET = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


class OAuthError(Exception):
    """An error the protocol names; each subclass states its wire code and HTTP status."""

    error: ClassVar[str] = "invalid_request"
    status_code: ClassVar[int] = 400

    def __init_subclass__(cls, *, error: str, status_code: int = 400) -> None:
        cls.error = error
        cls.status_code = status_code

    def __init__(self, description: str = "", *, headers: dict[str, str] | None = None) -> None:
        super().__init__(description or self.error)
        self.description = safe_description(description)
        self.headers = headers or {}

    def as_dict(self) -> dict[str, str]:
        """The JSON body: `error`, `error_description` when there is one, and `error_uri`."""
        body = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        # RFC 6749 §5.2, RFC 7591 §3.2.2: error_uri, a page explaining the error (and this request).
        body["error_uri"] = error_uri(self.error)
        return body


# RFC 6749 §4.1.2.1 and §5.2
class InvalidRequestError(OAuthError, error="invalid_request"): ...


class InvalidClientError(OAuthError, error="invalid_client", status_code=401): ...


class InvalidGrantError(OAuthError, error="invalid_grant"): ...


class UnauthorizedClientError(OAuthError, error="unauthorized_client"): ...


class UnsupportedGrantTypeError(OAuthError, error="unsupported_grant_type"): ...


class InvalidScopeError(OAuthError, error="invalid_scope"): ...


class AccessDeniedError(OAuthError, error="access_denied", status_code=403): ...


class UnsupportedResponseTypeError(OAuthError, error="unsupported_response_type"): ...


class ServerError(OAuthError, error="server_error", status_code=500): ...


class TemporarilyUnavailableError(OAuthError, error="temporarily_unavailable", status_code=503): ...


# RFC 6749 §4.1.2.1's code for "try later", sent with 429 when a client address is over its
# rate limit (RFC 6585 §4), with Retry-After (mockgram/rate_limits.py).
class RateLimitedError(OAuthError, error="temporarily_unavailable", status_code=429): ...


# RFC 8707 §2, RFC 8693 §2.2.2: a resource or audience Mockgram does not know or will not serve.
class InvalidTargetError(OAuthError, error="invalid_target"): ...


# RFC 7591 §3.2.2
class InvalidRedirectUriError(OAuthError, error="invalid_redirect_uri"): ...


class InvalidClientMetadataError(OAuthError, error="invalid_client_metadata"): ...


# OIDC Core §3.1.2.6: prompt=none could not be honoured without John.
class LoginRequiredError(OAuthError, error="login_required"): ...


class ConsentRequiredError(OAuthError, error="consent_required"): ...


# RFC 8628 §3.5: the device token request's own answers while John has not approved yet.
class AuthorizationPendingError(OAuthError, error="authorization_pending"): ...


class SlowDownError(OAuthError, error="slow_down"): ...


class ExpiredTokenError(OAuthError, error="expired_token"): ...


# RFC 9449 §5, §12.2: a missing, malformed or unacceptable DPoP proof; a proof without the
# nonce the server asks for (§8), sent with a DPoP-Nonce header.
class InvalidDpopProofError(OAuthError, error="invalid_dpop_proof"): ...


class UseDpopNonceError(OAuthError, error="use_dpop_nonce"): ...


def safe_description(text: str) -> str:
    """Replace characters RFC 6749 §4.1.2.1 does not allow in error_description."""
    return _OUTSIDE_DESCRIPTION_CHARSET.sub("?", text)


def json_error(exc: OAuthError) -> JSONResponse:
    """Render an OAuth error as JSON with its status, error_uri and no-store headers."""
    return JSONResponse(
        exc.as_dict(), status_code=exc.status_code, headers={**NO_STORE_HEADERS, **exc.headers}
    )


def method_not_allowed(endpoint: str) -> JSONResponse:
    """405 for an endpoint that only accepts POST, still an OAuth error with its error_uri."""
    response = json_error(InvalidRequestError(f"The {endpoint} endpoint accepts POST only."))
    response.status_code = 405
    response.headers["Allow"] = "POST"
    return response
