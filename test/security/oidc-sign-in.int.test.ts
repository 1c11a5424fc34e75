import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AdminCreateUserCommand, AdminSetUserPasswordCommand, CognitoIdentityProviderClient, CreateUserPoolClientCommand, CreateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oidcIssuerStandIn, type OidcIssuerStandIn } from '../../infra/aws-box/oidc-issuer.ts';
import { readText } from '../../infra/aws-box/http-body.ts';
import { BOX_CREDENTIALS, BOX_REGION, startMoto, type Moto } from '../../infra/aws-box/moto.ts';
import { oidcAuth } from '../../dashboard/lib/auth/oidc.ts';
import type { RedirectAuth, SignInChecks } from '../../dashboard/lib/auth/port.ts';

// The dashboard's OIDC adapter (openid-client) against the box's Cognito stand-in, whose pool,
// app client and user are moto's: a full sign-in works; a callback whose state, nonce or PKCE
// verifier is not the one this sign-in started with, a made-up or replayed code, and an ID token
// signed by anyone but the issuer are all refused.

const redirectUri = 'http://localhost:3999/sign-in/callback';
const key = Buffer.alloc(32, 7);

/** What a browser does at the stand-in: the login form, then the redirect back, as a query. */
const signInAt = async (url: string, username: string, password: string): Promise<URLSearchParams> => {
  const form = await fetch(url);
  expect(form.status).toBe(200);
  const request = /name="request" value="([^"]+)"/.exec(await form.text())?.[1];
  expect(request).toBeDefined();
  const login = await fetch(new URL('/login', url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request: request!, username, password }),
    redirect: 'manual',
  });
  expect(login.status).toBe(302);
  const back = new URL(login.headers.get('location')!);
  expect(`${back.origin}${back.pathname}`).toBe(redirectUri);
  return back.searchParams;
};

