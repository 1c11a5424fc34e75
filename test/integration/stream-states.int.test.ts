import { monotonicFactory } from 'ulid';
import { beforeAll, describe, expect, it } from 'vitest';
import { streams, type StoredEvent } from '../../events/index.ts';
import { createEventStoreTable, dynamoEventStore, type EventStore } from '../../events/store/index.ts';
import { eventTypes } from '../../events/upcasters.ts';
import { testDynamoClient, uniqueTableName } from '../support/dynamo.ts';
import { appendAsStored, scenario, type Scenario } from '../support/scenario-events.ts';
import { releaseDecider, type DeployCommand } from '../../services/deploy/decider.ts';
import { execute, fold, streamStates } from '../../services/shell/index.ts';

// Kept stream states over DynamoDB Local: a load reads only the events after the kept version,
// sees what other writers appended, and agrees with a fold of the whole stream.
const client = testDynamoClient();
const ulid = monotonicFactory();
let store: EventStore;
let other: EventStore;
// The reads the kept states make: the version each started from (1: the whole stream).
let reads: { fromVersion: number; events: number }[] = [];
let tracked: EventStore;

beforeAll(async () => {
  const [a, b] = [uniqueTableName(import.meta.url, 'events'), uniqueTableName(import.meta.url, 'other')];
  await Promise.all([createEventStoreTable(client, a), createEventStoreTable(client, b)]);
  store = dynamoEventStore({ client, tableName: a, types: eventTypes });
  other = dynamoEventStore({ client, tableName: b, types: eventTypes });
  tracked = {
    ...store,
    readStream: async (id, opts) => {
      const got = await store.readStream(id, opts);
      reads.push({ fromVersion: opts?.fromVersion ?? 1, events: got.length });
      return got;
    },
  };
});

let n = 0;
const project = () => `ss-${++n}-${Date.now().toString(36)}`;
// Appends the scenario's events of one stream from `from`, as their writers would.
const append = (target: EventStore, s: Scenario, streamId: string, from = 0): Promise<StoredEvent[]> =>
  appendAsStored(target, s.events.slice(from).filter((x) => x.metadata.streamId === streamId));
const ship = (s: Scenario, d: string, k: number) => { s.requested(d, { n: k }); s.assets(d); s.published(d); s.live(d); };
// A new project's release stream with d1 then d2 shipped (8 events), in the main store.
const twoShipped = async () => {
  const p = project();
  const release = streams.release(p, 'production');
  const s = scenario(p);
  ship(s, `${p}-d1`, 1);
  ship(s, `${p}-d2`, 2);
  await append(store, s, release);
  return { p, release, s };
};
const ada = { kind: 'user', id: 'ada' } as const;
const ctx = { ids: ulid, now: () => new Date().toISOString(), cause: null, actor: { kind: 'service', id: 'deploy' } as const };
const rollback = (p: string, to?: string): DeployCommand => ({ type: 'Rollback', projectId: p, alias: 'production', requestedBy: ada, reason: 'test', ...(to ? { to } : {}) });

