"""AwesomeService's side of OAuth 2.0 and OpenID Connect: the client's protocol, one module per
step. Pages call it; the flow inspector, step-through and the attack lab listen to the events
it announces (awesomeservice/events.py) and never reach into it.

- authorization_request.py — step 1: state, PKCE, nonce; the request URL (RFC 6749 §4.1.1)
- callback.py — step 4: state, iss, the error answer (RFC 6749 §4.1.2, RFC 9207)
- token_endpoint.py — step 5: client authentication, the code, refresh, revocation
- discovery.py — where a provider's endpoints and keys are (OIDC Discovery, RFC 8414)
- id_token.py — checking an id_token (OIDC Core §3.1.3.7)
- oidc_login.py — the login's steps 5–6: id_token required, userinfo (OIDC Core §3.1, §5.3)
- refused.py — what every refusal carries: a reason code, its section, what came back
"""
