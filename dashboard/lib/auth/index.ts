import { cookies, headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { clientAddress, trustedProxies } from './client-address.ts';
import { localAuth } from './local.ts';
import { oidcAuthFromEnv } from './oidc-env.ts';
import type { AuthPort } from './port.ts';
import {
  cookieOptions, csrfToken, isValidCsrf, issueSession, openSignIn, readSession, sealSignIn, SESSION_COOKIE, SIGN_IN_COOKIE, signInCookieOptions, type Session,
} from './session.ts';

export type { AuthPort, Identity } from './port.ts';
export type { Session } from './session.ts';

const KEY = Symbol.for('shiplog.dashboard.auth');
type Holder = { [KEY]?: AuthPort };

/**
 * The auth adapter this deployment uses, chosen once from `SHIPLOG_DASHBOARD_AUTH`: `local`
 * (default; the admin of `shiplog dev`, files in `SHIPLOG_DASHBOARD_AUTH_DIR`), `cognito` or
 * `oidc` (the OIDC adapter, `oidc.ts`, configured by `SHIPLOG_DASHBOARD_OIDC_*`: `oidc-env.ts`).
 */
export const authPort = (): AuthPort => {
  const holder = globalThis as Holder;
  if (holder[KEY]) return holder[KEY];
  const kind = process.env.SHIPLOG_DASHBOARD_AUTH ?? 'local';
  if (kind === 'cognito' || kind === 'oidc') return (holder[KEY] = oidcAuthFromEnv(kind));
  if (kind !== 'local') throw new Error(`no dashboard auth adapter named "${kind}" (known: local, cognito, oidc)`);
  const dir = process.env.SHIPLOG_DASHBOARD_AUTH_DIR;
  if (!dir) throw new Error('the dashboard needs SHIPLOG_DASHBOARD_AUTH_DIR (set by shiplog dev)');
  return (holder[KEY] = localAuth(dir));
};

/** The signed-in session of this request, or null. */
export const currentSession = async (): Promise<Session | null> => {
  const value = (await cookies()).get(SESSION_COOKIE)?.value;
  return readSession(await authPort().sessionKey(), value);
};

/** The session of this request; otherwise off to the sign-in page. */
export const requireSession = async (returnTo = '/'): Promise<Session & { csrf: string }> => {
  const session = await currentSession();
  if (!session) redirect(`/sign-in?next=${encodeURIComponent(returnTo)}`);
  return { ...session, csrf: csrfToken(await authPort().sessionKey(), session) };
};

const isHttps = async (): Promise<boolean> => (await headers()).get('x-forwarded-proto') === 'https';

// Next refuses a server action whose Origin differs from its Host; checked again here so the
// rule holds whatever sits in front (and for the sign-in action, which has no session yet).
const isSameOrigin = async (): Promise<boolean> => {
  const h = await headers();
  const origin = h.get('origin');
  const host = h.get('x-forwarded-host') ?? h.get('host');
  if (!origin || !host) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
};

/** Thrown by `guard` when a mutation is not allowed; actions turn it into a message. */
export class ForbiddenError extends Error {
  override readonly name = 'ForbiddenError';
}

/**
 * What every mutation does first: a session, a same-origin request and the session's CSRF token
 * in the submitted form.
 *
 * @example
 * export async function setEnvVar(_: ActionState, form: FormData) { const session = await guard(form); … }
 */
export const guard = async (form: FormData): Promise<Session> => {
  const session = await currentSession();
  if (!session) throw new ForbiddenError('You are signed out. Sign in again to continue.');
  if (!(await isSameOrigin())) throw new ForbiddenError('This request did not come from the dashboard.');
  if (!isValidCsrf(await authPort().sessionKey(), session, form.get('csrf'))) throw new ForbiddenError('This form has expired. Reload the page and try again.');
  return session;
};

// Failed sign-ins per client, to slow down guessing: 10 per 5 minutes.
const failures = new Map<string, number[]>();
const WINDOW_MS = 5 * 60_000;
// Keyed on the socket's peer, passed by the mount in the header it names (a client's own is dropped).
const clientOf = async () => {
  const h = await headers();
  const peerHeader = process.env.SHIPLOG_DASHBOARD_PEER_HEADER;
  return clientAddress({ peer: peerHeader ? h.get(peerHeader) : null, forwardedFor: h.get('x-forwarded-for'), trustedProxies: trustedProxies() });
};

/**
 * Signs in with a username and password; sets the session cookie. Returns an error to show.
 *
 * @example
 * const error = await signInWithPassword(username, password); if (!error) redirect('/');
 */
export const signInWithPassword = async (username: string, password: string): Promise<string | null> => {
  const auth = authPort();
  if (auth.method !== 'password') return 'This dashboard signs in through its identity provider.';
  if (!(await isSameOrigin())) return 'This request did not come from the dashboard.';
  const client = await clientOf();
  const now = Date.now();
  const recent = (failures.get(client) ?? []).filter((t) => now - t < WINDOW_MS);
  if (recent.length >= 10) return 'Too many failed attempts. Wait a few minutes and try again.';
  const who = await auth.verifyPassword(username, password);
  if (!who) {
    failures.set(client, [...recent, now]);
    return 'That username and password do not match.';
  }
  failures.delete(client);
  (await cookies()).set(SESSION_COOKIE, issueSession(await auth.sessionKey(), who), cookieOptions(await isHttps()));
  return null;
};

/** Only a path of this dashboard: `/projects/web`, never `//evil.example` or a URL. */
const localPath = (next: string | null | undefined): string => (next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/');

/**
 * The first leg of a redirect sign-in: where to send the browser. What its return must match
 * (state, nonce, PKCE verifier) and where to go afterwards wait in a signed, httpOnly cookie.
 *
 * @example
 * redirect(await beginRedirectSignIn('/projects/web'));
 */
export const beginRedirectSignIn = async (next: string | null): Promise<string> => {
  const auth = authPort();
  if (auth.method !== 'redirect') return `/sign-in?next=${encodeURIComponent(localPath(next))}`;
  const { url, checks } = await auth.beginSignIn();
  (await cookies()).set(SIGN_IN_COOKIE, sealSignIn(await auth.sessionKey(), { checks, next: localPath(next) }), signInCookieOptions(await isHttps()));
  return url;
};

/**
 * The callback of a redirect sign-in: the query must come back to the browser that started it
 * (the cookie's state) and the adapter must vouch for the ID token; then the session cookie is
 * set. Returns where to send the browser: `next`, or the sign-in page with an error.
 *
 * @example
 * redirect(await completeRedirectSignIn(new URL(request.url).searchParams));
 */
export const completeRedirectSignIn = async (query: URLSearchParams): Promise<string> => {
  const auth = authPort();
  if (auth.method !== 'redirect') return '/sign-in';
  const jar = await cookies();
  const key = await auth.sessionKey();
  const pending = openSignIn(key, jar.get(SIGN_IN_COOKIE)?.value);
  jar.delete(SIGN_IN_COOKIE);
  if (!pending) return '/sign-in?error=expired';
  if (query.get('error')) return `/sign-in?error=denied&next=${encodeURIComponent(pending.next)}`;
  if (query.get('state') !== pending.checks.state) return '/sign-in?error=refused';
  const who = await auth.completeSignIn(query, pending.checks);
  if (!who) return '/sign-in?error=refused';
  jar.set(SESSION_COOKIE, issueSession(key, who), cookieOptions(await isHttps()));
  return pending.next;
};

export const signOut = async (): Promise<void> => {
  (await cookies()).delete(SESSION_COOKIE);
};
