import { afterAll, describe, expect, it, vi } from 'vitest';
import { inject } from 'vitest';
import type { BusEntry, EventBus } from '../../events/bus/port.ts';
import type { StoredEvent } from '../../events/index.ts';
import { createEventStoreTable, dynamoEventStore } from '../../events/store/index.ts';
import { testDynamoClient, uniqueTableName } from '../../test/support/dynamo.ts';
import { newEvent, newId } from '../../test/support/events.ts';
import { busEntryOf, streamOutbox } from './outbox.ts';

const client = testDynamoClient();
afterAll(() => client.destroy());

const collecting = () => {
  const got: BusEntry[] = [];
  let failNext = false;
  const bus: EventBus & { got: BusEntry[]; failed: number; failOnce(): void } = {
    got,
    failed: 0,
    failOnce: () => (failNext = true),
    publish: async (entries) => {
      if (failNext) {
        failNext = false;
        bus.failed++;
        throw new Error('bus down');
      }
      got.push(...entries);
    },
  };
  return bus;
};

const errors = (bus: { failed: number }) => bus.failed;

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

  it('publishes an offered commit at once; the stream then checkpoints past it, and publishes what failed', async () => {
    const tableName = uniqueTableName(import.meta.url, 'offered');
    const checkpointTable = uniqueTableName(import.meta.url, 'offered-outbox');
    await createEventStoreTable(client, tableName);
    const types = { sourceOf: () => 'shiplog.test', schemaVersionOf: () => 1, upcast: (e: StoredEvent) => e };
    let offer = (_: StoredEvent[]) => {};
    const store = dynamoEventStore({ client, tableName, types, onCommitted: (_, events) => offer(events) });
    const bus = collecting();
    // An hour between polls: the stream is read only by the pollOnce calls below.
    const make = () => streamOutbox({ endpoint: inject('dynamoEndpoint'), client, tableName, checkpointTable, bus, pollMs: 3_600_000 });
    const outbox = make();
    await outbox.start();
    offer = (events) => outbox.offer(events.map((e) => busEntryOf(types, e)));
    try {
      const ids = await appendMany(store, 6);
      await vi.waitFor(() => expect(bus.got).toHaveLength(6), { timeout: 20_000, interval: 20 });
      expect(bus.got.map((e) => e.detail.metadata.eventId).sort()).toEqual([...ids].sort());
      const offered = bus.got.find((e) => e.detail.metadata.eventId === ids[0])!;
      expect(offered).toMatchObject({ source: 'shiplog.test', detailType: 'Tested', detail: { data: { i: 0 } } });
      expect(offered.detail.metadata.version).toBe(1);
      // The stream shows the same six: nothing is published again, and the checkpoint moves past them.
      expect(await outbox.pollOnce()).toBe(0);
      expect(bus.got).toHaveLength(6);
      // An offered publish that fails is the stream's to publish.
      bus.failOnce();
      const [failed] = await appendMany(store, 1);
      await vi.waitFor(() => expect(errors(bus)).toBe(1), { timeout: 20_000, interval: 20 });
      expect(await outbox.pollOnce()).toBe(1);
      expect(bus.got.filter((e) => e.detail.metadata.eventId === failed)).toHaveLength(1);
    } finally {
      await outbox.stop();
    }
    // A restarted outbox starts after that checkpoint: it publishes none of the seven again.
    expect(await make().pollOnce()).toBe(0);
    expect(bus.got).toHaveLength(7);
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
