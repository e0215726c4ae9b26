// A real OpenID provider (panva/oidc-provider) on loopback, laid out like an Azure AD B2C user
// flow: discovery and keys under /<tenant>.onmicrosoft.com/<policy>/v2.0, issuer
// http://127.0.0.1:<port>/<tenant-id>/v2.0/ with the trailing slash, emails in an array.
// Sign-in uses oidc-provider's development interactions (any login name, any password).
//
// Environment: PORT (required), TENANT_ID, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI.
// Prints "ready <discovery url>" on stdout once it listens.

import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const tenantId = process.env.TENANT_ID || '6f1c3a52-3f0e-4d43-9a6b-0c1f7b2d9e11';
const clientId = process.env.CLIENT_ID || 'ai-tutor-lms';
const clientSecret = process.env.CLIENT_SECRET || 'loopback-only-secret';
const redirectUri = process.env.REDIRECT_URI || 'http://127.0.0.1/complete/oidc/';
const policyPath = '/contoso.onmicrosoft.com/B2C_1_signupsignin/v2.0';
const origin = `http://127.0.0.1:${port}`;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'loopback-1', use: 'sig' };

// Learners known to this provider; any other login name gets a plain profile.
const learners = {
  ada: { given_name: 'Ada', family_name: 'Lovelace', name: 'Ada Lovelace' },
};

const provider = new Provider(`${origin}/${tenantId}/v2.0/`, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: ['loopback-only-cookie-key'] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name'],
    email: ['emails'],
  },
  // Put the profile claims into the ID token itself, as B2C does.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const profile = learners[id] || { name: id };
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...profile, emails: [`${id}@example.org`] };
      },
    };
  },
});
provider.proxy = false;

const callback = provider.callback();
const server = http.createServer((req, res) => {
  if (!req.url.startsWith(`${policyPath}/`)) {
    res.writeHead(404).end();
    return;
  }
  // Mount the provider under the B2C policy path: endpoints are built from originalUrl.
  req.originalUrl = req.url;
  req.url = req.url.slice(policyPath.length);
  callback(req, res);
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${origin}${policyPath}/.well-known/openid-configuration\n`);
});
