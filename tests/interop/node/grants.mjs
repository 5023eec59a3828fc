// openid-client drives Mockgram's grants without a browser: client credentials
// (client.clientCredentialsGrant, RFC 6749 §4.4, with an RFC 8707 resource) and token exchange
// (client.genericGrantRequest, RFC 8693). The answer: what the token endpoint returned.
import * as client from "openid-client";
import { run } from "./run.mjs";

await run(async ({ issuer, client_id, client_secret, grant, parameters }) => {
  const config = await client.discovery(
    new URL(issuer),
    client_id,
    client_secret,
    client.ClientSecretBasic(client_secret),
    { execute: [client.allowInsecureRequests] },
  );
  const tokens =
    grant === "client_credentials"
      ? await client.clientCredentialsGrant(config, parameters)
      : await client.genericGrantRequest(config, grant, parameters);
  return { ...tokens };
});