describe('kept stream states', () => {
  it('read the whole stream once, then only what came after, and agree with a fold of the whole stream', async () => {
    const p = project();
    const release = streams.release(p, 'production');
    const s = scenario(p);
    ship(s, `${p}-d1`, 1);
    await append(store, s, release);
    const states = streamStates(tracked, releaseDecider);
    reads = [];
    const first = await states.load(release);
    expect(first.state.live).toBe(`${p}-d1`);
    expect(reads).toEqual([{ fromVersion: 1, events: 4 }]);

    // Another writer (another process) appends d2's release.
    const from = s.events.length;
    ship(s, `${p}-d2`, 2);
    await append(store, s, release, from);
    reads = [];
    const second = await states.load(release);
    expect(reads).toEqual([{ fromVersion: 5, events: 4 }]);
    expect(second).toEqual({ state: fold(releaseDecider, await store.readStream(release)), version: 8 });
    expect(second.state.live).toBe(`${p}-d2`);
    // The first state was not changed by folding the tail into it.
    expect(first.state.live).toBe(`${p}-d1`);

    // Nothing new: one read that finds nothing, the same state.
    reads = [];
    expect(await states.load(release)).toBe(second);
    expect(reads).toEqual([{ fromVersion: 9, events: 0 }]);
  });

  it('execute keeps the state after its append, and decides again on what a concurrent writer appended', async () => {
    const { p, release, s } = await twoShipped();
    const states = streamStates(tracked, releaseDecider);
    const loaded = await states.load(release);
    expect(loaded.state.live).toBe(`${p}-d2`);

    // Between the load and the append, another writer rolls back to d1 first.
    const from = s.events.length;
    s.rolledBack(`${p}-d1`);
    await append(store, s, release, from);
    reads = [];
    const run = await execute(store, release, releaseDecider, () => rollback(p, `${p}-d1`), ctx, { states, loaded });
    // The conflict reloaded the tail (the other writer's two events) and decided again: d1 is already live.
    expect(reads).toEqual([{ fromVersion: 9, events: 2 }]);
    expect(run.appended.map((e) => e.type)).toEqual(['RollbackRejected']);
    expect(run.appended[0]!.data).toMatchObject({ reason: `${p}-d1 is already live` });
    reads = [];
    const kept = await states.load(release);
    expect(reads).toEqual([{ fromVersion: 12, events: 0 }]);
    expect(kept).toEqual({ state: fold(releaseDecider, await store.readStream(release)), version: 11 });
  });

  it('trustKept: decides on the kept state without a read; a writer it did not know of makes it read and decide again', async () => {
    const { p, release, s } = await twoShipped();
    const states = streamStates(tracked, releaseDecider);
    await states.load(release);
    // Nobody else wrote: no read at all, and the decision is appended at the kept version.
    reads = [];
    const first = await execute(tracked, release, releaseDecider, () => rollback(p, `${p}-d1`), ctx, { states, trustKept: true });
    expect(reads).toEqual([]);
    expect(first.appended.map((e) => e.type)).toEqual(['AliasShifted', 'RolledBack']);
    expect(first.version).toBe(10);

    // Another writer promotes d2 again; the kept state (version 10) does not know it.
    const from = s.events.length;
    s.rolledBack(`${p}-d1`); // the scenario's own view of the rollback above, at versions 9–10
    s.promoted(`${p}-d2`);
    await append(store, s, release, from + 2);
    reads = [];
    const second = await execute(tracked, release, releaseDecider, () => rollback(p, `${p}-d1`), ctx, { states, trustKept: true, attempts: 1 });
    // The append at version 10 conflicted; the tail was read and the rollback decided again (free of the one attempt).
    expect(reads).toEqual([{ fromVersion: 11, events: 2 }]);
    expect(second.appended.map((e) => e.type)).toEqual(['AliasShifted', 'RolledBack']);
    expect(second.before.live).toBe(`${p}-d2`);
    expect(await states.load(release)).toEqual({ state: fold(releaseDecider, await store.readStream(release)), version: 14 });
  });

  it('trustKept: a decision on the kept state that appends nothing, or is refused, is taken again on a fresh read', async () => {
    const { p, release, s } = await twoShipped();
    const states = streamStates(tracked, releaseDecider);
    await states.load(release);
    // Another writer rolls back to d1: on the kept state (d2 live) a rollback to d2 would be refused as "already live".
    const from = s.events.length;
    s.rolledBack(`${p}-d1`);
    await append(store, s, release, from);
    // A command that decides nothing on the kept state (d1 is not live there), something on the stream as it is.
    reads = [];
    const seen: (string | null)[] = [];
    const run = await execute(tracked, release, releaseDecider, (state) => {
      seen.push(state.live);
      return state.live === `${p}-d1` ? rollback(p, `${p}-d2`) : undefined;
    }, ctx, { states, trustKept: true });
    expect(seen).toEqual([`${p}-d2`, `${p}-d1`]);
    expect(reads).toEqual([{ fromVersion: 9, events: 2 }]);
    expect(run.appended.map((e) => e.type)).toEqual(['AliasShifted', 'RolledBack']);

    // A command the decider refuses (throws) on the kept state is decided again on a read; refused again, it throws.
    const refusing = { ...releaseDecider, decide: (cmd: DeployCommand, state: Parameters<typeof releaseDecider.decide>[1]) => {
      if (state.live === `${p}-d2`) throw new Error(`refused at ${state.live}`);
      return releaseDecider.decide(cmd, state);
    } };
    const keptNow = states.peek(release)!;
    expect(keptNow.state.live).toBe(`${p}-d2`);
    reads = [];
    await expect(execute(tracked, release, refusing, () => rollback(p, `${p}-d1`), ctx, { states, trustKept: true })).rejects.toThrow(`refused at ${p}-d2`);
    // One read of the tail after version 12 (nothing new), then refused again on it.
    expect(reads).toEqual([{ fromVersion: 13, events: 0 }]);
  });

  it('a kept state the stream does not match (it is shorter) is dropped after a conflict, and the stream read whole', async () => {
    const { p, release } = await twoShipped();
    // The same stream id in another store holds only d1's release (4 events, not 8).
    const short = scenario(p);
    ship(short, `${p}-d1`, 1);
    await append(other, short, release);
    let current = store;
    const switching: EventStore = { ...store, readStream: (id, opts) => current.readStream(id, opts), append: (id, ev, o) => current.append(id, ev, o) };
    const states = streamStates(switching, releaseDecider);
    expect((await states.load(release)).version).toBe(8);
    current = other;
    const run = await execute(switching, release, releaseDecider, () => rollback(p), ctx, { states });
    expect(run.appended.map((e) => e.type)).toEqual(['RollbackRejected']);
    expect(run.appended[0]!.data).toMatchObject({ reason: 'there is no earlier deployment to roll back to' });
    expect(await states.load(release)).toEqual({ state: fold(releaseDecider, await other.readStream(release)), version: 5 });
  });
});
