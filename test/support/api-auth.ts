import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { tokenVerifier, type ApiGuard } from '../../infra/http/auth.ts';
import { accessCommands, createTokensTable, dynamoTokenStore, type AccessCommands } from '../../services/access/index.ts';
import { newId } from './events.ts';
import { uniqueTableName } from './dynamo.ts';

/**
 * API tokens for a test file's own API server: a tokens table on the run's DynamoDB Local, the
 * guard the API checks requests with, and an admin token (`token:admin` in the history).
 *
 * @example
 * const auth = await testApiAuth(client, import.meta.url);
 * platformApi({ ...deps, guard: auth.guard, access: auth.access });
 * await fetch(url, { headers: auth.headers });
 */
export interface TestApiAuth {
  access: AccessCommands;
  guard: ApiGuard;
  tokensTable: string;
  /** An admin token. */
  token: string;
  /** `{ authorization: 'Bearer <token>' }`. */
  headers: { authorization: string };
}

export const testApiAuth = async (client: DynamoDBClient, fileUrl: string, opts: { hosts?: string[] } = {}): Promise<TestApiAuth> => {
  const tokensTable = uniqueTableName(fileUrl, 'tokens');
  await createTokensTable(client, tokensTable);
  const access = accessCommands({ tokens: dynamoTokenStore({ client, tableName: tokensTable }), ids: newId, now: () => new Date().toISOString() });
  const { token } = await access.create({ name: 'admin', kind: 'admin' }, 'test');
  return { access, tokensTable, token, headers: { authorization: `Bearer ${token}` }, guard: { verify: tokenVerifier(access), ...(opts.hosts ? { hosts: opts.hosts } : {}) } };
};
