import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AdminGetUserCommand, AdminInitiateAuthCommand, DescribeUserPoolClientCommand, type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { readText } from './http-body.ts';

/**
 * A running stand-in of a Cognito user pool's OIDC side: `issuer` is what the dashboard is
 * configured with (`SHIPLOG_DASHBOARD_OIDC_ISSUER`), as `https://cognito-idp.<region>.amazonaws.com/<pool>` is on AWS.
 *
 * @example
 * const idp = await oidcIssuerStandIn({ cognito, userPoolId });
 * idp.issuer; // 'http://127.0.0.1:41234/eu-west-1_abc'
 */
export interface OidcIssuerStandIn {
  issuer: string;
  url: string;
  close(): Promise<void>;
}

/** How long a code lives before it is exchanged (Cognito: 5 minutes), and the ID token (1 hour). */
const CODE_TTL_MS = 5 * 60_000;
const TOKEN_TTL_SECONDS = 3600;

interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  scope: string;
  state: string | undefined;
  nonce: string | undefined;
  codeChallenge: string | undefined;
  expiresAt: number;
}

interface IssuedCode extends AuthorizationRequest {
  user: { sub: string; username: string; email: string | undefined };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const send = (res: ServerResponse, status: number, body: string, type: string, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(body);
};
const sendJson = (res: ServerResponse, status: number, body: unknown) => send(res, status, JSON.stringify(body), 'application/json');
const oauthError = (res: ServerResponse, status: number, error: string, description: string) => sendJson(res, status, { error, error_description: description });

const loginPage = (requestId: string, message?: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head><body><main>` +
  `<h1>Sign in</h1>${message ? `<p role="alert">${escapeHtml(message)}</p>` : ''}` +
  `<form method="post" action="/login"><input type="hidden" name="request" value="${escapeHtml(requestId)}">` +
  `<label>Username <input name="username" autocomplete="username" required></label>` +
  `<label>Password <input name="password" type="password" autocomplete="current-password" required></label>` +
  `<button type="submit">Sign in</button></form></main></body></html>`;

/**
 * Cognito's hosted UI and OIDC endpoints for one user pool of moto, which serves user pools,
 * clients and users but no `/.well-known/openid-configuration`, `/oauth2/authorize` or
 * `/oauth2/token`. The app client (its secret and callback URLs) and the users are moto's: a
 * password is checked with `AdminInitiateAuth` (`ADMIN_USER_PASSWORD_AUTH`) and the claims come from
 * `AdminGetUser`. Authorization code flow only, with PKCE (S256) when the client sends a
 * challenge; codes are single-use; ID tokens are RS256 JWTs signed with `jose` by a key made at
 * start and published at the issuer's `/.well-known/jwks.json`.
 *
 * @example
 * const idp = await oidcIssuerStandIn({ cognito: new CognitoIdentityProviderClient(config), userPoolId });
 */
export const oidcIssuerStandIn = async (opts: {
  cognito: CognitoIdentityProviderClient;
  userPoolId: string;
  port?: number;
  log?: (line: string) => void;
}): Promise<OidcIssuerStandIn> => {
  const { cognito, userPoolId } = opts;
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = randomUUID();
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const requests = new Map<string, AuthorizationRequest>();
  const codes = new Map<string, IssuedCode>();
  let base = '';
  const issuer = () => `${base}/${userPoolId}`;

  const clientOf = async (clientId: string) => {
    try {
      const out = await cognito.send(new DescribeUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: clientId }));
      return out.UserPoolClient;
    } catch {
      return undefined;
    }
  };

  const discovery = () => ({
    issuer: issuer(),
    authorization_endpoint: `${base}/oauth2/authorize`,
    token_endpoint: `${base}/oauth2/token`,
    jwks_uri: `${issuer()}/.well-known/jwks.json`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'email', 'profile'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    code_challenge_methods_supported: ['S256'],
  });

  const authorize = async (url: URL, res: ServerResponse) => {
    const q = url.searchParams;
    const clientId = q.get('client_id') ?? '';
    const redirectUri = q.get('redirect_uri') ?? '';
    const client = await clientOf(clientId);
    // Never redirect to a URL the client did not register: answer here instead.
    if (!client || !(client.CallbackURLs ?? []).includes(redirectUri)) return send(res, 400, '<p>unknown client or redirect_uri</p>', 'text/html');
    const back = new URL(redirectUri);
    const state = q.get('state') ?? undefined;
    const fail = (error: string) => {
      back.searchParams.set('error', error);
      if (state) back.searchParams.set('state', state);
      send(res, 302, '', 'text/plain', { location: back.toString() });
    };
    if (q.get('response_type') !== 'code') return fail('unsupported_response_type');
    if (!(q.get('scope') ?? '').split(' ').includes('openid')) return fail('invalid_scope');
    const challenge = q.get('code_challenge') ?? undefined;
    if (challenge && q.get('code_challenge_method') !== 'S256') return fail('invalid_request');
    const id = randomBytes(16).toString('base64url');
    requests.set(id, {
      clientId, redirectUri, scope: q.get('scope')!, state, nonce: q.get('nonce') ?? undefined, codeChallenge: challenge, expiresAt: Date.now() + CODE_TTL_MS,
    });
    send(res, 200, loginPage(id), 'text/html; charset=utf-8');
  };

  const login = async (req: IncomingMessage, res: ServerResponse) => {
    const form = new URLSearchParams(await readText(req));
    const id = form.get('request') ?? '';
    const request = requests.get(id);
    if (!request || request.expiresAt < Date.now()) return send(res, 400, '<p>this sign-in expired: start again</p>', 'text/html');
    const username = form.get('username') ?? '';
    try {
      const auth = await cognito.send(new AdminInitiateAuthCommand({
        UserPoolId: userPoolId, ClientId: request.clientId, AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: username, PASSWORD: form.get('password') ?? '' },
      }));
      if (!auth.AuthenticationResult) throw new Error(`challenge ${auth.ChallengeName ?? 'unknown'}`);
    } catch {
      return send(res, 401, loginPage(id, 'Incorrect username or password.'), 'text/html; charset=utf-8');
    }
    const user = await cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: username }));
    const attr = (name: string) => user.UserAttributes?.find((a) => a.Name === name)?.Value;
    requests.delete(id);
    const code = randomBytes(32).toString('base64url');
    codes.set(code, { ...request, expiresAt: Date.now() + CODE_TTL_MS, user: { sub: attr('sub') ?? user.Username!, username: user.Username!, email: attr('email') } });
    const back = new URL(request.redirectUri);
    back.searchParams.set('code', code);
    if (request.state) back.searchParams.set('state', request.state);
    send(res, 302, '', 'text/plain', { location: back.toString() });
  };

  const token = async (req: IncomingMessage, res: ServerResponse) => {
    const form = new URLSearchParams(await readText(req));
    let clientId = form.get('client_id') ?? '';
    let secret = form.get('client_secret') ?? undefined;
    const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const [id, pass] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':').map((p) => decodeURIComponent(p.replace(/\+/g, ' ')));
      clientId = id ?? '';
      secret = pass;
    }
    const client = await clientOf(clientId);
    if (!client || (client.ClientSecret && client.ClientSecret !== secret)) return oauthError(res, 401, 'invalid_client', 'client authentication failed');
    if (form.get('grant_type') !== 'authorization_code') return oauthError(res, 400, 'unsupported_grant_type', 'authorization_code only');
    const code = form.get('code') ?? '';
    const issued = codes.get(code);
    codes.delete(code); // single use, whatever happens next
    if (!issued || issued.expiresAt < Date.now() || issued.clientId !== clientId || issued.redirectUri !== form.get('redirect_uri')) {
      return oauthError(res, 400, 'invalid_grant', 'unknown, used or expired code');
    }
    if (issued.codeChallenge) {
      const verifier = form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== issued.codeChallenge) return oauthError(res, 400, 'invalid_grant', 'code_verifier does not match');
    }
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: Record<string, unknown>, audience: string | undefined) => {
      const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).setIssuer(issuer()).setSubject(issued.user.sub).setIssuedAt(now).setExpirationTime(now + TOKEN_TTL_SECONDS);
      return (audience ? jwt.setAudience(audience) : jwt).sign(privateKey);
    };
    const idToken = await sign({
      token_use: 'id', auth_time: now, 'cognito:username': issued.user.username,
      ...(issued.user.email ? { email: issued.user.email, email_verified: true } : {}), ...(issued.nonce ? { nonce: issued.nonce } : {}),
    }, clientId);
    const accessToken = await sign({ token_use: 'access', client_id: clientId, scope: issued.scope, username: issued.user.username }, undefined);
    sendJson(res, 200, { id_token: idToken, access_token: accessToken, token_type: 'Bearer', expires_in: TOKEN_TTL_SECONDS });
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    const route = `${req.method} ${url.pathname}`;
    const done = (p: Promise<void> | void) =>
      Promise.resolve(p).catch((err: unknown) => {
        opts.log?.(`oidc issuer: ${route}: ${(err as Error).message}`);
        if (!res.headersSent) oauthError(res, 500, 'server_error', 'the issuer stand-in failed');
      });
    if (route === `GET /${userPoolId}/.well-known/openid-configuration`) return void sendJson(res, 200, discovery());
    if (route === `GET /${userPoolId}/.well-known/jwks.json`) return void sendJson(res, 200, { keys: [jwk] });
    if (route === 'GET /oauth2/authorize' || route === 'GET /login') return void done(authorize(url, res));
    if (route === 'POST /login') return void done(login(req, res));
    if (route === 'POST /oauth2/token') return void done(token(req, res));
    sendJson(res, 404, { error: 'not_found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer: issuer(),
    url: base,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
