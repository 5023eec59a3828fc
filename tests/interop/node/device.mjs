// openid-client runs the device authorization grant (RFC 8628) against Mockgram: it asks for
// codes, prints the user code on a line of its own (the test approves as John meanwhile), then
// polls until the token endpoint answers with tokens or an error.
import * as client from "openid-client";
import { run } from "./run.mjs";

await run(async ({ issuer, client_id, scope }) => {
  const config = await client.discovery(new URL(issuer), client_id, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
  const device = await client.initiateDeviceAuthorization(config, { scope });
  process.stdout.write(
    JSON.stringify({
      user_code: device.user_code,
      verification_uri: device.verification_uri,
      interval: device.interval,
    }) + "\n",
  );
  const tokens = await client.pollDeviceAuthorizationGrant(config, device);
  return { token_type: tokens.token_type, scope: tokens.scope, has_access_token: !!tokens.access_token };
});
