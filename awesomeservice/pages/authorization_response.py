"""Step 4 — the authorization response, checked before any code is redeemed (RFC 6749 §4.1.2).

Connect (pages/connect.py) and 'Log in with Mockgram' (pages/login_with_mockgram.py) read
the provider's answer the same way: an error answer (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6),
then state (C1, RFC 9700 §4.7), then iss (C3, RFC 9207 §2.4), then the code. Each check lives
here once; the two flows differ only in their words, their pending-request table and their page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import httpx
from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session

from awesomeservice import refusals
from awesomeservice.backchannel import MockgramUnavailable
from awesomeservice.deps import SESSION_BINDING_KEY, SESSION_USER_KEY
from awesomeservice.discovery import Discovery, ProviderMetadata
from awesomeservice.errors import mockgram_unavailable
from awesomeservice.inspector import recorder as inspector  # issue 4
from awesomeservice.inspector import stepping  # issue 4: step-through mode
from awesomeservice.oauth_client import (
    AUTHORIZATION_ERRORS,
    TOKEN_ERRORS,
    CallbackRefused,
    TokenError,
    check_issuer,
)
from shared.db import Database

Pending = TypeVar("Pending")
Pending_co = TypeVar("Pending_co", covariant=True)


class ConsumeState(Protocol[Pending_co]):
    """oauth_client.consume_state or oidc_login.consume_login_state: C1, and the state used up
    (a database step, run through `Database.run`)."""

    def __call__(
        self,
        session: Session,
        *,
        state: str | None,
        browser_binding: str | None,
        user_id: int | None,
    ) -> Pending_co: ...


@dataclass(frozen=True)
class OutcomePage:
    """Where a callback tells John what happened, and why, with a way to start again.

    Every refusal links to its explanation, `/errors/{reason}?ref=…`, which shows the request
    that failed (recorded here, redacted), and to the provider's own page when it sent one.
    """

    template: str
    # Connect narrates the article's steps with banners; the login has none.
    step_banners: bool
    headers: Mapping[str, str] | None = None

    async def render(
        self,
        request: Request,
        *,
        status_code: int,
        title: str,
        message: str,
        step: int,
        rfc: str = "",
        error_code: str = "",
        detail: str = "",
        kind: str = "bad",
        provider_error_uri: str = "",
        answer: Sequence[tuple[str, str]] = (),
        banner: bool = True,
        ours: bool = False,
    ) -> Response:
        """The page; `ours` when AwesomeService's own check refused, not the provider."""
        # RFC 6749 §4.1.2.1, §5.2: the provider's page about its error, if it is a web page.
        provider_uri = refusals.safe_error_uri(provider_error_uri)
        explain_url = ""
        if error_code:
            ref = await refusals.record(
                request,
                reason=error_code,
                step=step,
                title=title,
                message=message,
                detail=detail,
                answer=answer,
                provider_error_uri=provider_uri,
            )
            explain_url = refusals.explanation_url(error_code, ref)
        context: dict[str, object] = {
            "page_title": title,
            "title": title,
            "message": message,
            "rfc": rfc,
            "error_code": error_code,
            "detail": detail,
            "kind": kind,
            "explain_url": explain_url,
            "provider_error_uri": provider_uri,
            "ours": ours,
            "stopped": kind == "bad",  # the tour banner says the story stops here
        }
        if self.step_banners and banner:
            context["step"] = step
        return request.app.state.templates.TemplateResponse(
            request,
            self.template,
            context,
            status_code=status_code,
            headers=dict(self.headers) if self.headers else None,
        )


@dataclass(frozen=True)
class CallbackWords:
    """What one flow says to John at each refusal; the checks themselves are shared."""

    page: OutcomePage
    error_rfc: str  # the section that defines the error answer for this flow
    denied_title: str
    denied_message: str
    error_title: str
    error_fallback: str
    no_code_message: str
    no_code_rfc: str
    token_title: str
    token_fallback: str


@dataclass(frozen=True)
class CodeReceived(Generic[Pending]):
    """An answer that passed every step 4 check: the used-up pending request and its code."""

    pending: Pending
    code: str
    metadata: ProviderMetadata


