"""The device flow from the print kiosk's side (RFC 8628 §3.1–§3.5).

The kiosk in the shop has a screen and no keyboard. Its server (AwesomeService's back end):
(A) asks Mockgram's device authorization endpoint for codes, (B) keeps the device_code (its
secret) and shows the user_code, the verification URI and a QR code of
verification_uri_complete; (E) polls the token endpoint with the device_code, never sooner
than `interval` seconds apart, adding five seconds whenever told slow_down (§3.5); (F) gets
the access token once John approved on his phone — or stops at access_denied or
expired_token. The kiosk is a public client (RFC 6749 §2.1): it sends its client_id alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from awesomeservice.backchannel import MockgramUnavailable, json_object
from awesomeservice.events import DeviceCodesIssued, DevicePolled, Events
from awesomeservice.oauth.token_endpoint import Client, TokenError, TokenSet, post, token_set

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"  # §3.4
DEFAULT_INTERVAL = 5  # §3.2: "If no value is provided, clients MUST use 5 as the default."
SLOW_DOWN_SECONDS = 5  # §3.5
# §3.5: the answers that mean "keep polling"; anything else ends the flow.
KEEP_POLLING = ("authorization_pending", "slow_down")


@dataclass(frozen=True)
class DeviceCodes:
    """The device authorization response (§3.2)."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str  # "" when the server sends none (it is optional)
    expires_in: int
    interval: int


@dataclass(frozen=True)
class PollAnswer:
    """One poll's outcome: tokens, or the error code the token endpoint answered (§3.5)."""

    answer: str  # "tokens", "authorization_pending", "slow_down", "access_denied", …
    tokens: TokenSet | None = None
    description: str = ""

    @property
    def keep_polling(self) -> bool:
        return self.answer in KEEP_POLLING


def _positive_int(body: dict[str, object], name: str, default: int | None = None) -> int:
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise MockgramUnavailable("bad_answer", f"The device authorization had no usable {name}.")
    return value


def _text(body: dict[str, object], name: str, *, required: bool = True) -> str:
    value = body.get(name)
    if isinstance(value, str) and value:
        return value
    if required:
        raise MockgramUnavailable("bad_answer", f"The device authorization had no {name}.")
    return ""


async def request_codes(
    http: httpx.AsyncClient, events: Events, url: str, client: Client, *, scope: str
) -> DeviceCodes:
    """(A)–(B), §3.1–§3.2: the codes for this kiosk and what it may ask for."""
    response = await post(http, url, client, {"scope": scope})
    body = json_object(response)
    if response.status_code != 200:
        raise TokenError(
            str(body.get("error") or "server_error"),
            str(body.get("error_description") or "")[:300],
            response.status_code,
        )
    codes = DeviceCodes(
        device_code=_text(body, "device_code"),
        user_code=_text(body, "user_code"),
        verification_uri=_text(body, "verification_uri"),
        verification_uri_complete=_text(body, "verification_uri_complete", required=False),
        expires_in=_positive_int(body, "expires_in"),
        interval=_positive_int(body, "interval", DEFAULT_INTERVAL),
    )
    await events.announce(DeviceCodesIssued(client.client_id, codes.verification_uri))
    return codes


async def poll(
    http: httpx.AsyncClient, events: Events, url: str, client: Client, *, device_code: str
) -> PollAnswer:
    """(E)–(F), §3.4–§3.5: one token request with the device code, and what it answered."""
    form = {"grant_type": DEVICE_CODE_GRANT, "device_code": device_code}
    try:
        tokens = token_set(await post(http, url, client, form), "")
    except TokenError as refused:
        answer = PollAnswer(refused.error, description=refused.description)
    else:
        answer = PollAnswer("tokens", tokens)
    await events.announce(DevicePolled(client.client_id, answer.answer))
    return answer


def next_interval(interval: int, answer: PollAnswer) -> int:
    """§3.5: slow_down adds five seconds, for this and every later poll."""
    return interval + SLOW_DOWN_SECONDS if answer.answer == "slow_down" else interval
