import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { monotonicFactory } from 'ulid';
import { accessCommands, dynamoTokenStore } from '../../../services/access/index.ts';
import { AdminTokenEnv } from '../api.ts';

const required = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the admin token function needs it`);
  return value;
};

/**
 * A stage's first admin API token, for whoever may invoke this function in the AWS account
 * (`shiplog login --aws <function>`, or `aws lambda invoke`): a bare stage has no token,
 * and the account's IAM is the only trust there is before one exists. Each invocation makes a
 * new `admin` token, named as asked (`admin` by default; a name an unrevoked token has is
 * refused). The token is in the response only: the log line and the tokens table hold its id
 * and hash.
 *
 * @example
 * await handler({ name: 'ops' }); // { token: 'shp_…', tokenId: '01J…', name: 'ops', apiUrl: 'https://….execute-api….amazonaws.com' }
 */
export const handler = async (event?: { name?: unknown }): Promise<{ token: string; tokenId: string; name: string; apiUrl: string }> => {
  const ids = monotonicFactory();
  const access = accessCommands({
    tokens: dynamoTokenStore({ client: new DynamoDBClient({}), tableName: required(AdminTokenEnv.tokensTable) }),
    ids: () => ids(),
    now: () => new Date().toISOString(),
  });
  const { token, record } = await access.create({ name: event?.name ?? 'admin', kind: 'admin' }, 'system:aws-invoke');
  console.log(JSON.stringify({ message: 'an admin API token was made for an AWS principal allowed to invoke this function', tokenId: record.tokenId, name: record.name }));
  return { token, tokenId: record.tokenId, name: record.name, apiUrl: required(AdminTokenEnv.apiUrl) };
};
