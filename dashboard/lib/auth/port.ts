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
 * What a redirect sign-in must find again when the browser comes back: the `state` echoed by the
 * provider, the `nonce` its ID token must carry and the PKCE code verifier. Kept in a signed,
 * httpOnly cookie (`session.ts`) between the two legs.
 *
 * @example
 * const checks: SignInChecks = { state: 'k3…', nonce: 'Qm…', codeVerifier: 'dBjftJeZ4CVP…' };
 */
export interface SignInChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/**
 * Signing in at an identity provider (Cognito's hosted UI, any OIDC provider): the browser is
 * sent to `url` and comes back to `/sign-in/callback` with a code, which is exchanged for an ID
 * token the adapter verifies (signature, issuer, audience, expiry, nonce) against `checks`.
 *
 * @example
 * const { url, checks } = await auth.beginSignIn(); // keep checks in a cookie, redirect(url)
 * const who = await auth.completeSignIn(searchParams, checks); // null when it is not valid
 */
export interface RedirectAuth {
  method: 'redirect';
  /** The provider's name on the sign-in button ("Sign in with Cognito"). */
  displayName: string;
  /** Where to send the browser, and what its return must match. */
  beginSignIn(): Promise<{ url: string; checks: SignInChecks }>;
  /** Exchanges the callback's query for an identity; null when it is not valid (wrong state, forged or expired token, refused code). */
  completeSignIn(callback: URLSearchParams, checks: SignInChecks): Promise<Identity | null>;
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
