"""Step 6 — how the photos API receives and checks a bearer token (RFC 6750 §2, §3).

Mockgram accepts the token in exactly one place: the `Authorization: Bearer <token>` header
(RFC 6750 §2.1). The other two places RFC 6750 describes are refused with `invalid_request`:

- the URI query parameter `?access_token=` (§2.3): tokens in URLs leak into logs, history and
  Referer headers; RFC 9700 §2.4 and OAuth 2.1 forbid it;
- the form-encoded body parameter `access_token` (§2.2): optional in RFC 6750, and nothing here
  needs it. Refusing it, rather than ignoring it, means a client sending the token in a place we
  do not read hears about it instead of getting a puzzling 401.

Errors follow RFC 6750 §3: a `WWW-Authenticate: Bearer realm="mockgram"` challenge, with
`error`, `error_description` (and `scope` for insufficient_scope) once a token was presented,
and a JSON body `{"error", "error_description"}` for programs. With no token at all the
challenge carries no error code (§3.1: "SHOULD NOT include an error code"), and the body says
so too: only `error_description`, because every `error` value RFC 6750 defines means a token
(or a request) was wrong, and none was sent.

DPoP (RFC 9449 §7): a token bound to a key (`cnf.jkt`) comes as `Authorization: DPoP <token>`
with a `DPoP` proof header, checked by mockgram/oauth/dpop.py: signed by the bound key, for this
method and URL, with `ath` the token's hash, used once. Its refusals carry a
`WWW-Authenticate: DPoP` challenge listing the accepted `algs` (§7.1). A DPoP-bound token sent
as a Bearer token is refused (§7.2): stolen, it would otherwise work like any bearer token.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from mockgram.db import SessionDep
from mockgram.deps import DpopNoncesDep, KeysDep, SettingsDep
from mockgram.failures import error_uri
from mockgram.oauth import dpop
from mockgram.oauth.errors import OAuthError, UseDpopNonceError
from mockgram.settings import MockgramSettings
from mockgram.tokens import (
    AccessToken,
    InvalidAccessToken,
    active_token,
    checked_claims,
)

REALM = "mockgram"
PHOTOS_API_PREFIX = "/api/"
# RFC 9728 §3.1: the photos API's metadata (mockgram/api/resource_metadata.py).
RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource/api"
# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class BearerError(Exception):
    """A refused protected-resource request: status, RFC 6750 §3.1 error code and challenge."""

    def __init__(
        self,
        status_code: int,
        error: str | None = None,
        description: str = "",
        scope: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description or error or "no token")
        self.status_code = status_code
        self.error = error
        self.description = description
        self.scope = scope
        self.headers = headers or {}

    def challenge(self, resource_metadata: str | None = None) -> str:
        """The WWW-Authenticate value (RFC 6750 §3); no error code when no token was sent.

        `resource_metadata`: where the resource describes itself (RFC 9728 §5.1)."""
        parts = [f'Bearer realm="{REALM}"']
        if resource_metadata:
            parts.append(f'resource_metadata="{resource_metadata}"')
        if self.error:
            parts.append(f'error="{self.error}"')
            # RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E.
            parts.append(f'error_description="{_quotable(self.description)}"')
        if self.scope:
            parts.append(f'scope="{self.scope}"')
        if self.error:
            parts.append(f'error_uri="{error_uri(self.error)}"')  # RFC 6750 §3: the explain page
        return ", ".join(parts)

    def response(self, resource_metadata: str | None = None) -> Response:
        """The JSON error response with its challenge header."""
        body: dict[str, str] = {}
        if self.error:  # §3.1: no error code when no token was presented
            body["error"] = self.error
        body["error_description"] = self.description or "This request needs a bearer token."
        if self.scope:
            body["scope"] = self.scope
        if self.error:
            body["error_uri"] = error_uri(self.error)
        challenge = self.challenge(resource_metadata)
        headers = {"WWW-Authenticate": challenge, "Cache-Control": "no-store"}
        return JSONResponse(body, status_code=self.status_code, headers={**headers, **self.headers})


class DpopChallengeError(BearerError):
    """A refusal under the DPoP scheme (RFC 9449 §7.1): its challenge names the accepted algs."""

    def challenge(self, resource_metadata: str | None = None) -> str:
        """`DPoP error=…, error_description=…, algs="ES256 …"` (RFC 9449 §7.1)."""
        parts = ["DPoP"]
        if self.error:
            parts.append(f'error="{self.error}"')
            parts.append(f'error_description="{_quotable(self.description)}"')
        if self.scope:
            parts.append(f'scope="{self.scope}"')
        if self.error:
            parts.append(f'error_uri="{error_uri(self.error)}"')
        if resource_metadata:
            parts.append(f'resource_metadata="{resource_metadata}"')  # RFC 9728 §5.1
        parts.append(f'algs="{" ".join(dpop.ALGS)}"')
        return parts[0] + " " + ", ".join(parts[1:])


def _quotable(text: str) -> str:
    return "".join(ch for ch in text if 0x20 <= ord(ch) <= 0x7E and ch not in '"\\')


def no_token() -> BearerError:
    """RFC 6750 §3.1: a request without authentication gets a challenge and no error code."""
    return BearerError(401, None, "This request needs a bearer access token.")


def invalid_request(description: str) -> BearerError:
    """RFC 6750 §3.1 invalid_request (400)."""
    return BearerError(400, "invalid_request", description)


async def bearer_error_handler(request: Request, exc: Exception) -> Response:
    """Turn a BearerError into its RFC 6750 response; the photos API's names its metadata."""
    assert isinstance(exc, BearerError)
    if request.url.path.startswith(PHOTOS_API_PREFIX):
        # RFC 9728 §5.1: where a client learns which authorization server to ask.
        issuer = request.app.state.settings.issuer
        return exc.response(f"{issuer}{RESOURCE_METADATA_PATH}")
    return exc.response()