async def receive_code(
    request: Request,
    database: Database,
    http: httpx.AsyncClient,
    discovery: Discovery,
    *,
    issuer_url: str,
    consume: ConsumeState[Pending],
    words: CallbackWords,
    iss_check_off: Callable[[str | None], Awaitable[bool]] | None = None,
) -> CodeReceived[Pending] | Response:
    """Step 4: the answer's error, state, iss and code checked; a page for John if any fails.

    `iss_check_off(binding)` is the attack lab's one-shot switch (lab mode only, Connect only).
    """
    await inspector.record_callback(str(request.url))  # the flow inspector, step 4
    if paused := await stepping.pause_before_exchange(request, database):
        return paused
    query = request.query_params
    binding = request.session.get(SESSION_BINDING_KEY)
    user_id = request.session.get(SESSION_USER_KEY)

    try:
        # The issuer and endpoints come from the provider's discovery document (C6 checked there).
        metadata = await discovery.metadata(http, issuer_url)
    except MockgramUnavailable as exc:
        return await mockgram_unavailable(request, exc, step=4)
    try:
        # C1: state present, known, bound to this browser, unexpired, unused — and now used.
        # An error answer too: only an answer to a request this browser started is believed.
        pending = await database.run(
            consume, state=query.get("state"), browser_binding=binding, user_id=user_id
        )
        # C3: the answer comes from the provider itself (RFC 9207 §2.4: error answers included),
        # before any redemption; iss required when the provider advertises it.
        if iss_check_off is None or not await iss_check_off(binding):
            check_issuer(
                query.get("iss"),
                metadata.issuer,
                required=metadata.authorization_response_iss_parameter_supported,
            )
    except CallbackRefused as refused:
        return await words.page.render(
            request,
            status_code=400,
            title=refused.title,
            message=refused.message,
            rfc=refused.rfc,
            error_code=refused.reason,
            step=4,
            ours=True,
        )

    # RFC 6749 §4.1.2.1 / OIDC Core §3.1.2.6: the provider answered with an error, not a code.
    error = query.get("error")
    if error == "access_denied":
        return await words.page.render(
            request,
            status_code=200,
            title=words.denied_title,
            message=words.denied_message,
            rfc=words.error_rfc,
            error_code="access_denied",
            kind="neutral",
            provider_error_uri=query.get("error_uri") or "",
            step=4,
            # The story's step 4 brings a code; after a "no" there is no next step to tell.
            banner=False,
        )
    if error:
        return await words.page.render(
            request,
            status_code=400,
            title=words.error_title,
            message=AUTHORIZATION_ERRORS.get(error, words.error_fallback),
            rfc=words.error_rfc,
            error_code=error[:64],
            detail=(query.get("error_description") or "")[:200],
            provider_error_uri=query.get("error_uri") or "",
            step=4,
        )
    code = query.get("code")
    # RFC 6749 §4.1.2 / OIDC Core §3.1.2.5: a successful answer carries a code.
    if not code:
        return await words.page.render(
            request,
            status_code=400,
            title="This answer has no code",
            message=words.no_code_message,
            rfc=words.no_code_rfc,
            error_code="code_missing",
            step=4,
            ours=True,
        )
    return CodeReceived(pending=pending, code=code, metadata=metadata)


async def token_refused_page(request: Request, words: CallbackWords, exc: TokenError) -> Response:
    """Step 5 refused: the token endpoint's error (RFC 6749 §5.2) explained to John."""
    return await words.page.render(
        request,
        # invalid_client is our fault (a wrong secret), not John's: a bad gateway, not a 400.
        status_code=502 if exc.error == "invalid_client" else 400,
        title=words.token_title,
        message=TOKEN_ERRORS.get(exc.error, words.token_fallback),
        rfc="RFC 6749 §5.2",
        error_code=exc.error[:64],
        detail=exc.description[:200],
        provider_error_uri=exc.error_uri,
        # The back-channel answer the explanation page shows (the request was ours: step 5).
        answer=[
            ("HTTP status", str(exc.status_code)),
            ("error", exc.error),
            ("error_description", exc.description),
            *([("error_uri", exc.error_uri)] if exc.error_uri else []),
        ],
        step=5,
    )
