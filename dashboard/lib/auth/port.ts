/**
 * Who is signed in. `provider` names the adapter that vouched for them.
 *
 * @example
 * const who: Identity = { id: 'admin', name: 'admin', provider: 'local' };
 */
export interface Identity {
  id: string;
  name: string;
  provider: string;
}

/**
 * Signing in with a username and a password the adapter checks (the local admin).
 *
 * @example
 * const who = await auth.verifyPassword('admin', password); // null when wrong
 */
export interface PasswordAuth {
  method: 'password';
  verifyPassword(username: string, password: string): Promise<Identity | null>;
  /** The key sessions (and CSRF tokens) are signed with; rotating it signs everyone out. */
  sessionKey(): Promise<Buffer>;
}

/**
 * Signing in at an identity provider (Cognito's hosted UI, any OIDC provider): the browser is
 * sent to `authorizationUrl` and comes back to `/sign-in/callback` with a code.
 *
 * @example
 * redirect(await auth.authorizationUrl(state, '/projects/web'));
 */
export interface RedirectAuth {
  method: 'redirect';
  /** Where to send the browser; `state` comes back unchanged and is checked against a cookie. */
  authorizationUrl(state: string): Promise<string>;
  /** Exchanges the callback's query for an identity; null when it is not valid. */
  completeSignIn(callback: URLSearchParams): Promise<Identity | null>;
  sessionKey(): Promise<Buffer>;
}

/**
 * The dashboard's auth port. Locally a single admin with a password (`local.ts`); a hosted
 * deployment plugs Cognito or an OIDC provider in as a `RedirectAuth`. Sessions are the
 * dashboard's own either way: an HMAC-signed, httpOnly, SameSite=Lax cookie (`session.ts`).
 *
 * @example
 * const auth = authPort(); if (auth.method === 'password') await auth.verifyPassword(u, p);
 */
export type AuthPort = PasswordAuth | RedirectAuth;