def install(app: FastAPI) -> None:
    """Register the BearerError handler on the app (called from create_app)."""
    app.add_exception_handler(BearerError, bearer_error_handler)


def token_from_header(values: list[str]) -> str | None:
    """The token in the Authorization header, None if there is no Bearer credential (§2.1)."""
    found = credentials_from_header(values, schemes=("bearer",))
    return None if found is None else found[1]


def credentials_from_header(
    values: list[str], *, schemes: tuple[str, ...] = ("bearer", "dpop")
) -> tuple[str, str] | None:
    """(scheme, token) from the Authorization header for one of `schemes`, lower-cased; or None."""
    if not values:
        return None
    if len(values) > 1:
        # RFC 6750 §3.1: repeating a parameter is malformed.
        raise invalid_request("Send one Authorization header.")
    scheme, _, rest = values[0].strip().partition(" ")
    # RFC 7235 §2.1: the auth-scheme is case-insensitive; another scheme is no token at all.
    scheme = scheme.lower()
    if scheme not in schemes:
        return None
    credentials = rest.strip(" ")
    if not credentials:
        raise invalid_request("The Authorization header says Bearer but carries no token.")
    if " " in credentials:
        raise invalid_request("The Authorization header must carry exactly one token.")
    if not _B64TOKEN.fullmatch(credentials):
        raise invalid_request("The bearer token contains characters a b64token cannot have.")
    return scheme, credentials


@dataclass(frozen=True)
class Credentials:
    """The access token and the scheme it came under: `bearer` or `dpop` (RFC 9449 §7.1)."""

    scheme: str
    token: str


async def bearer_token(request: Request) -> Credentials:
    """Find the one access token in the request, refusing every other place (RFC 6750 §2)."""
    found = credentials_from_header(request.headers.getlist("authorization"))
    header_token = None if found is None else found[1]
    # RFC 6750 §2.3 is refused: RFC 9700 §2.4 and OAuth 2.1 forbid tokens in the URI.
    in_query = "access_token" in request.query_params
    in_body = False
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in _FORM_TYPES and request.method not in ("GET", "HEAD"):
        # RFC 6750 §2.2 is not supported: a form-body token is refused, never silently ignored.
        in_body = "access_token" in await request.form()
    if sum((header_token is not None, in_query, in_body)) > 1:
        # RFC 6750 §3.1: "uses more than one method for including an access token".
        raise invalid_request(
            "The access token was sent in more than one way; use only the header."
        )
    if in_query:
        raise invalid_request(
            "Access tokens in the query string are not accepted; use the Authorization header."
        )
    if in_body:
        raise invalid_request(
            "Access tokens in the request body are not accepted; use the Authorization header."
        )
    if found is None:
        raise no_token()
    return Credentials(*found)


BearerTokenDep = Annotated[Credentials, Depends(bearer_token)]


def refusal(scheme: str, status_code: int, error: str, description: str) -> BearerError:
    """A refusal whose challenge speaks the scheme the token came under (RFC 9449 §7.1)."""
    kind = DpopChallengeError if scheme == "dpop" else BearerError
    return kind(status_code, error, description)


def insufficient_scope(scope: str, scheme: str = "bearer") -> BearerError:
    """RFC 6750 §3.1: insufficient_scope names the scope that would have been enough."""
    refused = refusal(
        scheme,
        403,
        "insufficient_scope",
        f"This token may not do that: it needs the {scope} scope.",
    )
    refused.scope = scope
    return refused


