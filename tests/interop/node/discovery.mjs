// openid-client reads Mockgram's discovery document and checks it (issuer, endpoints).
import * as client from "openid-client";
import { run } from "./run.mjs";

await run(async ({ issuer, client_id, client_secret }) => {
  const config = await client.discovery(new URL(issuer), client_id, client_secret, undefined, {
    execute: [client.allowInsecureRequests],
  });
  const metadata = config.serverMetadata();
  return { issuer: metadata.issuer, token_endpoint: metadata.token_endpoint };
});
