import type { Input, Output } from '@pulumi/pulumi';
import type { NamedArn } from './adapter-access.ts';
import type { AccountScope, Cloud, DeclareFunction } from './cloud.ts';
import { DashboardEnv, dashboardSpec, type DashboardSignIn, type DashboardSpec } from './dashboard.ts';
import { declareDashboardToken } from './dashboard-token.ts';
import type { StackNames } from './names.ts';
import type { SecretResources } from './secrets.ts';
import { CALLBACK_PATH, dashboardParameters, declareDashboardClient, declareSessionKey, declareUserPool } from './sign-in.ts';

/**
 * The deploy-time setting of the dashboard's custom domain, if any.
 *
 * @example
 * process.env[DASHBOARD_DOMAIN_ENV] = 'dash.example.com';
 */
export const DASHBOARD_DOMAIN_ENV = 'SHIPLOG_DASHBOARD_DOMAIN';

/**
 * The deploy-time settings of a dashboard that signs in at another OIDC provider
 * (`SHIPLOG_DASHBOARD_AUTH=oidc`): its issuer and the dashboard's client there. The secret goes
 * to an SSM SecureString, never to the function's environment.
 *
 * @example
 * // SHIPLOG_DASHBOARD_AUTH=oidc SHIPLOG_DASHBOARD_OIDC_ISSUER=https://acme.okta.com SHIPLOG_DASHBOARD_OIDC_CLIENT_ID=0oa… SHIPLOG_DASHBOARD_OIDC_CLIENT_SECRET=… sst deploy
 */
export const OIDC_DEPLOY_ENV = {
  issuer: 'SHIPLOG_DASHBOARD_OIDC_ISSUER',
  name: 'SHIPLOG_DASHBOARD_OIDC_NAME',
  clientId: 'SHIPLOG_DASHBOARD_OIDC_CLIENT_ID',
  clientSecret: 'SHIPLOG_DASHBOARD_OIDC_CLIENT_SECRET',
} as const;

/** The sign-in adapters a hosted dashboard can use. */
export const HOSTED_AUTH = ['cognito', 'oidc'] as const;

/**
 * The sign-in of a stage's dashboard: `SHIPLOG_DASHBOARD_AUTH` if set, Cognito otherwise;
 * `none` declares no dashboard.
 *
 * @example
 * hostedAuth({}); // 'cognito'
 * hostedAuth({ SHIPLOG_DASHBOARD_AUTH: 'none' }); // undefined
 */
export const hostedAuth = (env: Record<string, string | undefined>): string | undefined => {
  const auth = env[DashboardEnv.auth]?.trim() || 'cognito';
  if (auth === 'none') return undefined;
  if (!(HOSTED_AUTH as readonly string[]).includes(auth)) {
    throw new Error(`${DashboardEnv.auth}=${auth}: a hosted dashboard needs an identity provider adapter (${HOSTED_AUTH.join(' or ')}), not the local admin; none declares no dashboard`);
  }
  return auth;
};

/**
 * What the hosted dashboard is declared from: the stage, the environment of `sst deploy`, the
 * stack's platform API and secrets key, and how to declare the Next.js app (SST's `sst.aws.Nextjs`
 * in `sst.config.ts`; a stand-in under test), which hands back its URL.
 *
 * @example
 * { names, scope, env: process.env, siteDomain, protect, apiUrl: stack.api.url, secrets: stack.secrets.resources,
 *   tokens: stack.api.tokens, declareFunction, deployedAt: new Date().toISOString(),
 *   declareNextjs: (spec) => new sst.aws.Nextjs(spec.name, { path: spec.path, environment: spec.environment, permissions: spec.permissions }) }
 */
export interface HostedDashboardInput {
  names: StackNames;
  scope: AccountScope;
  env: Record<string, string | undefined>;
  siteDomain: string;
  protect: boolean;
  /** The stack's platform API; `SHIPLOG_DASHBOARD_API_URL` overrides it. */
  apiUrl: Input<string>;
  secrets: SecretResources;
  /** The API's tokens table: the dashboard's own token is made in it on each deploy. */
  tokens: NamedArn;
  /** Declares the function that makes that token (`dashboard-token.ts`). */
  declareFunction: DeclareFunction;
  /** When this deploy runs (the token rotates on each). */
  deployedAt: string;
  declareNextjs: (spec: DashboardSpec) => { url: Output<string> };
}

/**
 * The dashboard every stage hosts on AWS, signing in as `SHIPLOG_DASHBOARD_AUTH` says at deploy
 * time (`hostedAuth`): `cognito` (the default) declares a user pool, its hosted UI domain and the
 * dashboard's app client (`sign-in.ts`); `oidc` signs in at the provider
 * `SHIPLOG_DASHBOARD_OIDC_ISSUER` names with the client given in
 * `SHIPLOG_DASHBOARD_OIDC_CLIENT_ID`/`_SECRET`; `none` declares no dashboard. The app client, a
 * generated session key and the dashboard's own `dashboard` API token (made and rotated on each
 * deploy: `dashboard-token.ts`) wait in SSM SecureStrings the dashboard alone reads, and the
 * client's redirect URL is the dashboard's own (its custom domain, else the URL SST gives it). The
 * dashboard reads the event store and the views table, writes neither, and sends commands to the
 * platform API (the stack's unless `SHIPLOG_DASHBOARD_API_URL` names another) with its token, naming
 * the signed-in user (`x-shiplog-actor: oidc:<sub>`). Sites are linked as
 * `https://<project>.<siteDomain>` and `https://<deployment>-<project>.<siteDomain>`.
 *
 * @example
 * // sst deploy (Cognito), or SHIPLOG_DASHBOARD_AUTH=oidc SHIPLOG_DASHBOARD_OIDC_ISSUER=… sst deploy
 * const hosted = declareHostedDashboard({ aws, pulumi: $util }, { names, scope, env: process.env, siteDomain, protect, apiUrl, secrets, tokens, declareFunction, deployedAt, declareNextjs });
 * hosted?.nextjs.url;
 */
