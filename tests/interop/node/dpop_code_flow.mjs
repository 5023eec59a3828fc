// openid-client runs the code flow with PKCE and DPoP (RFC 9449) against Mockgram, then reads
// the photos API with the DPoP-bound token. Interactive, because John's consent happens in the
// Python test: this script prints {"authorization_url"} on one line, reads the callback URL
// from stdin, and answers with one JSON object (run.mjs).
import { createInterface } from "node:readline";
import * as client from "openid-client";
import { run } from "./run.mjs";

async function firstLine() {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    lines.close();
    return line.trim();
  }
  throw new Error("no callback URL on stdin");
}

await run(async ({ issuer, client_id, client_secret, redirect_uri, api }) => {
  const config = await client.discovery(new URL(issuer), client_id, client_secret, undefined, {
    execute: [client.allowInsecureRequests],
  });
  // A fresh ES256 key pair, non-extractable: the private key never leaves the crypto engine.
  const keyPair = await client.randomDPoPKeyPair("ES256");
  const DPoP = client.getDPoPHandle(config, keyPair);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri,
    scope: "photos.read",
    state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
  });
  process.stdout.write(JSON.stringify({ authorization_url: url.href }) + "\n");
  const callback = new URL(await firstLine());
  const tokens = await client.authorizationCodeGrant(
    config,
    callback,
    { pkceCodeVerifier: verifier, expectedState: state },
    undefined,
    { DPoP },
  );
  const photos = await client.fetchProtectedResource(
    config,
    tokens.access_token,
    new URL(api),
    "GET",
    undefined,
    undefined,
    { DPoP },
  );
  // The same token, stolen and replayed as a plain bearer token.
  const stolen = await fetch(api, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  const publicJwk = await crypto.subtle.exportKey("jwk", keyPair.publicKey);
  return {
    token_type: tokens.token_type,
    access_token: tokens.access_token,
    public_jwk: publicJwk,
    private_key_extractable: keyPair.privateKey.extractable,
    photos_status: photos.status,
    photos: (await photos.json()).photos.length,
    as_bearer_status: stolen.status,
    as_bearer_challenge: stolen.headers.get("www-authenticate"),
  };
});