def proof_for(
    request: Request,
    presented: Credentials,
    claims: dict[str, Any],
    *,
    settings: MockgramSettings,
    nonces: dpop.DpopNonces | None,
) -> dpop.Proof | None:
    """RFC 9449 §7: a DPoP-bound token comes with a valid proof by its key; others without."""
    confirmation = claims.get("cnf")
    bound = confirmation.get("jkt") if isinstance(confirmation, dict) else None
    if presented.scheme == "bearer":
        if bound is not None:
            # §7.2: a DPoP-bound token presented as a bearer token is refused.
            raise DpopChallengeError(
                401,
                "invalid_token",
                "This access token is DPoP-bound: send it as Authorization: DPoP, with a proof.",
            )
        return None
    # §7.1: the DPoP scheme is for DPoP-bound tokens only.
    if not isinstance(bound, str):
        raise DpopChallengeError(
            401, "invalid_token", "This access token is not DPoP-bound; send it as Bearer."
        )
    try:
        value = dpop.proof_from(request)
        if value is None:
            raise dpop.InvalidDpopProofError("A DPoP-bound token needs a DPoP proof header.")
        uri = dpop.target_uri(settings, request)
        proof = dpop.check_proof(
            value,
            method=request.method,
            uri=uri,
            settings=settings,
            nonces=nonces,
            access_token=presented.token,
        )
    except UseDpopNonceError as exc:
        # §9: the resource server's nonce, asked for with 401 and a DPoP-Nonce header.
        raise DpopChallengeError(401, exc.error, exc.description, headers=exc.headers) from exc
    except OAuthError as exc:
        raise DpopChallengeError(401, exc.error, exc.description) from exc
    # §4.3 step 12: signed by the very key the token is bound to.
    if proof.jkt != bound:
        raise DpopChallengeError(
            401,
            "invalid_dpop_proof",
            "The DPoP proof is signed by another key than the one this token is bound to.",
        )
    return proof


def person_of(access: AccessToken) -> int:
    """The person a token speaks for; a client's own token (RFC 6749 §4.4) speaks for nobody.

    Such a token is valid, but too weak for a person's data: RFC 6750 §3.1's 403
    insufficient_scope ("requires higher privileges"), never a 500 or someone else's photos."""
    if access.user_id is None:
        raise BearerError(
            403,
            "insufficient_scope",
            "This token was issued to the app itself (client credentials): it speaks for no "
            "person, so it reaches nobody's photos or profile.",
        )
    return access.user_id


@dataclass(frozen=True)
class PresentedToken:
    """A bearer token whose signature and claims check out; whether it is still active (not
    revoked) is looked up together with the data it asks for, in one trip to the database."""

    claims: dict[str, Any]
    scope: str
    scheme: str = "bearer"
    proof: dpop.Proof | None = None  # RFC 9449: the checked proof, its jti not yet recorded

    def authorize(self, session: Session) -> AccessToken:
        """The active token holding the scope, or the RFC 6750 §3.1 error (401, then 403)."""
        try:
            access = active_token(session, self.claims)
        except InvalidAccessToken as exc:
            raise refusal(self.scheme, 401, "invalid_token", str(exc)) from exc
        if self.scope not in access.scopes:
            raise insufficient_scope(self.scope, self.scheme)
        if self.proof is not None:
            # RFC 9449 §11.1: each proof once, as every replica sees it.
            try:
                dpop.remember_proof(session, self.proof)
            except OAuthError as exc:
                raise DpopChallengeError(401, exc.error, exc.description) from exc
            session.commit()
        return access


def present_token(scope: str) -> Callable[..., Awaitable[PresentedToken]]:
    """The read endpoints' dependency: the checks that need no database, on the event loop.

    A signature check is tens of microseconds; a trip to the thread pool costs more than that.
    So a protected read makes exactly one trip, for its revocation check and its data together.
    """

    async def dependency(
        request: Request,
        presented: BearerTokenDep,
        keys: KeysDep,
        settings: SettingsDep,
        nonces: DpopNoncesDep,
    ) -> PresentedToken:
        try:
            # RFC 9068 §4: signature, typ, iss, aud, exp; revocation comes with the data.
            claims = checked_claims(presented.token, keys=keys, settings=settings)
        except InvalidAccessToken as exc:
            raise refusal(presented.scheme, 401, "invalid_token", str(exc)) from exc
        proof = proof_for(request, presented, claims, settings=settings, nonces=nonces)
        return PresentedToken(claims, scope, presented.scheme, proof)

    return dependency


def require_scope(scope: str) -> Callable[..., AccessToken]:
    """The writes' dependency: the same checks, the revocation lookup in the request's session."""

    # A default, not an annotation: annotations are read as strings, where `scope` is unknown.
    def dependency(
        session: SessionDep, presented: PresentedToken = Depends(present_token(scope))
    ) -> AccessToken:
        return presented.authorize(session)

    return dependency
