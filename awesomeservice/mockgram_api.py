"""Step 6 — AwesomeService calls Mockgram's photos API with the access token (RFC 6750 §2.1).

The token goes in the Authorization header, over the back channel only; the browser never
holds it (images are proxied through AwesomeService's back end). A DPoP-bound token goes as
`Authorization: DPoP …` with a fresh proof by the print shop's key, carrying the token's hash
(RFC 9449 §7.1); asked for a nonce, the call is signed again with it, once (§9).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from awesomeservice.backchannel import MockgramUnavailable, json_object, send
from awesomeservice.oauth.dpop import NONCE_HEADER, DpopSender


@dataclass(frozen=True)
class Photo:
    id: int
    caption: str
    taken_at: str
    width: int
    height: int


@dataclass(frozen=True)
class ApiAnswer:
    """Mockgram's answer as it came: status, WWW-Authenticate, and the JSON error if any."""

    status_code: int
    www_authenticate: str | None
    error: str | None
    error_description: str | None


class TokenRejected(Exception):
    """401 invalid_token (RFC 6750 §3.1): the token expired or was revoked."""

    def __init__(self, description: str = "") -> None:
        super().__init__(description)
        self.description = description


class ApiRefused(Exception):
    """Any other refusal from the API (403 insufficient_scope, 404 not_found, …)."""

    def __init__(self, answer: ApiAnswer) -> None:
        super().__init__(answer.error or str(answer.status_code))
        self.answer = answer


def _bearer(access_token: str) -> dict[str, str]:
    # RFC 6750 §2.1: the Authorization request header field, never the query string.
    return {"Authorization": f"Bearer {access_token}"}


async def _call(
    http: httpx.AsyncClient,
    method: str,
    path: str,
    access_token: str,
    dpop: DpopSender | None,
) -> httpx.Response:
    """One API call: Bearer, or DPoP with a proof (and a nonce when Mockgram asks, once)."""
    if dpop is None:
        return await send(http, method, path, headers=_bearer(access_token))
    nonce: str | None = None
    for _attempt in range(2):
        proof = dpop.proof(method, path, access_token=access_token, nonce=nonce)
        headers = {"Authorization": f"DPoP {access_token}", "DPoP": proof}
        response = await send(http, method, path, headers=headers)
        nonce = response.headers.get(NONCE_HEADER)
        challenge = response.headers.get("www-authenticate", "")
        if response.status_code != 401 or not nonce or "use_dpop_nonce" not in challenge:
            break
    return response


def _answer(response: httpx.Response) -> ApiAnswer:
    """Read an API answer without trusting its body to be JSON."""
    error = description = None
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error") if isinstance(body.get("error"), str) else None
        text = body.get("error_description")
        description = text[:300] if isinstance(text, str) else None
    return ApiAnswer(
        status_code=response.status_code,
        www_authenticate=response.headers.get("www-authenticate"),
        error=error,
        error_description=description,
    )


def _raise_for_refusal(response: httpx.Response) -> None:
    if response.status_code == 401:
        raise TokenRejected(_answer(response).error_description or "")
    if response.status_code >= 400:
        raise ApiRefused(_answer(response))


def _photo(item: Any) -> Photo:
    if not isinstance(item, dict):
        raise MockgramUnavailable("bad_answer", "A photo in the list was not an object.")
    photo_id, caption = item.get("id"), item.get("caption", "")
    if not isinstance(photo_id, int) or isinstance(photo_id, bool):
        raise MockgramUnavailable("bad_answer", "A photo in the list had no numeric id.")
    width, height = item.get("width", 0), item.get("height", 0)
    return Photo(
        id=photo_id,
        caption=caption if isinstance(caption, str) else "",
        taken_at=str(item.get("taken_at", "")),
        width=width if isinstance(width, int) else 0,
        height=height if isinstance(height, int) else 0,
    )


async def list_photos(
    http: httpx.AsyncClient, access_token: str, dpop: DpopSender | None = None
) -> list[Photo]:
    """GET /api/photos: the token owner's photos, newest first."""
    response = await _call(http, "GET", "/api/photos", access_token, dpop)
    _raise_for_refusal(response)
    photos = json_object(response).get("photos")
    if not isinstance(photos, list):
        raise MockgramUnavailable("bad_answer", "The photo list was missing.")
    return [_photo(item) for item in photos]


async def fetch_image(
    http: httpx.AsyncClient, access_token: str, photo_id: int, dpop: DpopSender | None = None
) -> tuple[bytes, str]:
    """GET /api/photos/{id}/image: the bytes and their content type."""
    response = await _call(http, "GET", f"/api/photos/{photo_id}/image", access_token, dpop)
    _raise_for_refusal(response)
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if not content_type.startswith("image/"):
        raise MockgramUnavailable("bad_answer", "The image was not an image.")
    return response.content, content_type


async def try_delete(
    http: httpx.AsyncClient, access_token: str, photo_id: int, dpop: DpopSender | None = None
) -> ApiAnswer:
    """DELETE /api/photos/{id} with our read-only token: Mockgram's answer, whatever it is."""
    response = await _call(http, "DELETE", f"/api/photos/{photo_id}", access_token, dpop)
    return _answer(response)


async def try_get(http: httpx.AsyncClient, access_token: str, path: str) -> ApiAnswer:
    """GET an API path with a token: Mockgram's answer, whatever it is (for the teaching pages
    that show what a machine token or an exchanged token can and cannot do)."""
    response = await send(http, "GET", path, headers=_bearer(access_token))
    return _answer(response)
