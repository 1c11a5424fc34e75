import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Identity, SignInChecks } from './port.ts';

/**
 * A signed-in session as the cookie carries it. `sid` is random per sign-in and keys the CSRF
 * token, so a token from one session is worthless in another.
 *
 * @example
 * const s: Session = { sid: '…', user: { id: 'admin', name: 'admin', provider: 'local' }, iat: 1764…, exp: 1765… };
 */
export interface Session {
  sid: string;
  user: Identity;
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
}

export const SESSION_COOKIE = 'shiplog_session';
export const SESSION_TTL_SECONDS = 7 * 24 * 3600;

const mac = (key: Buffer, purpose: string, value: string): string => createHmac('sha256', key).update(`${purpose}\n${value}`).digest('base64url');

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

// A signed cookie value: `v1.<base64url JSON>.<hmac>`, the HMAC keyed by purpose.
const seal = (key: Buffer, purpose: string, value: object): string => {
  const payload = Buffer.from(JSON.stringify(value)).toString('base64url');
  return `v1.${payload}.${mac(key, purpose, payload)}`;
};

// What a sealed value carries, if its signature holds and its `exp` (seconds) has not passed.
const unseal = <T extends { exp: number }>(key: Buffer, purpose: string, value: string | undefined, nowMs: number): T | null => {
  if (!value) return null;
  const [version, payload, sig] = value.split('.');
  if (version !== 'v1' || !payload || !sig || !same(sig, mac(key, purpose, payload))) return null;
  try {
    const opened = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as T;
    return typeof opened.exp === 'number' && opened.exp * 1000 > nowMs ? opened : null;
  } catch {
    return null;
  }
};

/**
 * A new session for `user`, as the cookie value: `v1.<payload>.<hmac>`.
 *
 * @example
 * cookies().set(SESSION_COOKIE, issueSession(key, user), cookieOptions(secure));
 */
export const issueSession = (key: Buffer, user: Identity, nowMs = Date.now()): string => {
  const iat = Math.floor(nowMs / 1000);
  const session: Session = { sid: randomBytes(16).toString('base64url'), user, iat, exp: iat + SESSION_TTL_SECONDS };
  return seal(key, 'session', session);
};

/** The session a cookie value carries, if its signature holds and it has not expired. */
export const readSession = (key: Buffer, value: string | undefined, nowMs = Date.now()): Session | null => unseal<Session>(key, 'session', value, nowMs);

/** The CSRF token of a session: every mutation's form carries it. */
export const csrfToken = (key: Buffer, session: Session): string => mac(key, 'csrf', session.sid);

export const isValidCsrf = (key: Buffer, session: Session, token: unknown): boolean =>
  typeof token === 'string' && token.length > 0 && same(token, csrfToken(key, session));

/** httpOnly, SameSite=Lax, Secure behind https, for the whole dashboard. */
export const cookieOptions = (secure: boolean) => ({
  httpOnly: true,
  sameSite: 'lax' as const,
  secure,
  path: '/',
  maxAge: SESSION_TTL_SECONDS,
});

/** The cookie a redirect sign-in waits in, between leaving for the provider and coming back. */
export const SIGN_IN_COOKIE = 'shiplog_sign_in';
/** How long a redirect sign-in may take. */
export const SIGN_IN_TTL_SECONDS = 10 * 60;

/**
 * A redirect sign-in in progress: its checks and where to go afterwards.
 *
 * @example
 * { checks: { state: 'k3…', nonce: 'Qm…', codeVerifier: 'dB…' }, next: '/projects/web' }
 */
export interface PendingSignIn {
  checks: SignInChecks;
  next: string;
}

/**
 * A pending sign-in as the cookie carries it: `v1.<payload>.<hmac>`, expiring after
 * {@link SIGN_IN_TTL_SECONDS}. Signed so it cannot be made up, httpOnly so a page's script cannot read it.
 *
 * @example
 * cookies().set(SIGN_IN_COOKIE, sealSignIn(key, { checks, next: '/' }), signInCookieOptions(secure));
 */
export const sealSignIn = (key: Buffer, pending: PendingSignIn, nowMs = Date.now()): string =>
  seal(key, 'sign-in', { ...pending, exp: Math.floor(nowMs / 1000) + SIGN_IN_TTL_SECONDS });

/** The pending sign-in a cookie value carries, if its signature holds and it has not expired. */
export const openSignIn = (key: Buffer, value: string | undefined, nowMs = Date.now()): PendingSignIn | null => {
  const opened = unseal<PendingSignIn & { exp: number }>(key, 'sign-in', value, nowMs);
  return opened && { checks: opened.checks, next: opened.next };
};

/** httpOnly, SameSite=Lax (it must come back on the provider's top-level redirect), short-lived. */
export const signInCookieOptions = (secure: boolean) => ({ ...cookieOptions(secure), maxAge: SIGN_IN_TTL_SECONDS });
