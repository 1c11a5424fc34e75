import { readFileSync } from 'node:fs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { oidcAuth, type OidcClientConfig } from './oidc.ts';
import type { RedirectAuth } from './port.ts';

/**
 * The environment of the OIDC adapter (set by `infra/aws/dashboard.ts` on AWS). Secrets are never
 * values here: the client secret and the session key are read from SSM Parameter Store
 * (SecureString) or, off AWS, from a file.
 *
 * @example
 * process.env[OidcEnv.issuer]; // 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC'
 */
export const OidcEnv = {
  issuer: 'SHIPLOG_DASHBOARD_OIDC_ISSUER',
  /** The provider's name on the sign-in button; default `Cognito` for `cognito`, else the issuer's host. */
  name: 'SHIPLOG_DASHBOARD_OIDC_NAME',
  clientId: 'SHIPLOG_DASHBOARD_OIDC_CLIENT_ID',
  /** A file holding the client secret (none for a public client). */
  clientSecretFile: 'SHIPLOG_DASHBOARD_OIDC_CLIENT_SECRET_FILE',
  /** An SSM SecureString holding `{"clientId","clientSecret","redirectUri"}` (instead of the three above). */
  clientParam: 'SHIPLOG_DASHBOARD_OIDC_CLIENT_PARAM',
  /** The dashboard's public URL: the redirect URL is `<url>/sign-in/callback`. */
  url: 'SHIPLOG_DASHBOARD_URL',
  sessionKeyParam: 'SHIPLOG_DASHBOARD_SESSION_KEY_PARAM',
  sessionKeyFile: 'SHIPLOG_DASHBOARD_SESSION_KEY_FILE',
} as const;

/** The path of the callback route, under the dashboard's URL. */
export const CALLBACK_PATH = '/sign-in/callback';

const MIN_KEY_BYTES = 32;

const need = (env: NodeJS.ProcessEnv, name: string, kind: string): string => {
  const v = env[name]?.trim();
  if (!v) throw new Error(`SHIPLOG_DASHBOARD_AUTH=${kind} needs ${name}`);
  return v;
};

/**
 * The OIDC adapter from the environment, for `SHIPLOG_DASHBOARD_AUTH=cognito` or `oidc`.
 *
 * @example
 * const auth = oidcAuthFromEnv('cognito', process.env);
 */
export const oidcAuthFromEnv = (kind: string, env: NodeJS.ProcessEnv = process.env): RedirectAuth => {
  const issuer = need(env, OidcEnv.issuer, kind);
  let ssm: SSMClient | undefined;
  const parameter = async (name: string): Promise<string> => {
    ssm ??= new SSMClient({});
    const out = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    const value = out.Parameter?.Value;
    if (!value) throw new Error(`the parameter ${name} is empty`);
    return value;
  };
  const keyParam = env[OidcEnv.sessionKeyParam];
  const keyFile = env[OidcEnv.sessionKeyFile];
  if (!keyParam && !keyFile) throw new Error(`SHIPLOG_DASHBOARD_AUTH=${kind} needs ${OidcEnv.sessionKeyParam} (or ${OidcEnv.sessionKeyFile})`);
  let key: Promise<Buffer> | undefined;
  const sessionKey = () =>
    (key ??= (async () => {
      const k = Buffer.from(keyParam ? await parameter(keyParam) : readFileSync(keyFile!, 'utf8').trim(), 'utf8');
      if (k.length < MIN_KEY_BYTES) throw new Error(`the dashboard's session key must have at least ${MIN_KEY_BYTES} bytes`);
      return k;
    })().catch((err: unknown) => {
      key = undefined;
      throw err;
    }));
  const clientParam = env[OidcEnv.clientParam];
  const redirectFromUrl = (): string => `${need(env, OidcEnv.url, kind).replace(/\/+$/, '')}${CALLBACK_PATH}`;
  const client = async (): Promise<OidcClientConfig> => {
    if (clientParam) {
      const stored = JSON.parse(await parameter(clientParam)) as Partial<OidcClientConfig>;
      if (!stored.clientId) throw new Error(`the parameter ${clientParam} names no clientId`);
      return { clientId: stored.clientId, clientSecret: stored.clientSecret, redirectUri: stored.redirectUri ?? redirectFromUrl() };
    }
    const secretFile = env[OidcEnv.clientSecretFile];
    return {
      clientId: need(env, OidcEnv.clientId, kind),
      ...(secretFile ? { clientSecret: readFileSync(secretFile, 'utf8').trim() } : {}),
      redirectUri: redirectFromUrl(),
    };
  };
  const displayName = env[OidcEnv.name]?.trim() || (kind === 'cognito' ? 'Cognito' : new URL(issuer).host);
  return oidcAuth({ displayName, issuer, client, sessionKey });
};
