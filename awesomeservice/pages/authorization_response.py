"""Step 4 for people — the authorization response, checked before any code is redeemed.

Connect (pages/connect.py) and 'Log in with Mockgram' (pages/login_with_mockgram.py) read the
provider's answer the same way, with the checks of awesomeservice/oauth/callback.py: state
first (C1), then — after a step-through pause, if the reader is stepping — iss (C3), the error
answer (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6) and the code. The two flows differ only in
their words, their pending-request table and their page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import httpx
from fastapi import Request
from fastapi.responses import Response

from awesomeservice import refusals
from awesomeservice.backchannel import MockgramUnavailable
from awesomeservice.deps import SESSION_BINDING_KEY, SESSION_USER_KEY
from awesomeservice.errors import mockgram_unavailable
from awesomeservice.events import BeforeExchange, Events
from awesomeservice.models import PendingAuthorization, PendingLogin
from awesomeservice.oauth import callback
from awesomeservice.oauth.callback import Binding, CallbackRefused, ErrorAnswer
from awesomeservice.oauth.discovery import Discovery, ProviderMetadata
from awesomeservice.oauth.token_endpoint import TokenError
from awesomeservice.pages.wording import (
    AUTHORIZATION_ERRORS,
    TOKEN_ERRORS,
    cross_host_refusal,
    issuer_refusal,
)
from shared.db import Database

Pending = TypeVar("Pending", PendingAuthorization, PendingLogin)


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
    state: Mapping[str, tuple[str, str]]  # (title, message) per C1 reason
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


async def _refusal_page(
    request: Request, words: CallbackWords, refused: CallbackRefused, issuer: str
) -> Response:
    """A check of ours refused the answer: say which, in this flow's words."""
    if refused.reason == "code_missing":
        title, message, rfc = "This answer has no code", words.no_code_message, words.no_code_rfc
    elif refused.reason == "state_other_session" and not request.session.get(SESSION_BINDING_KEY):
        # A request of ours, answered to a browser with no session on this host name at all:
        # the 127.0.0.1 trap (cookies are kept per host name), not another person's answer.
        (title, message), rfc = cross_host_refusal(request.app.state.settings.url), refused.rfc
    elif refused.reason in words.state:
        (title, message), rfc = words.state[refused.reason], refused.rfc
    else:
        (title, message), rfc = issuer_refusal(refused, issuer), refused.rfc
    return await words.page.render(
        request,
        status_code=400,
        title=title,
        message=message,
        rfc=rfc,
        error_code=refused.reason,
        step=4,
        ours=True,
    )


async def _error_answer_page(
    request: Request, words: CallbackWords, answer: ErrorAnswer
) -> Response:
    """RFC 6749 §4.1.2.1 / OIDC Core §3.1.2.6: the provider answered with an error, not a code."""
    if answer.error == "access_denied":
        return await words.page.render(
            request,
            status_code=200,
            title=words.denied_title,
            message=words.denied_message,
            rfc=words.error_rfc,
            error_code="access_denied",
            kind="neutral",
            provider_error_uri=answer.uri,
            step=4,
            # The story's step 4 brings a code; after a "no" there is no next step to tell.
            banner=False,
        )
    return await words.page.render(
        request,
        status_code=400,
        title=words.error_title,
        message=AUTHORIZATION_ERRORS.get(answer.error, words.error_fallback),
        rfc=words.error_rfc,
        error_code=answer.error,
        detail=answer.description,
        provider_error_uri=answer.uri,
        step=4,
    )


async def receive_code(
    request: Request,
    database: Database,
    http: httpx.AsyncClient,
    events: Events,
    discovery: Discovery,
    *,
    issuer_url: str,
    model: type[Pending],
    words: CallbackWords,
) -> CodeReceived[Pending] | Response:
    """Step 4: state, then a step-through pause, then state used up, iss, the error answer
    and the code; a page for John if any check fails or the reader is stepping through."""
    params = request.query_params
    binding = Binding(
        request.session.get(SESSION_BINDING_KEY), request.session.get(SESSION_USER_KEY)
    )
    try:
        # C1 before anything else: only an answer to a request this browser started is
        # recorded, held or believed — an error answer too.
        await callback.receive(
            database, events, model, url=str(request.url), params=params, binding=binding
        )
    except CallbackRefused as refused:
        return await _refusal_page(request, words, refused, issuer_url)
    if paused := await events.pause(request, BeforeExchange()):
        return paused
    try:
        # The issuer and endpoints come from the provider's discovery document (C6 checked there).
        metadata = await discovery.metadata(http, issuer_url)
    except MockgramUnavailable as exc:
        return await mockgram_unavailable(request, exc, step=4)
    try:
        pending = await callback.accept(
            database, events, model, params=params, binding=binding, metadata=metadata
        )
        answer = callback.error_answer(params)
        code = callback.code_of(params) if answer is None else ""
    except CallbackRefused as refused:
        return await _refusal_page(request, words, refused, metadata.issuer)
    if answer is not None:
        return await _error_answer_page(request, words, answer)
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
