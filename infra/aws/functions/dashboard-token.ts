import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { monotonicFactory } from 'ulid';
import { accessCommands, dynamoTokenStore, rotateHeldToken, ssmTokenHolder } from '../../../services/access/index.ts';
import { DASHBOARD_TOKEN_NAME, DashboardTokenEnv } from '../dashboard-token.ts';

const required = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the dashboard token function needs it`);
  return value;
};

/**
 * Gives the hosted dashboard a new `dashboard` API token and revokes the previous one; invoked by
 * the deploy (`infra/aws/dashboard-token.ts`). Returns and logs token ids only: the token goes to
 * the SSM SecureString the dashboard reads.
 *
 * @example
 * await handler({ rotate: 'dashboard' }); // { tokenId: '01J…', revoked: ['01H…'] }
 */
export const handler = async (_event?: unknown): Promise<{ tokenId: string; revoked: string[] }> => {
  const ids = monotonicFactory();
  const access = accessCommands({
    tokens: dynamoTokenStore({ client: new DynamoDBClient({}), tableName: required(DashboardTokenEnv.tokensTable) }),
    ids: () => ids(),
    now: () => new Date().toISOString(),
  });
  const holder = ssmTokenHolder({ ssm: new SSMClient({}), name: required(DashboardTokenEnv.parameter), keyId: required(DashboardTokenEnv.key) });
  const out = await rotateHeldToken(access, holder, { name: DASHBOARD_TOKEN_NAME, kind: 'dashboard', by: 'system:deploy' });
  console.log(JSON.stringify({ message: "the dashboard's API token rotated", ...out }));
  return out;
};
