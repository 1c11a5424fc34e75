import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { StoredEvent } from '../../events/index.ts';
import { createEventStoreTable, dynamoEventStore, type EventStore } from '../../events/store/index.ts';
import { eventTypes } from '../../events/upcasters.ts';
import { tailEvents } from '../../projections/replay/tail.ts';
import { fakeRuntime, runCommand } from '../../test/support/local-projections.ts';
import { appendAsStored, scenario } from '../../test/support/scenario-events.ts';
import { testDynamoClient, uniqueTableName } from '../../test/support/dynamo.ts';
import { storedEventFilter, tailCommand } from './events-tail.ts';

const client = testDynamoClient();
let store: EventStore;
afterAll(() => client.destroy());
beforeAll(async () => {
  const events = uniqueTableName(import.meta.url, 'events');
  await createEventStoreTable(client, events);
  store = dynamoEventStore({ client, tableName: events, types: eventTypes });
});

/** Appends one by one; returns the commit time (ms) of the last one. */
const append = async (events: StoredEvent[]): Promise<number> => {
  let committedAt = 0;
  for (const e of events) {
    const stored = await appendAsStored(store, [e]);
    committedAt = Date.parse(stored.at(-1)!.position.slice(0, 24));
  }
  return committedAt;
};

describe('shiplog events tail', () => {
  it('follows new events in global order, from now, filtered by a pattern', async () => {
    const s = scenario('tail');
    s.created();
    const committedAt = await append(s.events);
    // "From now" starts after the millisecond of the last commit: these events are history.
    await expect.poll(() => Date.now(), { interval: 1 }).toBeGreaterThan(committedAt);
    const shown: string[] = [];
    const stop = new AbortController();
    const done = tailEvents({
      store, pollMs: 30, signal: stop.signal,
      filter: storedEventFilter('{"detail-type":["EnvVarSet","EnvVarRemoved"]}'),
      onEvent: (e) => { shown.push(`${e.type}:${e.metadata.version}`); },
    });
    const before = s.events.length;
    s.envSet('A', 'production', 1);
    s.pushed('main', 1);
    s.envSet('A', 'production', 2);
    s.envRemoved('A', 'production', 2);
    await append(s.events.slice(before));
    await vi.waitFor(() => expect(shown.length).toBeGreaterThanOrEqual(3), { timeout: 3000 });
    stop.abort();
    expect(await done).toBe(3);
    expect(shown).toEqual(['EnvVarSet:2', 'EnvVarSet:4', 'EnvVarRemoved:5']);
  });

  it('refuses a bad pattern, and says when shiplog is not running', async () => {
    expect(() => storedEventFilter('{nope')).toThrow(/--pattern must be JSON/);
    expect(() => storedEventFilter('{"source":"not-an-array"}')).toThrow(/Event pattern is not valid/);
    const none = fakeRuntime({ dynamoEndpoint: 'http://127.0.0.1:9', tables: {} });
    none.remove();
    await expect(none.use(() => runCommand(tailCommand(), []))).rejects.toThrow('shiplog is not running here (start it with `npm start`)');
  });
});