describe('OIDC sign-in: the adapter against the Cognito stand-in on moto', () => {
  let moto: Moto;
  let idp: OidcIssuerStandIn;
  let auth: RedirectAuth;
  let sub: string;
  let client: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    moto = await startMoto();
    const cognito = new CognitoIdentityProviderClient({ endpoint: moto.endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS });
    const pool = (await cognito.send(new CreateUserPoolCommand({ PoolName: 'oidc-test', UsernameAttributes: ['email'] }))).UserPool!;
    const made = (await cognito.send(new CreateUserPoolClientCommand({
      UserPoolId: pool.Id, ClientName: 'dashboard', GenerateSecret: true, CallbackURLs: [redirectUri],
      AllowedOAuthFlows: ['code'], AllowedOAuthScopes: ['openid', 'email', 'profile'], AllowedOAuthFlowsUserPoolClient: true,
    }))).UserPoolClient!;
    client = { clientId: made.ClientId!, clientSecret: made.ClientSecret! };
    const user = await cognito.send(new AdminCreateUserCommand({
      UserPoolId: pool.Id, Username: 'ada@example.com', UserAttributes: [{ Name: 'email', Value: 'ada@example.com' }], MessageAction: 'SUPPRESS',
    }));
    sub = user.User!.Attributes!.find((a) => a.Name === 'sub')!.Value!;
    await cognito.send(new AdminSetUserPasswordCommand({ UserPoolId: pool.Id, Username: 'ada@example.com', Password: 'Correct-horse-1', Permanent: true }));
    idp = await oidcIssuerStandIn({ cognito, userPoolId: pool.Id! });
    auth = oidcAuth({ displayName: 'Cognito', issuer: idp.issuer, client: async () => ({ ...client, redirectUri }), sessionKey: async () => key });
  }, 60_000);

  afterAll(async () => {
    await idp?.close();
    await moto?.stop();
  });

  it('signs a user in: code and PKCE exchanged, the ID token verified, the identity is the token’s sub', async () => {
    const { url, checks } = await auth.beginSignIn();
    const q = new URL(url).searchParams;
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('state')).toBe(checks.state);
    expect(q.get('nonce')).toBe(checks.nonce);
    const callback = await signInAt(url, 'ada@example.com', 'Correct-horse-1');
    expect(await auth.completeSignIn(callback, checks)).toEqual({ id: sub, name: 'ada@example.com', provider: 'oidc' });
  });

  it('shows the login form again on a wrong password, and never sends the browser back', async () => {
    const { url } = await auth.beginSignIn();
    const form = await fetch(url);
    const request = /name="request" value="([^"]+)"/.exec(await form.text())![1]!;
    const login = await fetch(new URL('/login', url), {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ request, username: 'ada@example.com', password: 'wrong' }), redirect: 'manual',
    });
    expect(login.status).toBe(401);
    expect(await login.text()).toContain('Incorrect username or password');
  });

  it('refuses a callback that answers another sign-in (state), a wrong nonce or PKCE verifier', async () => {
    const mine = await auth.beginSignIn();
    const theirs = await auth.beginSignIn();
    // a code obtained for someone else's sign-in, delivered to this browser (login CSRF)
    expect(await auth.completeSignIn(await signInAt(theirs.url, 'ada@example.com', 'Correct-horse-1'), mine.checks)).toBeNull();
    const withChecks = async (change: Partial<SignInChecks>) => {
      const started = await auth.beginSignIn();
      return auth.completeSignIn(await signInAt(started.url, 'ada@example.com', 'Correct-horse-1'), { ...started.checks, ...change });
    };
    expect(await withChecks({ nonce: 'not-the-nonce' })).toBeNull();
    expect(await withChecks({ codeVerifier: 'not-the-verifier-not-the-verifier-not-the-verifier' })).toBeNull();
  });

  it('refuses a made-up code, and a code used twice', async () => {
    const { checks } = await auth.beginSignIn();
    expect(await auth.completeSignIn(new URLSearchParams({ code: 'made-up', state: checks.state }), checks)).toBeNull();
    const started = await auth.beginSignIn();
    const callback = await signInAt(started.url, 'ada@example.com', 'Correct-horse-1');
    expect(await auth.completeSignIn(callback, started.checks)).not.toBeNull();
    expect(await auth.completeSignIn(callback, started.checks)).toBeNull();
  });

  it('refuses an ID token not signed by the issuer, even with the right issuer, audience, nonce and key id', async () => {
    // A token endpoint that answers with a token of its own making; discovery is the issuer's
    // except for that endpoint, so the keys the adapter checks against are the issuer's.
    const forgerKey = (await generateKeyPair('RS256')).privateKey;
    const real = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    const jwks = (await (await fetch(real.jwks_uri!)).json()) as { keys: { kid: string }[] };
    let nonce = '';
    const forger: Server = createServer((req, res) => {
      void (async () => {
        if (req.url?.endsWith('/.well-known/openid-configuration')) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...real, issuer: idp.issuer, token_endpoint: `${base}/token` }));
          return;
        }
        await readText(req);
        const now = Math.floor(Date.now() / 1000);
        const idToken = await new SignJWT({ nonce, email: 'mallory@example.com' })
          .setProtectedHeader({ alg: 'RS256', kid: jwks.keys[0]!.kid })
          .setIssuer(idp.issuer).setAudience(client.clientId).setSubject(sub).setIssuedAt(now).setExpirationTime(now + 600)
          .sign(forgerKey);
        expect(decodeProtectedHeader(idToken).kid).toBe(jwks.keys[0]!.kid);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id_token: idToken, access_token: 'x', token_type: 'Bearer', expires_in: 600 }));
      })();
    });
    await new Promise<void>((r) => forger.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(forger.address() as AddressInfo).port}`;
    try {
      // openid-client reads discovery from the URL it is given and checks its `issuer` field; the
      // forger serves the real issuer's document at its own address only to route the token call.
      const forged = oidcAuth({ displayName: 'Cognito', issuer: `${base}/`, client: async () => ({ ...client, redirectUri }), sessionKey: async () => key });
      const { checks } = await forged.beginSignIn();
      nonce = checks.nonce;
      expect(await forged.completeSignIn(new URLSearchParams({ code: 'any', state: checks.state }), checks)).toBeNull();
    } finally {
      await new Promise((r) => forger.close(r));
    }
  });
});
