import { beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../test/support/events.ts';
import { testDynamoClient, uniqueTableName } from '../../test/support/dynamo.ts';
import type { TokenRecord, TokenStore } from './ports.ts';
import { createTokensTable, dynamoTokenStore } from './adapters/token-store/dynamo.ts';
import { accessCommands } from './tokens.ts';

// Token verification on DynamoDB Local, with the store's reads counted: a runtime that is the
// table's only writer (`verifiedForMs`) reads a used token's record once, and a revocation
// through the same commands is refused at once, even one that overtakes a read in flight.

let tokens: TokenStore;
let reads = 0;
let holdReads: Promise<void> | undefined;

beforeAll(async () => {
  const client = testDynamoClient();
  const tableName = uniqueTableName(import.meta.url, 'tokens');
  await createTokensTable(client, tableName);
  const store = dynamoTokenStore({ client, tableName });
  tokens = {
    ...store,
    byHash: async (hash: string): Promise<TokenRecord | undefined> => {
      const hold = holdReads;
      reads++;
      const found = await store.byHash(hash);
      await hold;
      return found;
    },
  };
});

const commands = (verifiedForMs?: number) =>
  accessCommands({ tokens, ids: newId, now: () => new Date().toISOString(), ...(verifiedForMs === undefined ? {} : { verifiedForMs }) });

describe('accessCommands.verify', () => {
  it('reads the record on every request by default', async () => {
    const access = commands();
    const { token } = await access.create({ name: `every-${newId()}` }, 'test');
    reads = 0;
    for (let i = 0; i < 3; i++) expect((await access.verify(token))?.kind).toBe('user');
    expect(reads).toBe(3);
  });

  it('with verifiedForMs, reads a used token once, and refuses it at once when revoked', async () => {
    const access = commands(60_000);
    const { token, record } = await access.create({ name: `kept-${newId()}` }, 'test');
    reads = 0;
    for (let i = 0; i < 3; i++) expect((await access.verify(token))?.tokenId).toBe(record.tokenId);
    expect(reads).toBe(1);
    await access.revoke(record.tokenId, 'test');
    expect(await access.verify(token)).toBeUndefined();
    expect(await access.verify(token)).toBeUndefined();
  });

  it('does not keep a record read before a revocation that overtook the read', async () => {
    const access = commands(60_000);
    const { token, record } = await access.create({ name: `race-${newId()}` }, 'test');
    reads = 0;
    let release!: () => void;
    holdReads = new Promise((r) => (release = r));
    const inFlight = access.verify(token);
    await expect.poll(() => reads).toBeGreaterThan(0);
    holdReads = undefined;
    await access.revoke(record.tokenId, 'test');
    release();
    // The read began before the revocation: it may answer with the token, but must not keep it.
    await inFlight;
    expect(await access.verify(token)).toBeUndefined();
  });

  it('reads the record again once verifiedForMs has passed (a revocation by another process is seen)', async () => {
    const ours = commands(50);
    const other = commands();
    const { token, record } = await ours.create({ name: `other-${newId()}` }, 'test');
    expect(await ours.verify(token)).toBeDefined();
    await other.revoke(record.tokenId, 'another process');
    await expect.poll(() => ours.verify(token), { timeout: 5_000, interval: 20 }).toBeUndefined();
  });
});
