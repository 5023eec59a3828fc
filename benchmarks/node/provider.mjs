// The reference point of benchmarks/run.py: node oidc-provider, configured like Mockgram serves
// AwesomeService. One confidential client (client_secret_basic), the code flow with PKCE,
// refresh tokens that rotate, devInteractions for the login and consent pages, the default
// in-memory adapter, one process. Everything comes from the environment the harness sets.
import { generateKeyPairSync, randomUUID } from 'node:crypto';

import Provider from 'oidc-provider';

const port = Number(process.env.PORT ?? 3000);
const issuer = process.env.ISSUER ?? `http://127.0.0.1:${port}`;
const clientId = process.env.CLIENT_ID ?? 'bench';
const clientSecret = process.env.CLIENT_SECRET ?? 'bench-secret';
const redirectUri = process.env.REDIRECT_URI ?? 'http://127.0.0.1:9/callback';

// One RS256 signing key made at start, as Mockgram makes its own on first start.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: randomUUID() };

// Consent remembered per account and client, as Mockgram remembers it in its database; the
// default only finds a grant through the browser's session, so a fresh login would ask again.
const rememberedGrants = new Map();

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid profile email offline_access',
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomUUID()] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username', 'picture'],
    email: ['email', 'email_verified'],
  },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    userinfo: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
  },
  // Mockgram gives a confidential client a refresh token with every code, offline_access or not.
  async issueRefreshToken(ctx, client) {
    return client.grantTypeAllowed('refresh_token');
  },
  // Mockgram rotates every refresh token (RFC 9700 §4.14.2).
  rotateRefreshToken: true,
  async loadExistingGrant(ctx) {
    const accountId = ctx.oidc.session.accountId;
    const key = `${accountId}\n${ctx.oidc.client.clientId}`;
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId)
      || rememberedGrants.get(key);
    if (!grantId) return undefined;
    const grant = await ctx.oidc.provider.Grant.find(grantId);
    if (grant && grant.accountId === accountId) rememberedGrants.set(key, grantId);
    return grant;
  },
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          name: sub,
          preferred_username: sub,
          picture: `${issuer}/avatars/${sub}.png`,
          email: `${sub}@example.test`,
          email_verified: true,
        };
      },
    };
  },
  // Lifetimes as Mockgram's defaults (mockgram/settings.py).
  ttl: {
    AccessToken: 900,
    AuthorizationCode: 600,
    ClientCredentials: 900,
    IdToken: 600,
    RefreshToken: 30 * 24 * 3600,
    Interaction: 1800,
    Session: 14 * 24 * 3600,
    Grant: 14 * 24 * 3600,
  },
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
