import { afterAll, describe, expect, it, vi } from 'vitest';
import { inject } from 'vitest';
import type { BusEntry, EventBus } from '../../events/bus/port.ts';
import { createEventStoreTable, dynamoEventStore } from '../../events/store/index.ts';
import { testDynamoClient, uniqueTableName } from '../../test/support/dynamo.ts';
import { newEvent, newId } from '../../test/support/events.ts';
import { streamOutbox } from './outbox.ts';

const client = testDynamoClient();
afterAll(() => client.destroy());

const collecting = () => {
  const got: BusEntry[] = [];
  let failNext = false;
  const bus: EventBus & { got: BusEntry[]; failOnce(): void } = {
    got,
    failOnce: () => (failNext = true),
    publish: async (entries) => {
      if (failNext) {
        failNext = false;
        throw new Error('bus down');
      }
      got.push(...entries);
    },
  };
  return bus;
};

const setup = async () => {
  const tableName = uniqueTableName(import.meta.url, 'events');
  const checkpointTable = uniqueTableName(import.meta.url, 'outbox');
  await createEventStoreTable(client, tableName);
  const store = dynamoEventStore({ client, tableName, types: { sourceOf: () => 'shiplog.test', schemaVersionOf: () => 1, upcast: (e) => e } });
  const make = (bus: EventBus, pollMs?: number) => streamOutbox({ endpoint: inject('dynamoEndpoint'), client, tableName, checkpointTable, bus, ...(pollMs ? { pollMs } : {}) });
  return { store, make, checkpointTable };
};

const appendMany = async (store: Awaited<ReturnType<typeof setup>>['store'], n: number) => {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const e = newEvent('Tested', { i });
    await store.append(`s-${i % 5}-${newId()}`, [e], { expectedVersion: 0 });
    ids.push(e.metadata.eventId);
  }
  return ids;
};

describe('stream outbox (DynamoDB Local streams)', () => {
  it('publishes every committed event with its source, detail-type and detail', async () => {
    const { store, make } = await setup();
    const ids = await appendMany(store, 30);
    const bus = collecting();
    const outbox = make(bus);
    await outbox.start();
    await outbox.stop();
    // start() creates the checkpoint table and runs one pass; run passes until caught up.
    while ((await make(bus).pollOnce()) > 0);
    expect(bus.got.map((e) => e.detail.metadata.eventId).sort()).toEqual([...ids].sort());
    const first = bus.got.find((e) => e.detail.metadata.eventId === ids[0])!;
    expect(first).toMatchObject({ source: 'shiplog.test', detailType: 'Tested', detail: { data: { i: 0 } } });
    expect(first.detail.metadata.version).toBe(1);
  });

  it('resumes after its checkpoint on restart, and loses nothing when publishing fails', async () => {
    const { store, make } = await setup();
    const bus = collecting();
    const first = make(bus);
    await first.start();
    await first.stop();
    const ids = await appendMany(store, 10);
    expect(await make(bus).pollOnce()).toBe(10);
    // A restarted outbox starts after the checkpoint.
    expect(await make(bus).pollOnce()).toBe(0);
    const more = await appendMany(store, 4);
    bus.failOnce();
    await expect(make(bus).pollOnce()).rejects.toThrow('bus down');
    expect(await make(bus).pollOnce()).toBe(4);
    expect(bus.got.map((e) => e.detail.metadata.eventId).sort()).toEqual([...ids, ...more].sort());
  });

  it('publishes on wake without waiting for its poll: every commit of a run of appends, each once', async () => {
    const tableName = uniqueTableName(import.meta.url, 'woken');
    const checkpointTable = uniqueTableName(import.meta.url, 'woken-outbox');
    await createEventStoreTable(client, tableName);
    let wake = () => {};
    const store = dynamoEventStore({ client, tableName, types: { sourceOf: () => 'shiplog.test', schemaVersionOf: () => 1, upcast: (e) => e }, onCommitted: () => wake() });
    const bus = collecting();
    // An hour between polls: only the wakes can publish within this test.
    const outbox = streamOutbox({ endpoint: inject('dynamoEndpoint'), client, tableName, checkpointTable, bus, pollMs: 3_600_000 });
    await outbox.start();
    wake = () => outbox.wake();
    try {
      const ids = await appendMany(store, 12);
      await vi.waitFor(() => expect(bus.got.map((e) => e.detail.metadata.eventId).sort()).toEqual([...ids].sort()), { timeout: 20_000, interval: 50 });
      const later = await appendMany(store, 3);
      await vi.waitFor(() => expect(bus.got).toHaveLength(15), { timeout: 20_000, interval: 50 });
      expect(bus.got.map((e) => e.detail.metadata.eventId).sort()).toEqual([...ids, ...later].sort());
    } finally {
      await outbox.stop();
    }
  });

  it('publishes by its poll alone when no commit wakes it (the safety net)', async () => {
    const { store, make } = await setup();
    const bus = collecting();
    const outbox = make(bus, 50);
    await outbox.start();
    try {
      const ids = await appendMany(store, 5);
      await vi.waitFor(() => expect(bus.got.map((e) => e.detail.metadata.eventId).sort()).toEqual([...ids].sort()), { timeout: 20_000, interval: 50 });
    } finally {
      await outbox.stop();
    }
  });
});
