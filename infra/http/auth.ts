import type { Context, MiddlewareHandler } from 'hono';
import type { Actor } from '../../events/index.ts';
import type { AccessCommands, TokenKind } from '../../services/access/index.ts';
import { json } from './json.ts';

/**
 * Who a verified credential is: an API token's name and kind.
 *
 * @example
 * { tokenId: '01J…', name: 'ci', kind: 'user' }
 */
export interface Principal {
  tokenId: string;
  name: string;
  kind: TokenKind;
}

/**
 * How the API checks requests. `verify` turns a bearer token into a principal (or nothing);
 * `hosts` lists the `Host` values the API answers (DNS rebinding): omit it where a front door
 * (API Gateway) already routes by host.
 *
 * @example
 * const guard: ApiGuard = { verify: tokenVerifier(access), hosts: servedHosts(3000, process.env) };
 */
export interface ApiGuard {
  verify(token: string): Promise<Principal | undefined>;
  hosts?: readonly string[] | undefined;
}

/**
 * A verifier from the access service's commands.
 *
 * @example
 * platformApi({ ...deps, guard: { verify: tokenVerifier(accessCommands(deps)) } });
 */
export const tokenVerifier = (access: Pick<AccessCommands, 'verify'>): ApiGuard['verify'] => async (token) => {
  const t = await access.verify(token);
  return t && { tokenId: t.tokenId, name: t.name, kind: t.kind };
};

/**
 * The `Host` values the local API answers: `localhost`, `127.0.0.1` and `[::1]` on its port,
 * plus `SHIPLOG_HOST` and the comma-separated `SHIPLOG_PUBLIC_HOSTS` (as given, and on its port).
 *
 * @example
 * servedHosts(3000, { SHIPLOG_PUBLIC_HOSTS: 'ship.example.com' });
 * // ['localhost:3000', '127.0.0.1:3000', '[::1]:3000', 'ship.example.com', 'ship.example.com:3000']
 */
export const servedHosts = (port: number, env: NodeJS.ProcessEnv = process.env): string[] => {
  const named = [env.SHIPLOG_HOST ?? '', ...(env.SHIPLOG_PUBLIC_HOSTS ?? '').split(',')]
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h && h !== '0.0.0.0' && h !== '::');
  const forms = (h: string): string[] => {
    if (/^\[.*\]:\d+$/.test(h) || /^[^:]+:\d+$/.test(h)) return [h];
    const name = h.includes(':') && !h.startsWith('[') ? `[${h}]` : h;
    return [name, `${name}:${port}`];
  };
  return [...new Set(['localhost', '127.0.0.1', '[::1]'].map((h) => `${h}:${port}`).concat(named.flatMap(forms)))];
};

// The principal of each request, set by the guard and read by `actorOf` (keyed by Hono's request object).
const principals = new WeakMap<object, Principal>();

/**
 * The principal the guard verified for a request (`c.req`), if any.
 *
 * @example
 * principalOf(c.req)?.name; // 'admin'
 */
export const principalOf = (req: object): Principal | undefined => principals.get(req);

// `oidc:<sub>` from any provider: Cognito's subs are UUIDs, Auth0's `google-oauth2|1234…`.
const ACTOR_ID = /^[\w.@:|-]{1,128}$/;

/**
 * The actor of an authenticated request: `token:<name>`; only a `dashboard` token may name the
 * signed-in user it acts for in `x-shiplog-actor`.
 *
 * @example
 * actorOfPrincipal({ tokenId: 't', name: 'ci', kind: 'user' }, c.req); // { kind: 'user', id: 'token:ci' }
 */
export const actorOfPrincipal = (p: Principal, req: { header(name: string): string | undefined }): Actor => {
  if (p.kind === 'dashboard') {
    const named = req.header('x-shiplog-actor')?.trim() ?? '';
    if (ACTOR_ID.test(named) && !named.startsWith('token:')) return { kind: 'user', id: named };
  }
  return { kind: 'user', id: `token:${p.name}` };
};

// The host of an Origin header; undefined for `null` or anything unparsable.
const hostOfOrigin = (origin: string): string | undefined => {
  try {
    return new URL(origin).host.toLowerCase() || undefined;
  } catch {
    return undefined;
  }
};

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const unauthorized = (c: Context, message: string, presented: boolean): Response => {
  c.header('www-authenticate', presented ? 'Bearer realm="shiplog", error="invalid_token"' : 'Bearer realm="shiplog"');
  return json(c, 401, { error: message });
};

const hasBody = (c: Context): boolean =>
  Number(c.req.header('content-length') ?? 0) > 0 || c.req.header('transfer-encoding') !== undefined;

const isJson = (contentType: string | undefined): boolean => (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';

/**
 * Refuses a request whose `Host` the API does not serve: 421 (a DNS-rebinding page names
 * another host). Without `hosts`, every host passes.
 *
 * @example
 * app.use('*', hostCheck(['localhost:3000', '127.0.0.1:3000']));
 */
export const hostCheck = (hosts: readonly string[] | undefined): MiddlewareHandler => {
  const allowed = hosts && new Set(hosts.map((h) => h.toLowerCase()));
  return async (c, next) => {
    if (allowed && !allowed.has((c.req.header('host') ?? '').toLowerCase())) {
      return json(c, 421, { error: `this API does not serve the host "${(c.req.header('host') ?? '').slice(0, 100)}"` });
    }
    await next();
  };
};

/**
 * What every `/api/*` request passes: a bearer token the guard verifies (401 with
 * `WWW-Authenticate: Bearer` otherwise); and for a write (`POST`/`PUT`/`PATCH`/`DELETE`), no
 * foreign `Origin` (403) and a JSON body (415; a `DELETE` may have none).
 *
 * @example
 * app.use('/api/*', requireToken(guard.verify));
 */
export const requireToken = (verify: ApiGuard['verify']): MiddlewareHandler => async (c, next) => {
  const header = c.req.header('authorization');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return unauthorized(c, 'this API needs a token: send Authorization: Bearer <token> (shiplog tokens create)', false);
  const principal = await verify(m[1]!);
  if (!principal) return unauthorized(c, 'this token is not valid (unknown or revoked)', true);
  if (WRITES.has(c.req.method)) {
    const origin = c.req.header('origin');
    if (origin !== undefined) {
      if (hostOfOrigin(origin) !== (c.req.header('host') ?? '').toLowerCase()) return json(c, 403, { error: 'cross-origin writes are refused' });
    }
    if ((c.req.method !== 'DELETE' || hasBody(c)) && !isJson(c.req.header('content-type'))) {
      return json(c, 415, { error: 'send the body as application/json' });
    }
  }
  principals.set(c.req, principal);
  await next();
};
