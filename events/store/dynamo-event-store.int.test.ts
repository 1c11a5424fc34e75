import { afterAll, describe, expect, it } from 'vitest';
import { createEventStoreTable, dynamoEventStore } from './index.ts';
import { eventStoreContract } from '../../test/contracts/event-store.ts';
import { newEvent, newId } from '../../test/support/events.ts';
import { testDynamoClient, uniqueTableName } from '../../test/support/dynamo.ts';

const client = testDynamoClient();
afterAll(() => client.destroy());

eventStoreContract('dynamo (DynamoDB Local)', async () => {
  const tableName = uniqueTableName(import.meta.url, 'events');
  await createEventStoreTable(client, tableName);
  return dynamoEventStore({ client, tableName });
});

// An append at a version the store has seen exist skips the `ConditionCheck` of that version (a
// conditional PutItem for one event). Two stores over one table: what one has seen never lets it
// write a gap or over the other's events.
describe('versions a store has seen', () => {
  it('still refuses a stale or ahead-of-the-stream append when another writer moved the stream', async () => {
    const tableName = uniqueTableName(import.meta.url, 'seen');
    await createEventStoreTable(client, tableName);
    const a = dynamoEventStore({ client, tableName });
    const b = dynamoEventStore({ client, tableName });
    const stream = `s-${newId()}`;
    const one = () => [newEvent('Tested')];
    await a.append(stream, [...one(), ...one()], { expectedVersion: 0 });
    // b has seen nothing of the stream: its append checks version 2 in a transaction
    await b.append(stream, one(), { expectedVersion: 2 });
    // a has seen version 2: its append at 2 is a PutItem of version 3, which b wrote
    await expect(a.append(stream, one(), { expectedVersion: 2 })).rejects.toMatchObject({ name: 'VersionConflictError', actualVersion: 3 });
    // ahead of what a has seen (3): checked, refused, nothing written at 6
    await expect(a.append(stream, one(), { expectedVersion: 5 })).rejects.toMatchObject({ name: 'VersionConflictError', actualVersion: 3 });
    const next = await a.append(stream, one(), { expectedVersion: 3 });
    expect(next.nextVersion).toBe(4);
    expect((await b.readStream(stream)).map((e) => e.metadata.version)).toEqual([1, 2, 3, 4]);
  });
});
