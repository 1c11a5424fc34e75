import type { Input } from '@pulumi/pulumi';
import { TOKENS_ACTIONS } from './api.ts';
import type { NamedArn } from './adapter-access.ts';
import type { Cloud, DeclareFunction, PermissionSpec } from './cloud.ts';
import type { StackNames } from './names.ts';
import type { SecretResources } from './secrets.ts';

/**
 * The dashboard token function's Lambda handler, in SST's `<module>.<export>` form.
 *
 * @example
 * s.spec('DashboardToken').handler === DASHBOARD_TOKEN_HANDLER; // true
 */
export const DASHBOARD_TOKEN_HANDLER = 'infra/aws/functions/dashboard-token.handler';

/**
 * The environment of the dashboard token function (`infra/aws/functions/dashboard-token.ts`).
 *
 * @example
 * process.env[DashboardTokenEnv.parameter]; // '/shiplog/dashboard/api-token'
 */
export const DashboardTokenEnv = {
  tokensTable: 'SHIPLOG_TOKENS_TABLE',
  /** The SSM parameter (SecureString) the token is written to. */
  parameter: 'SHIPLOG_DASHBOARD_TOKEN_PARAM',
  /** The KMS key (alias) the parameter is encrypted under. */
  key: 'SHIPLOG_SECRETS_KEY',
} as const;

/** The name of the hosted dashboard's API token (`shiplog tokens ls`): `dashboard`, or `dashboard-next` every other deploy. */
export const DASHBOARD_TOKEN_NAME = 'dashboard';

/**
 * What the dashboard token function may do: make and revoke API tokens (the tokens table, as the
 * API does) and write — not read — the one parameter the token goes to, under the secrets key.
 *
 * @example
 * dashboardTokenAccess({ tokens, parameterArn, keyArn }); // [{ actions: [...TOKENS_ACTIONS], … }, { actions: ['ssm:PutParameter'], … }, …]
 */
export const dashboardTokenAccess = (input: { tokens: NamedArn; parameterArn: Input<string>; keyArn: Input<string> }): PermissionSpec[] => [
  { actions: [...TOKENS_ACTIONS], resources: [input.tokens.arn] },
  { actions: ['ssm:PutParameter'], resources: [input.parameterArn] },
  { actions: ['kms:Encrypt', 'kms:GenerateDataKey'], resources: [input.keyArn] },
];

/**
 * Declares the hosted dashboard's API token: a small function that makes a `dashboard` token
 * (the only kind the API lets name the signed-in user, `x-shiplog-actor`) with the access
 * service, writes it to the SecureString `parameter` under the stack's secrets key and revokes
 * the previous one, and an invocation of it on every deploy (`aws.lambda.Invocation`, triggered by
 * `deployedAt`), so the token rotates with the stage. The token is in no environment, no event,
 * no log and not in Pulumi's state: the invocation's result holds token ids only.
 *
 * @example
 * declareDashboardToken(cloud, { names, declareFunction, tokens: stack.api.tokens, secrets, parameter: '/shiplog/dashboard/api-token', deployedAt: new Date().toISOString() });
 */
export const declareDashboardToken = (
  cloud: Cloud,
  input: {
    names: StackNames;
    declareFunction: DeclareFunction;
    tokens: NamedArn;
    secrets: SecretResources;
    parameter: string;
    deployedAt: string;
  },
) => {
  const { aws, pulumi } = cloud;
  const { region, accountId } = input.secrets.scope;
  const parameterArn = pulumi.interpolate`arn:aws:ssm:${region}:${accountId}:parameter${input.parameter}`;
  const fn = input.declareFunction({
    name: 'DashboardToken',
    handler: DASHBOARD_TOKEN_HANDLER,
    description: "shiplog: makes the hosted dashboard's API token on each deploy (SSM SecureString) and revokes the previous one",
    environment: {
      [DashboardTokenEnv.tokensTable]: input.tokens.name,
      [DashboardTokenEnv.parameter]: input.parameter,
      [DashboardTokenEnv.key]: input.secrets.key.name,
    },
    links: [],
    permissions: dashboardTokenAccess({ tokens: input.tokens, parameterArn, keyArn: input.secrets.key.arn }),
    timeoutSeconds: 30,
  });
  const invocation = new aws.lambda.Invocation('DashboardTokenRotation', {
    functionName: fn.name,
    input: JSON.stringify({ rotate: DASHBOARD_TOKEN_NAME }),
    triggers: { deployedAt: input.deployedAt },
  });
  return { function: fn, invocation, parameterArn };
};
