import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { SecretStore } from '../../ports.ts';
import { secretStoreOn, type SecretVault } from './local.ts';

// SSM parameter names: letters, digits and `_.-/`, at most 1011 characters under a path.
const PARAMETER_PART = /^[A-Za-z0-9_.-]+$/;

/**
 * The SSM parameter of one secret version: the scope's parts as folders under the stack's
 * prefix, then the name and the version. An env var's is exactly the path CodeBuild reads
 * (`parameterStoreRef` in services/build: `/<prefix>/env/<project>/<target>/<name>/<version>`).
 *
 * @example
 * secretParameterName('shiplog', 'env#web#production', 'API_KEY', 3); // '/shiplog/env/web/production/API_KEY/3'
 * secretParameterName('shiplog', 'subscription#01J…', 'signing-secret', 1); // '/shiplog/subscription/01J…/signing-secret/1'
 */
export const secretParameterName = (prefix: string, scope: string, name: string, version: number): string => {
  const parts = [...scope.split('#'), name];
  const bad = parts.find((p) => !PARAMETER_PART.test(p));
  if (bad !== undefined) throw new Error(`"${bad}" cannot be part of an SSM parameter name (letters, digits, _ . - only)`);
  return `/${prefix}/${parts.join('/')}/${version}`;
};

/**
 * The AWS vault: every secret version is an SSM `SecureString` parameter encrypted under the
 * stack's KMS key (`keyId`), readable only by principals allowed to decrypt with that key through
 * SSM. `Intelligent-Tiering` keeps a value within 4 KB on the free standard tier and takes one up
 * to 8 KB on the advanced tier.
 *
 * @example
 * const vault = parameterStoreVault({ ssm: new SSMClient({}), prefix: 'shiplog', keyId: 'alias/shiplog-secrets' });
 */
export const parameterStoreVault = ({ ssm, prefix, keyId }: { ssm: SSMClient; prefix: string; keyId: string }): SecretVault => ({
  write: async (scope, name, version, value) => {
    await ssm.send(new PutParameterCommand({
      Name: secretParameterName(prefix, scope, name, version),
      Value: value,
      Type: 'SecureString',
      KeyId: keyId,
      Overwrite: true,
      Tier: 'Intelligent-Tiering',
    }));
  },
  read: async (scope, name, version) => {
    try {
      const out = await ssm.send(new GetParameterCommand({ Name: secretParameterName(prefix, scope, name, version), WithDecryption: true }));
      return out.Parameter?.Value;
    } catch (err) {
      if (err instanceof ParameterNotFound) return undefined;
      throw err;
    }
  },
});

/**
 * The secret store on AWS: values in SSM Parameter Store under the stack's KMS key, the
 * current-version pointers (names and versions only, no values) in the secrets table. Env vars,
 * project credentials and subscription signing secrets all live here; builds read env vars
 * straight from SSM by the exact versions a deployment was requested with.
 *
 * @example
 * const secrets = awsSecretStore({ client, tableName: 'shiplog-secrets', ssm, prefix: 'shiplog', keyId: 'alias/shiplog-secrets' });
 * await secrets.put('env#web#production', 'API_KEY', 3, 's3cret');
 */
export const awsSecretStore = (o: { client: DynamoDBClient; tableName: string; ssm: SSMClient; prefix: string; keyId: string }): SecretStore =>
  secretStoreOn({ client: o.client, tableName: o.tableName, vault: parameterStoreVault(o) });
