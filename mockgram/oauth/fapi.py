"""Per-client security policies: PAR required, and the FAPI 2.0 Security Profile switch.

A client registered (or configured) with `fapi2_security_profile` gets FAPI 2.0 Security
Profile §5.3.2 at the authorization endpoint:
- its requests must be pushed first (RFC 9126, FAPI 2.0 §5.3.2.2 item 1) → invalid_request;
- PKCE with S256 is required even though it has a secret (§5.3.2.2 item 5) → invalid_request;
- response_type code only, no implicit or hybrid (§5.3.2.2 item 2) → unauthorized_client,
  and registering such a client with other response types → invalid_client_metadata;
- `iss` in every authorization response (§5.3.2.2 item 7; RFC 9207): Mockgram always sends it.
FAPI 2.0 also requires sender-constrained access tokens (FAPI 2.0 §5.3.2.1, DPoP or mTLS):
`requires_sender_constrained_tokens` says so, for the DPoP module's `requires_dpop(client)` to
honour (one line there: `or requires_sender_constrained_tokens(client)`).
"""

from __future__ import annotations

from mockgram.models import Client
from mockgram.settings import MockgramSettings


def is_fapi2(client: Client) -> bool:
    """True when this client is held to the FAPI 2.0 Security Profile."""
    return client.fapi2_security_profile


def requires_par(client: Client, settings: MockgramSettings) -> bool:
    """RFC 9126 §5 (everyone) and §6 (this client), and FAPI 2.0 §5.3.2.2 item 1."""
    return (
        settings.require_pushed_authorization_requests
        or client.require_pushed_authorization_requests
        or is_fapi2(client)
    )


def requires_pkce(client: Client) -> bool:
    """RFC 9700 §2.1.1 (a public client) and FAPI 2.0 §5.3.2.2 item 5: a code needs PKCE."""
    return client.is_public or is_fapi2(client)


def allows_only_code(client: Client) -> bool:
    """FAPI 2.0 §5.3.2.2 item 2: response_type code, never implicit or hybrid."""
    return is_fapi2(client)


def requires_sender_constrained_tokens(client: Client) -> bool:
    """FAPI 2.0 §5.3.2.1: only sender-constrained access tokens (DPoP, RFC 9449) for this client."""
    return is_fapi2(client)
