import { errors, generators, Issuer, type BaseClient } from 'openid-client';
import type { Identity, RedirectAuth, SignInChecks } from './port.ts';

/**
 * What the OIDC adapter is made from. `clientSecret` is absent for a public client (PKCE only).
 *
 * @example
 * { displayName: 'Cognito', issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC',
 *   client: async () => ({ clientId: '4f…', clientSecret: '…', redirectUri: 'https://dash.example.com/sign-in/callback' }),
 *   sessionKey: async () => key }
 */
export interface OidcConfig {
  displayName: string;
  /** The issuer URL; its `/.well-known/openid-configuration` is read once. */
  issuer: string;
  /** The app client, read once (it may come from the secret store). */
  client: () => Promise<OidcClientConfig>;
  sessionKey: () => Promise<Buffer>;
  /** Default `openid email profile`. */
  scope?: string;
}

export interface OidcClientConfig {
  clientId: string;
  clientSecret?: string | undefined;
  /** `<dashboard>/sign-in/callback`, as registered with the provider. */
  redirectUri: string;
}

/** The name shown for a signed-in user: email, then the provider's user name, then `sub`. */
const nameOf = (claims: Record<string, unknown>): string => {
  for (const k of ['email', 'preferred_username', 'cognito:username', 'name']) {
    const v = claims[k];
    if (typeof v === 'string' && v) return v;
  }
  return String(claims.sub);
};

/**
 * The OIDC adapter (Cognito's hosted UI or any OpenID Connect provider), on `openid-client`:
 * discovery, the authorization code flow with PKCE (S256), `state` and `nonce`; the library
 * checks the state, exchanges the code and verifies the ID token (signature from the issuer's
 * JWKS, `iss`, `aud`, `exp`, `nonce`). The identity is the token's `sub`, with provider `oidc`,
 * so the API records `oidc:<sub>` as the actor of what the user does.
 *
 * @example
 * const auth = oidcAuth({ displayName: 'Cognito', issuer, client: async () => ({ clientId, clientSecret, redirectUri }), sessionKey });
 */
export const oidcAuth = (config: OidcConfig): RedirectAuth => {
  let made: Promise<{ client: BaseClient; redirectUri: string }> | undefined;
  const client = () =>
    (made ??= (async () => {
      const [issuer, app] = await Promise.all([Issuer.discover(config.issuer), config.client()]);
      const c = new issuer.Client({
        client_id: app.clientId,
        ...(app.clientSecret ? { client_secret: app.clientSecret, token_endpoint_auth_method: 'client_secret_basic' } : { token_endpoint_auth_method: 'none' }),
        redirect_uris: [app.redirectUri],
        response_types: ['code'],
      });
      return { client: c, redirectUri: app.redirectUri };
    })().catch((err: unknown) => {
      made = undefined; // a provider that did not answer is asked again next time
      throw err;
    }));
  return {
    method: 'redirect',
    displayName: config.displayName,
    beginSignIn: async () => {
      const { client: c } = await client();
      const checks: SignInChecks = { state: generators.state(), nonce: generators.nonce(), codeVerifier: generators.codeVerifier() };
      const url = c.authorizationUrl({
        scope: config.scope ?? 'openid email profile',
        state: checks.state,
        nonce: checks.nonce,
        code_challenge: generators.codeChallenge(checks.codeVerifier),
        code_challenge_method: 'S256',
      });
      return { url, checks };
    },
    completeSignIn: async (callback, checks): Promise<Identity | null> => {
      const { client: c, redirectUri } = await client();
      const params = Object.fromEntries(callback.entries());
      try {
        const tokens = await c.callback(redirectUri, params, { state: checks.state, nonce: checks.nonce, code_verifier: checks.codeVerifier, response_type: 'code' });
        const claims = tokens.claims();
        return { id: claims.sub, name: nameOf(claims), provider: 'oidc' };
      } catch (err) {
        // The provider's refusal (OPError) or a check that failed (RPError): not signed in.
        if (err instanceof errors.OPError || err instanceof errors.RPError) return null;
        throw err;
      }
    },
    sessionKey: config.sessionKey,
  };
};
