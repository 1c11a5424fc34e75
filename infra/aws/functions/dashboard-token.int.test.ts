import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { accessCommands, createTokensTable, dynamoTokenStore, type AccessCommands } from '../../../services/access/index.ts';
import { testDynamoClient, uniqueTableName } from '../../../test/support/dynamo.ts';
import { BOX_CREDENTIALS, BOX_REGION, startMoto, type Moto } from '../../aws-box/moto.ts';
import { DashboardTokenEnv } from '../dashboard-token.ts';
import type * as DashboardTokenEntry from './dashboard-token.ts';

// The DashboardToken function (what each deploy invokes) on moto's SSM and KMS and a tokens table
// in DynamoDB Local: a `dashboard` token in a SecureString, rotated on each run, never returned.

const saved = { ...process.env };
const client = testDynamoClient();
const PARAMETER = '/shiplog-it/dashboard/api-token';
let moto: Moto;
let ssm: SSMClient;
let access: AccessCommands;
let fn: typeof DashboardTokenEntry;
let tokensTable: string;

const held = async (decrypt = true) => (await ssm.send(new GetParameterCommand({ Name: PARAMETER, WithDecryption: decrypt }))).Parameter!;

beforeAll(async () => {
  moto = await startMoto();
  const aws = { endpoint: moto.endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS };
  ssm = new SSMClient(aws);
  const kms = new KMSClient(aws);
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'secrets' }));
  await kms.send(new CreateAliasCommand({ AliasName: 'alias/shiplog-it-secrets', TargetKeyId: KeyMetadata!.KeyId! }));
  tokensTable = uniqueTableName(import.meta.url, 'tokens');
  await createTokensTable(client, tokensTable);
  access = accessCommands({ tokens: dynamoTokenStore({ client, tableName: tokensTable }), ids: () => crypto.randomUUID(), now: () => new Date().toISOString() });
  // The declared environment (infra/aws/dashboard-token.ts); the SDK's endpoint variables point at moto and DynamoDB Local.
  Object.assign(process.env, {
    [DashboardTokenEnv.tokensTable]: tokensTable, [DashboardTokenEnv.parameter]: PARAMETER, [DashboardTokenEnv.key]: 'alias/shiplog-it-secrets',
    AWS_ENDPOINT_URL: moto.endpoint, AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
    AWS_REGION: BOX_REGION, AWS_ACCESS_KEY_ID: BOX_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: BOX_CREDENTIALS.secretAccessKey,
  });
  fn = await import('./dashboard-token.ts');
}, 120_000);

afterAll(async () => {
  process.env = saved;
  ssm?.destroy();
  await moto?.stop();
});

describe('the DashboardToken function', () => {
  it('makes a dashboard token, keeps it in a SecureString under the key, and returns and logs its id only', async () => {
    const logged = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const out = await fn.handler({ rotate: 'dashboard' });
    const lines = logged.mock.calls.map((c) => c.join(' '));
    logged.mockRestore();
    const parameter = await held();
    expect(parameter.Type).toBe('SecureString');
    const token = parameter.Value!;
    expect(token).toMatch(/^shp_/);
    expect((await held(false)).Value).not.toBe(token);
    expect(await access.verify(token)).toMatchObject({ tokenId: out.tokenId, name: 'dashboard', kind: 'dashboard', createdBy: 'system:deploy' });
    expect(out).toEqual({ tokenId: out.tokenId, revoked: [] });
    expect(JSON.stringify(out)).not.toContain(token);
    expect(lines.join('\n')).toContain(out.tokenId);
    expect(lines.join('\n')).not.toContain(token);
  });

  it('rotates on the next run: a new token in the parameter, the previous one revoked; names alternate', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const before = (await held()).Value!;
    const first = (await access.verify(before))!;
    const second = await fn.handler({});
    const now = (await held()).Value!;
    expect(now).not.toBe(before);
    expect(second.revoked).toEqual([first.tokenId]);
    expect(await access.verify(before)).toBeUndefined();
    expect(await access.verify(now)).toMatchObject({ tokenId: second.tokenId, name: 'dashboard-next', kind: 'dashboard' });
    const third = await fn.handler({});
    expect(third.revoked).toEqual([second.tokenId]);
    expect(await access.verify((await held()).Value!)).toMatchObject({ tokenId: third.tokenId, name: 'dashboard' });
    expect((await access.list()).filter((t) => t.revokedAt === null).map((t) => t.tokenId)).toEqual([third.tokenId]);
    vi.restoreAllMocks();
  });

  it('refuses to take the name of a token of another kind, and leaves the parameter as it was', async () => {
    const before = (await held()).Value!;
    await access.revoke('dashboard', 'token:admin');
    await access.create({ name: 'dashboard-next', kind: 'user' }, 'token:admin');
    await expect(fn.handler({})).rejects.toThrow(/a user token named "dashboard-next" exists/);
    expect((await held()).Value).toBe(before);
  });
});
