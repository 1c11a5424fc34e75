import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEventData, toEventBridgeEvent, type StoredEvent } from '../../events/index.ts';
import { createEventStoreTable, dynamoEventStore, type EventStore } from '../../events/store/index.ts';
import { eventTypes } from '../../events/upcasters.ts';
import { defaultProjections } from '../../projections/all.ts';
import { deploymentKeys } from '../../projections/deployments.ts';
import { foldEvents } from '../../projections/fold.ts';
import { rebuildProjection } from '../../projections/rebuild.ts';
import { replayDeployment } from '../../projections/replay/deployment.ts';
import { makeProjectionRunner, settledVersion } from '../../projections/runner.ts';
import { dynamoViewStore } from '../../projections/store/dynamo-view-store.ts';
import { memoryViewStore } from '../../projections/store/memory-view-store.ts';
import { namespaceOf, type ViewStore } from '../../projections/store/ports.ts';
import { createViewsTable } from '../../projections/store/table.ts';
import { verifyProjections } from '../../projections/verify.ts';
import type { DeploymentView } from '../../projections/views/deployment.ts';
import { testDynamoClient, uniqueTableName } from '../support/dynamo.ts';
import { generateHistory, type History } from './generator.ts';
import { seeded } from './random.ts';
import { appendAsStored } from '../support/scenario-events.ts';

/**
 * Properties of the projections over random histories (seeded: a failure names its seed;
 * reproduce with PROPERTY_SEED=<base> and the history's index):
 * 1. incremental delivery in commit order == a rebuild from scratch == the same events delivered
 *    with duplicates and in shuffled order (the runner fills gaps from the store);
 * 2. replaying a deployment `--at` an event number or a time gives exactly the view the
 *    projection showed right after that event.
 * Every history runs through the runner on the in-memory view store; a few also run end to end
 * on DynamoDB Local (concurrent shuffled delivery, bulk rebuild, verify).
 */
const HISTORIES = Number(process.env.PROPERTY_HISTORIES ?? 100);
const DYNAMO_HISTORIES = Number(process.env.PROPERTY_DYNAMO_HISTORIES ?? 2);
const BASE_SEED = Number(process.env.PROPERTY_SEED ?? 20261122);
const projections = defaultProjections();

const client = testDynamoClient();
afterAll(() => client.destroy());

interface Stored { history: History; events: StoredEvent[] }

const appendInOrder = (store: EventStore, history: History): Promise<StoredEvent[]> =>
  appendAsStored(store, history.events);

const pool = async <T>(items: T[], concurrency: number, fn: (item: T, i: number) => Promise<void>) => {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  }));
};

/** Each event 1–3 times, all shuffled. */
const duplicatedAndShuffled = (events: StoredEvent[], seed: number): StoredEvent[] => {
  const r = seeded(seed);
  return r.shuffle(events.flatMap((e) => Array.from({ length: r.int(1, 3) }, () => e)));
};

const dumpAll = async (views: ViewStore, generation = 'g1') => {
  const out: Record<string, { docs: Map<string, unknown>; applied: Map<string, number> }> = {};
  for (const p of projections) {
    const { docs, applied } = await views.dump(namespaceOf(p.name, generation));
    out[p.name] = { docs: new Map([...docs].map(([k, d]) => [k, d.state])), applied };
  }
  return out;
};

const rebuiltInMemory = (events: StoredEvent[]) => {
  const out: Record<string, { docs: Map<string, unknown>; applied: Map<string, number> }> = {};
  for (const p of projections) {
    const fold = foldEvents(p, events);
    out[p.name] = { docs: new Map([...fold.docs].map(([k, d]) => [k, d.state])), applied: fold.applied };
  }
  return out;
};

const expectSameModels = (actual: Awaited<ReturnType<typeof dumpAll>>, expected: Awaited<ReturnType<typeof dumpAll>>, what: string) => {
  for (const p of projections) {
    const a = actual[p.name]!;
    const e = expected[p.name]!;
    expect([...a.docs.keys()].sort(), `${what}: ${p.name} documents`).toEqual([...e.docs.keys()].sort());
    for (const [k, state] of e.docs) expect(a.docs.get(k), `${what}: ${p.name} ${k.replace('\u0000', ' ')}`).toEqual(state);
    expect(Object.fromEntries(a.applied), `${what}: ${p.name} applied versions`).toEqual(Object.fromEntries(e.applied));
  }
};

