// openid-client drives a pushed authorization request (RFC 9126) and, after John's answer,
// the code grant and an RP-initiated logout URL (OIDC RP-Initiated Logout §2) at Mockgram.
// step "authorize": push, and answer the short front-channel URL (and what the callback needs);
// step "callback": redeem the code, and answer the end_session URL for the id_token.
import * as client from "openid-client";
import { run } from "./run.mjs";

await run(async (params) => {
  const config = await client.discovery(
    new URL(params.issuer),
    params.client_id,
    params.client_secret,
    undefined,
    { execute: [client.allowInsecureRequests] },
  );
  if (params.step === "authorize") {
    const code_verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: params.redirect_uri,
      scope: params.scope,
      code_challenge: await client.calculatePKCECodeChallenge(code_verifier),
      code_challenge_method: "S256",
      state,
      nonce,
    });
    return { url: url.href, code_verifier, state, nonce };
  }
  const tokens = await client.authorizationCodeGrant(config, new URL(params.callback_url), {
    pkceCodeVerifier: params.code_verifier,
    expectedState: params.state,
    expectedNonce: params.nonce,
  });
  const end = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: params.post_logout_redirect_uri,
    state: params.logout_state,
  });
  return { sub: tokens.claims().sub, end_session_url: end.href };
});