export const declareHostedDashboard = (cloud: Cloud, input: HostedDashboardInput) => {
  const { pulumi } = cloud;
  const { env, names } = input;
  const auth = hostedAuth(env);
  if (!auth) return undefined;
  const oidc = auth === 'oidc' ? oidcSettings(env) : undefined;
  const pool = auth === 'cognito' ? declareUserPool(cloud, { names, scope: input.scope, protect: input.protect }) : undefined;
  const parameters = dashboardParameters(names.prefix);
  const sessionKey = declareSessionKey(cloud, { names, secrets: input.secrets });
  const apiToken = declareDashboardToken(cloud, {
    names, declareFunction: input.declareFunction, tokens: input.tokens, secrets: input.secrets, parameter: parameters.apiToken, deployedAt: input.deployedAt,
  });
  const displayName = env[OIDC_DEPLOY_ENV.name] ?? (auth === 'cognito' ? 'Cognito' : undefined);
  const signIn: DashboardSignIn = {
    issuer: pool ? pool.issuer : oidc!.issuer,
    ...(displayName ? { displayName } : {}),
    clientParam: parameters.client,
    sessionKeyParam: parameters.sessionKey,
    keyArn: input.secrets.key.arn,
  };
  const domain = env[DASHBOARD_DOMAIN_ENV];
  const spec = dashboardSpec({
    names,
    viewsTable: names.viewsTable,
    auth,
    apiUrl: env[DashboardEnv.apiUrl] ?? input.apiUrl,
    productionUrl: `https://{project}.${input.siteDomain}`,
    deploymentUrl: `https://{deployment}-{project}.${input.siteDomain}`,
    signIn,
    apiToken: { param: parameters.apiToken, keyArn: input.secrets.key.arn },
    ...(domain ? { domain } : {}),
  });
  const nextjs = input.declareNextjs(spec);
  const url = domain ? pulumi.output(`https://${domain}`) : nextjs.url.apply((u) => u.replace(/\/+$/, ''));
  const redirectUri = pulumi.interpolate`${url}${CALLBACK_PATH}`;
  const client = declareDashboardClient(cloud, {
    names, secrets: input.secrets, redirectUri, logoutUrl: url,
    ...(pool ? { cognito: { userPoolId: pool.userPool.id } } : { oidc: { clientId: oidc!.clientId, ...(oidc!.clientSecret ? { clientSecret: oidc!.clientSecret } : {}) } }),
  });
  return { spec, nextjs, pool, sessionKey, apiToken, client, redirectUri };
};

const oidcSettings = (env: Record<string, string | undefined>) => {
  const need = (name: string) => {
    const v = env[name];
    if (!v) throw new Error(`${DashboardEnv.auth}=oidc needs ${name} (the provider's issuer and the dashboard's client there)`);
    return v;
  };
  return { issuer: need(OIDC_DEPLOY_ENV.issuer), clientId: need(OIDC_DEPLOY_ENV.clientId), clientSecret: env[OIDC_DEPLOY_ENV.clientSecret] };
};

/**
 * The dashboard spec alone, for a stage that only wants to know what would be declared (the
 * parameters by name, no resources): undefined with `SHIPLOG_DASHBOARD_AUTH=none`. The platform
 * API is `apiUrl` unless `SHIPLOG_DASHBOARD_API_URL` names one; with neither it throws.
 *
 * @example
 * hostedDashboardSpec({}, { names, siteDomain, apiUrl: 'https://api.example.com', keyArn })?.environment;
 */
export const hostedDashboardSpec = (
  env: Record<string, string | undefined>,
  input: { names: StackNames; siteDomain: string; apiUrl?: string; keyArn?: string; signIn?: DashboardSignIn },
): DashboardSpec | undefined => {
  const auth = hostedAuth(env);
  if (!auth) return undefined;
  const apiUrl = env[DashboardEnv.apiUrl] ?? input.apiUrl;
  if (!apiUrl) throw new Error(`a hosted dashboard sends commands to a platform API: set ${DashboardEnv.apiUrl}, or ${DashboardEnv.auth}=none for no dashboard`);
  const domain = env[DASHBOARD_DOMAIN_ENV];
  return dashboardSpec({
    names: input.names,
    viewsTable: input.names.viewsTable,
    auth,
    apiUrl,
    productionUrl: `https://{project}.${input.siteDomain}`,
    deploymentUrl: `https://{deployment}-{project}.${input.siteDomain}`,
    ...(input.signIn ? { signIn: input.signIn } : {}),
    ...(input.keyArn ? { apiToken: { param: dashboardParameters(input.names.prefix).apiToken, keyArn: input.keyArn } } : {}),
    ...(domain ? { domain } : {}),
  });
};
