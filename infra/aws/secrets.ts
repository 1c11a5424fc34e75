import { pkSkTableDefinition } from '../../events/store/index.ts';
import type { NamedArn } from './adapter-access.ts';
import type { AccountScope, Cloud, PermissionSpec } from './cloud.ts';
import { tableArgsFrom } from './event-store.ts';
import { FunctionEnv } from './names.ts';
import type { FunctionNeeds } from './subscription.ts';

/**
 * The stack's secret store (`awsSecretStore`, services/ingest): env var values, project
 * credentials and subscription signing secrets as SSM `SecureString` parameters under
 * `/<prefix>/…`, encrypted with the stack's own KMS key; the current-version pointers (names and
 * versions, never values) in a table.
 *
 * @example
 * const secrets: SecretResources = { prefix: 'shiplog', scope, key: { name: alias.name, arn: key.arn }, table: { name, arn } };
 */
export interface SecretResources {
  prefix: string;
  scope: AccountScope;
  /** The KMS key: `name` is its alias (`alias/<prefix>-secrets`), what `PutParameter` takes as `KeyId`. */
  key: NamedArn;
  table: NamedArn;
}

/**
 * The secrets' parameter paths under the stack's prefix: env vars (what CodeBuild reads), project
 * credentials, subscription signing secrets.
 *
 * @example
 * SECRET_PATHS.subscription; // 'subscription'
 */
export const SECRET_PATHS = { env: 'env', project: 'project', subscription: 'subscription' } as const;

/**
 * Declares the secret store: a KMS key with yearly rotation (its default key policy lets IAM
 * policies of the account decide who uses it), its alias, and the pointers table.
 *
 * @example
 * const secrets = declareSecrets(cloud, { names, scope });
 * secrets.resources.key.name; // alias/shiplog-secrets
 */
export const declareSecrets = (cloud: Cloud, input: { prefix: string; tableName: string; scope: AccountScope }) => {
  const { aws } = cloud;
  const key = new aws.kms.Key('Secrets', {
    description: `${input.prefix}: env vars, project credentials and signing secrets in SSM Parameter Store`,
    enableKeyRotation: true,
    deletionWindowInDays: 30,
  });
  const alias = new aws.kms.Alias('SecretsAlias', { name: `alias/${input.prefix}-secrets`, targetKeyId: key.keyId });
  const table = new aws.dynamodb.Table('Secrets', { ...tableArgsFrom(pkSkTableDefinition(input.tableName)), pointInTimeRecovery: { enabled: true } });
  const resources: SecretResources = {
    prefix: input.prefix,
    scope: input.scope,
    key: { name: alias.name, arn: key.arn },
    table: { name: table.name, arn: table.arn },
  };
  return { key, alias, table, resources };
};

const parameters = (cloud: Cloud, s: SecretResources, path: string) =>
  cloud.pulumi.interpolate`arn:aws:ssm:${s.scope.region}:${s.scope.accountId}:parameter/${s.prefix}/${path}/*`;

/**
 * Writing and reading every secret: the platform API (env vars, credentials, signing secrets).
 * KMS use only through SSM, for the stack's key.
 *
 * @example
 * secretsWrite(cloud, secrets); // [{ actions: ['ssm:PutParameter', 'ssm:GetParameter'], … }, { actions: ['kms:Encrypt', …] }, …]
 */
export const secretsWrite = (cloud: Cloud, s: SecretResources): PermissionSpec[] => [
  { actions: ['ssm:PutParameter', 'ssm:GetParameter'], resources: Object.values(SECRET_PATHS).map((p) => parameters(cloud, s, p)) },
  {
    actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
    resources: [s.key.arn],
    conditions: [{ test: 'StringEquals', variable: 'kms:ViaService', values: [cloud.pulumi.interpolate`ssm.${s.scope.region}.amazonaws.com`] }],
  },
  { actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], resources: [s.table.arn] },
];

/**
 * Reading one kind of secret (`SECRET_PATHS`): e.g. the webhook sender reads signing secrets only.
 *
 * @example
 * secretsRead(cloud, secrets, 'subscription');
 */
export const secretsRead = (cloud: Cloud, s: SecretResources, path: keyof typeof SECRET_PATHS): PermissionSpec[] => [
  { actions: ['ssm:GetParameter'], resources: [parameters(cloud, s, SECRET_PATHS[path])] },
  {
    actions: ['kms:Decrypt'],
    resources: [s.key.arn],
    conditions: [{ test: 'StringEquals', variable: 'kms:ViaService', values: [cloud.pulumi.interpolate`ssm.${s.scope.region}.amazonaws.com`] }],
  },
  { actions: ['dynamodb:GetItem', 'dynamodb:Query'], resources: [s.table.arn] },
];

/**
 * Reading the stage's env var parameters by name (`GetParameters`, as CodeBuild's
 * `PARAMETER_STORE` variables and the site functions' env entry do), decrypted through SSM only
 * and only for those parameters (`kms:EncryptionContext:PARAMETER_ARN`), whichever key they are under.
 *
 * @example
 * envParametersRead(cloud, { prefix: 'shiplog', scope }); // [{ actions: ['ssm:GetParameters'], … }, { actions: ['kms:Decrypt'], … }]
 */
export const envParametersRead = ({ pulumi }: Cloud, input: { prefix: string; scope: AccountScope }): PermissionSpec[] => {
  const { region, accountId } = input.scope;
  const parameters = pulumi.interpolate`arn:aws:ssm:${region}:${accountId}:parameter/${input.prefix}/${SECRET_PATHS.env}/*`;
  return [
    { actions: ['ssm:GetParameters'], resources: [parameters] },
    {
      actions: ['kms:Decrypt'],
      resources: [pulumi.interpolate`arn:aws:kms:${region}:${accountId}:key/*`],
      conditions: [
        { test: 'StringEquals', variable: 'kms:ViaService', values: [pulumi.interpolate`ssm.${region}.amazonaws.com`] },
        { test: 'StringLike', variable: 'kms:EncryptionContext:PARAMETER_ARN', values: [parameters] },
      ],
    },
  ];
};

/** The handlers that read secrets, and which kind: the webhook sender signs with subscription secrets. */
const SECRET_READERS: Record<string, keyof typeof SECRET_PATHS> = {
  'infra/aws/functions/subscriptions.onEvent': 'subscription',
};

/**
 * What one function needs of the secret store, by its handler: the readers in `SECRET_READERS`
 * their kind of secret and the table; everything else nothing.
 *
 * @example
 * secretNeeds(cloud, 'infra/aws/functions/subscriptions.onEvent', secrets).environment?.SHIPLOG_SECRETS_TABLE;
 */
export const secretNeeds = (cloud: Cloud, handler: string, s: SecretResources): FunctionNeeds => {
  const path = SECRET_READERS[handler];
  if (!path) return {};
  return { environment: secretEnvironment(s), permissions: secretsRead(cloud, s, path) };
};

/**
 * The environment through which a function finds the secret store.
 *
 * @example
 * secretEnvironment(secrets); // { SHIPLOG_SECRETS_TABLE: …, SHIPLOG_SECRETS_KEY: 'alias/shiplog-secrets' }
 */
export const secretEnvironment = (s: SecretResources) => ({ [FunctionEnv.secretsTable]: s.table.name, [FunctionEnv.secretsKey]: s.key.name });
