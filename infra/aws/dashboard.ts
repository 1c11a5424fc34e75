import type { Input } from '@pulumi/pulumi';
import type { PermissionSpec } from './cloud.ts';
import type { StackNames } from './names.ts';

/**
 * The environment the dashboard's server side reads (`dashboard/lib/server/context.ts` and
 * `dashboard/lib/auth/index.ts`): the same names `shiplog dev` sets locally.
 *
 * @example
 * process.env[DashboardEnv.viewsTable]; // 'shiplog-views'
 */
export const DashboardEnv = {
  auth: 'SHIPLOG_DASHBOARD_AUTH',
  apiUrl: 'SHIPLOG_DASHBOARD_API_URL',
  eventsTable: 'SHIPLOG_DASHBOARD_EVENTS_TABLE',
  viewsTable: 'SHIPLOG_DASHBOARD_VIEWS_TABLE',
  productionUrl: 'SHIPLOG_DASHBOARD_PRODUCTION_URL',
  deploymentUrl: 'SHIPLOG_DASHBOARD_DEPLOYMENT_URL',
  // the OIDC adapter (dashboard/lib/auth/oidc-env.ts)
  oidcIssuer: 'SHIPLOG_DASHBOARD_OIDC_ISSUER',
  oidcName: 'SHIPLOG_DASHBOARD_OIDC_NAME',
  oidcClientParam: 'SHIPLOG_DASHBOARD_OIDC_CLIENT_PARAM',
  sessionKeyParam: 'SHIPLOG_DASHBOARD_SESSION_KEY_PARAM',
  /** The SSM parameter (SecureString) holding its `dashboard` API token, on AWS (`SHIPLOG_DASHBOARD_API_TOKEN` locally). */
  apiTokenParam: 'SHIPLOG_DASHBOARD_API_TOKEN_PARAM',
} as const;

/**
 * How a hosted dashboard signs users in: the OIDC issuer, the name on its button, and the SSM
 * parameters (SecureString, under `key`) holding its app client and its session key, which it
 * may read and decrypt and nothing else.
 *
 * @example
 * { issuer: pool.issuer, displayName: 'Cognito', clientParam: '/shiplog/dashboard/oidc-client',
 *   sessionKeyParam: '/shiplog/dashboard/session-key', keyArn: secrets.key.arn }
 */
export interface DashboardSignIn {
  issuer: Input<string>;
  displayName?: string;
  clientParam: string;
  sessionKeyParam: string;
  keyArn: Input<string>;
}

/**
 * What the dashboard is declared from. URL templates take `{project}` and `{deployment}`.
 *
 * @example
 * { names, apiUrl: api.url, auth: 'cognito',
 *   productionUrl: 'https://{project}.apps.example.com', deploymentUrl: 'https://{deployment}-{project}.apps.example.com' }
 */
export interface DashboardInput {
  names: StackNames;
  /** The read models' table (the projections); default `<prefix>-views`. */
  viewsTable?: string;
  /** The platform API that takes the dashboard's commands. */
  apiUrl: Input<string>;
  productionUrl: Input<string>;
  deploymentUrl: Input<string>;
  /** The auth adapter (`dashboard/lib/auth`); a hosted dashboard needs a provider, not `local`. */
  auth: string;
  /** Its sign-in (`cognito`, `oidc`); without it the dashboard cannot sign anyone in. */
  signIn?: DashboardSignIn;
  /** A custom domain for the dashboard, if any. */
  domain?: string;
  /** The SSM parameter (SecureString, under `keyArn`) its `dashboard` API token is kept in. */
  apiToken?: { param: string; keyArn: Input<string> };
}

/**
 * Everything `sst.aws.Nextjs` needs to serve the dashboard: the app's path, its environment and
 * read-only access to the event store (explorer, time travel) and the read models. It gets no
 * write permission on either: every change is a command to the API.
 *
 * @example
 * // sst.config.ts, inside run()
 * const spec = dashboardSpec({ names, apiUrl, productionUrl, deploymentUrl, auth: 'cognito' });
 * new sst.aws.Nextjs(spec.name, { path: spec.path, environment: spec.environment, permissions: spec.permissions, ...(spec.domain ? { domain: spec.domain } : {}) });
 */
export interface DashboardSpec {
  name: string;
  path: string;
  environment: Record<string, Input<string>>;
  permissions: PermissionSpec[];
  domain?: string;
}

/** The DynamoDB reads the dashboard makes: items and queries, on the tables and their indexes. */
export const DASHBOARD_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'] as const;

const tableArns = (table: string): string[] => [`arn:aws:dynamodb:*:*:table/${table}`, `arn:aws:dynamodb:*:*:table/${table}/index/*`];

const signInEnvironment = (s: DashboardSignIn): Record<string, Input<string>> => ({
  [DashboardEnv.oidcIssuer]: s.issuer,
  ...(s.displayName ? { [DashboardEnv.oidcName]: s.displayName } : {}),
  [DashboardEnv.oidcClientParam]: s.clientParam,
  [DashboardEnv.sessionKeyParam]: s.sessionKeyParam,
});

// The parameters it reads by name (its app client, session key and API token) and their key.
const parameterAccess = (input: DashboardInput): PermissionSpec[] => {
  const params = [...(input.signIn ? [input.signIn.clientParam, input.signIn.sessionKeyParam] : []), ...(input.apiToken ? [input.apiToken.param] : [])];
  const keys = [...new Set([input.signIn?.keyArn, input.apiToken?.keyArn].filter((k) => k !== undefined))];
  if (params.length === 0) return [];
  return [
    { actions: ['ssm:GetParameter'], resources: params.map((p) => `arn:aws:ssm:*:*:parameter${p}`) },
    { actions: ['kms:Decrypt'], resources: keys },
  ];
};

export const dashboardSpec = (input: DashboardInput): DashboardSpec => {
  if (input.auth === 'local') throw new Error('a hosted dashboard needs an identity provider adapter, not the local admin');
  const viewsTable = input.viewsTable ?? `${input.names.prefix}-views`;
  return {
    name: 'Dashboard',
    path: 'dashboard',
    environment: {
      [DashboardEnv.auth]: input.auth,
      [DashboardEnv.apiUrl]: input.apiUrl,
      [DashboardEnv.eventsTable]: input.names.eventsTable,
      [DashboardEnv.viewsTable]: viewsTable,
      [DashboardEnv.productionUrl]: input.productionUrl,
      [DashboardEnv.deploymentUrl]: input.deploymentUrl,
      ...(input.signIn ? signInEnvironment(input.signIn) : {}),
      ...(input.apiToken ? { [DashboardEnv.apiTokenParam]: input.apiToken.param } : {}),
    },
    permissions: [
      { actions: [...DASHBOARD_READ_ACTIONS], resources: [...tableArns(input.names.eventsTable), ...tableArns(viewsTable)] },
      ...parameterAccess(input),
    ],
    ...(input.domain ? { domain: input.domain } : {}),
  };
};