const deliver = (runner: ReturnType<typeof makeProjectionRunner>, e: StoredEvent) => runner.handle(toEventBridgeEvent(e, 'shiplog.test'));

describe('projections: properties over random histories', () => {
  let store: EventStore;
  const histories: Stored[] = [];
  let gapFills = 0;

  beforeAll(async () => {
    const tableName = uniqueTableName(import.meta.url, 'events');
    await createEventStoreTable(client, tableName);
    const raw = dynamoEventStore({ client, tableName, types: eventTypes });
    store = { ...raw, readStream: (id, o) => { gapFills++; return raw.readStream(id, o); } };
    const generated = Array.from({ length: HISTORIES }, (_, i) => generateHistory({ seed: BASE_SEED + i, prefix: `h${i}` }));
    // Histories are independent: append them side by side, each in its own order.
    const stored: StoredEvent[][] = [];
    await pool(generated, 12, async (h, i) => { stored[i] = await appendInOrder(raw, h); });
    histories.push(...generated.map((history, i) => ({ history, events: stored[i]! })));
  }, 300_000);

  it('generates valid histories: every event parses with its catalog schema, many kinds of them', () => {
    const types = new Set<string>();
    for (const { history, events } of histories) {
      expect(events).toHaveLength(history.events.length);
      for (const e of events) {
        expect(() => parseEventData(e.type, e.data), `seed ${history.seed}: ${e.type}`).not.toThrow();
        types.add(e.type);
      }
    }
    expect(histories.reduce((n, h) => n + h.history.projects.length, 0)).toBeGreaterThan(HISTORIES);
    for (const t of ['BuildFailed', 'BuildCanceled', 'BuildTimedOut', 'DeploymentRejected', 'RolledBack', 'Promoted', 'AlarmRaised', 'DomainActive', 'EnvVarRemoved']) {
      expect(types, t).toContain(t);
    }
  });

  it('incremental == rebuild from scratch == duplicated and shuffled delivery, and replay --at matches what the projection showed', async () => {
    let snapshots = 0;
    for (const { history, events } of histories) {
      const label = `seed ${history.seed}`;
      // 1. incremental, in commit order, snapshotting each deployment after each of its events
      const views = memoryViewStore();
      const runner = makeProjectionRunner({ store, views, projections });
      const seen = new Map<string, number>();
      const shown: { d: string; n: number; at: string; view: DeploymentView }[] = [];
      for (const e of events) {
        await deliver(runner, e);
        const d = e.metadata.deploymentId;
        if (!d) continue;
        seen.set(d, (seen.get(d) ?? 0) + 1);
        const view = (await views.get(namespaceOf('deployments', 'g1'), deploymentKeys.deployment(d))) as DeploymentView;
        shown.push({ d, n: seen.get(d)!, at: e.metadata.occurredAt, view });
      }
      const incremental = await dumpAll(views);

      // 2. a rebuild from scratch (the fold `projections rebuild` runs) gives the same models
      expectSameModels(rebuiltInMemory(events), incremental, `${label} rebuild`);

      // 3. duplicates, shuffled: gaps are filled from the store, duplicates skipped
      const shuffledViews = memoryViewStore();
      const shuffledRunner = makeProjectionRunner({ store, views: shuffledViews, projections });
      for (const e of duplicatedAndShuffled(events, history.seed)) await deliver(shuffledRunner, e);
      expectSameModels(await dumpAll(shuffledViews), incremental, `${label} shuffled`);

      // 4. replay --at each event number and each time gives the view the projection showed then
      const byDeployment = new Map<string, StoredEvent[]>();
      const cached: EventStore = { ...store, readDeployment: async (d) => byDeployment.get(d) ?? [] };
      for (const e of events) if (e.metadata.deploymentId) byDeployment.set(e.metadata.deploymentId, [...(byDeployment.get(e.metadata.deploymentId) ?? []), e]);
      for (const snap of shown) {
        const byNumber = await replayDeployment(cached, snap.d, { at: { event: snap.n } });
        const byTime = await replayDeployment(cached, snap.d, { at: { time: snap.at } });
        const { timeline, ...state } = snap.view;
        for (const replayed of [byNumber, byTime]) {
          const { url: _url, ...replayedState } = replayed.state;
          expect(replayedState, `${label} ${snap.d} @${snap.n}`).toEqual(state);
          expect(replayed.timeline.map(({ causedBy: _c, caused: _d, depth: _e, ...t }) => t)).toEqual(timeline);
        }
        snapshots++;
      }
    }
    expect(snapshots).toBeGreaterThan(HISTORIES * 10);
    expect(gapFills).toBeGreaterThan(HISTORIES);
  }, 300_000);

  it.each(Array.from({ length: DYNAMO_HISTORIES }, (_, i) => i))(
    'on DynamoDB Local: concurrent shuffled delivery, and a bulk rebuild midway that the runner carries on, give the incremental models (history %i)',
    async (i) => {
      const history = generateHistory({ seed: BASE_SEED + 10_000 + i, prefix: `dyn${i}`, projects: [2, 3], deploymentsPerProject: [3, 8] });
      const [eventsTable, viewsA, viewsB] = ['events', 'views-a', 'views-b'].map((w) => uniqueTableName(import.meta.url, `${w}-${i}`));
      await Promise.all([createEventStoreTable(client, eventsTable!), createViewsTable(client, viewsA!), createViewsTable(client, viewsB!)]);
      const own = dynamoEventStore({ client, tableName: eventsTable!, types: eventTypes });
      const cut = Math.floor(history.events.length * 0.7);
      const first = await appendInOrder(own, { ...history, events: history.events.slice(0, cut) });

      // A: incremental, in commit order, up to the cut; then every projection rebuilt into g2
      const a = dynamoViewStore({ client, tableName: viewsA! });
      const runnerA = makeProjectionRunner({ store: own, views: a, projections, registryTtlMs: 0 });
      for (const e of first) await deliver(runnerA, e);
      expectSameModels(await dumpAll(a), rebuiltInMemory(first), `seed ${history.seed} dynamo incremental`);
      for (const projection of projections) {
        const r = await rebuildProjection({ store: own, views: a, projection, registryTtlMs: 0, settleMs: 200, keepPrevious: true });
        expect(r).toMatchObject({ generation: 'g2', previous: 'g1', events: first.length });
      }
      const baselines = new Map([...(await a.readRegistry())].map(([name, e]) => [name, e.active!.baseline!]));
      // ... and the rest of the history arrives, duplicated and shuffled, four at a time
      const rest = await appendInOrder(own, { ...history, events: history.events.slice(cut) });
      await pool(duplicatedAndShuffled(rest, history.seed), 4, (e) => deliver(runnerA, e));
      const events = [...first, ...rest];
      const expected = rebuiltInMemory(events);
      const rebuilt = await dumpAll(a, 'g2');
      // Streams the rebuild settled keep no applied version of their own: it is derived from the store.
      for (const p of projections) {
        for (const streamId of expected[p.name]!.applied.keys()) {
          if (!rebuilt[p.name]!.applied.has(streamId)) rebuilt[p.name]!.applied.set(streamId, await settledVersion(own, streamId, baselines.get(p.name)!));
        }
      }
      expectSameModels(rebuilt, expected, `seed ${history.seed} dynamo rebuild + rest`);
      for (const v of await verifyProjections({ store: own, views: a, projections })) expect(v, v.name).toMatchObject({ differences: [], streamsBehind: 0 });

      // B: the whole history duplicated and shuffled, four deliveries at a time
      const b = dynamoViewStore({ client, tableName: viewsB! });
      const runnerB = makeProjectionRunner({ store: own, views: b, projections });
      await pool(duplicatedAndShuffled(events, history.seed + 1), 4, (e) => deliver(runnerB, e));
      expectSameModels(await dumpAll(b), expected, `seed ${history.seed} dynamo shuffled`);
    },
    120_000,
  );
});
