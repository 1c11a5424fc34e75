import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toEventBridgeEvent, type StoredEvent } from '../events/index.ts';
import { createEventStoreTable, dynamoEventStore, type EventStore } from '../events/store/index.ts';
import { eventTypes } from '../events/upcasters.ts';
import { testDynamoClient, uniqueTableName } from '../test/support/dynamo.ts';
import { defaultProjections } from './all.ts';
import { deploymentKeys, deploymentsProjection } from './deployments.ts';
import { projectKeys, projectsProjection } from './projects.ts';
import { readModels } from './queries.ts';
import { rebuildProjection } from './rebuild.ts';
import { makeProjectionRunner } from './runner.ts';
import { projectionStatus } from './status.ts';
import { dynamoViewStore } from './store/dynamo-view-store.ts';
import { namespaceOf, type ViewStore } from './store/ports.ts';
import { createViewsTable } from './store/table.ts';
import { appendAsStored, scenario, type Scenario, ship } from '../test/support/scenario-events.ts';
import { localUrls } from './urls.ts';
import { verifyProjections } from './verify.ts';

const client = testDynamoClient();
afterAll(() => client.destroy());

const setup = async () => {
  const events = uniqueTableName(import.meta.url, 'events');
  const viewsTable = uniqueTableName(import.meta.url, 'views');
  await Promise.all([createEventStoreTable(client, events), createViewsTable(client, viewsTable)]);
  const store = dynamoEventStore({ client, tableName: events, types: eventTypes });
  const views = dynamoViewStore({ client, tableName: viewsTable });
  const runner = makeProjectionRunner({ store, views, registryTtlMs: 0 });
  const append = (s: Scenario, from: number): Promise<StoredEvent[]> =>
    appendAsStored(store, s.events.slice(from));
  const deliver = async (events: StoredEvent[]) => { for (const e of events) await runner.handle(toEventBridgeEvent(e, 'shiplog.test')); };
  return { store, views, runner, append, deliver };
};

describe('rebuild, status and verify (DynamoDB Local)', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  const s = scenario('rb');
  beforeAll(async () => {
    ctx = await setup();
    s.created();
    ship(s, 'd1');
    ship(s, 'd2');
    await ctx.deliver(await ctx.append(s, 0));
  });

  it('rebuilds into a new generation while the old one serves, then switches and drops the old one', async () => {
    const models = readModels({ views: ctx.views, urls: localUrls(3001), cacheMs: 0 });
    let during: { live: string | null | undefined; servedBy: string | undefined } | undefined;
    let catchingUp = 0;
    // Between the bulk load and the switch, a new deployment arrives and is delivered.
    const hooked: ViewStore = {
      ...ctx.views,
      bulkPut: async (ns, docs, applied) => {
        await ctx.views.bulkPut(ns, docs, applied);
        const before = s.events.length;
        ship(s, 'd3');
        await ctx.deliver(await ctx.append(s, before));
        during = { live: (await models.getProject('rb'))?.liveDeploymentId, servedBy: (await ctx.views.readRegistry()).get('projects')?.active?.generation };
      },
      appliedVersions: async (ns, ids) => {
        if (ns.endsWith('|g2')) catchingUp++;
        return ctx.views.appliedVersions(ns, ids);
      },
    };
    const r = await rebuildProjection({ store: ctx.store, views: hooked, projection: projectsProjection, registryTtlMs: 0, settleMs: 60_000 });
    expect(r).toMatchObject({ name: 'projects', generation: 'g2', previous: 'g1', events: 17 });
    expect(r.caughtUp).toBeGreaterThan(0);
    // Its phases split the time until it served (the catch-up waited for, so the rest is not empty).
    const { foldSeconds, writeSeconds, restSeconds } = r.phases;
    expect(Math.min(foldSeconds, writeSeconds)).toBeGreaterThanOrEqual(0);
    expect(restSeconds).toBeGreaterThan(0);
    expect(foldSeconds + writeSeconds + restSeconds).toBeCloseTo(r.seconds, 6);
    expect(catchingUp).toBeGreaterThan(0);
    expect(during).toEqual({ live: 'd3', servedBy: 'g1' });
    expect((await ctx.views.readRegistry()).get('projects')).toMatchObject({ active: { generation: 'g2', version: 1 }, building: null });
    expect(await models.getProject('rb')).toMatchObject({ liveDeploymentId: 'd3', deploymentCount: 3, productionUrl: 'http://rb.localhost:3001' });
    expect((await ctx.views.dump(namespaceOf('projects', 'g1'))).docs.size).toBe(0);
  });

  it('folds new events into a rebuild that is catching up, as well as into the serving generation', async () => {
    const claimed: string[] = [];
    const hooked: ViewStore = {
      ...ctx.views,
      writeRegistry: async (entry, expected) => {
        const ok = await ctx.views.writeRegistry(entry, expected);
        if (ok && entry.building?.state === 'catching-up') {
          const before = s.events.length;
          s.envSet('LATE', 'production', 1);
          await ctx.deliver(await ctx.append(s, before));
          claimed.push(entry.building.generation);
        }
        return ok;
      },
    };
    await rebuildProjection({ store: ctx.store, views: hooked, projection: projectsProjection, registryTtlMs: 0, settleMs: 0 });
    expect(claimed).toEqual(['g3']);
    expect(await ctx.views.get(namespaceOf('projects', 'g3'), projectKeys.envVar('rb', 'production', 'LATE'))).toMatchObject({ version: 1 });
  });

  it('writes documents in waves while it reads, rewriting and deleting what changed after a wave, and ends with the documents of a fold', async () => {
    // A variable set, then removed; another set twice: documents changed or deleted after a wave wrote them.
    const before = s.events.length;
    s.envSet('WAVE_GONE', 'production', 1);
    s.envSet('WAVE_KEPT', 'production', 1);
    s.envRemoved('WAVE_GONE', 'production', 2);
    s.envSet('WAVE_KEPT', 'production', 2);
    await ctx.deliver(await ctx.append(s, before));
    // Each wave is written before the read goes on (a wave after every event), so every
    // document is written as soon as it changes.
    let pending: Promise<void> = Promise.resolve();
    const sent: { sk: string; deleted: boolean }[] = [];
    const views: ViewStore = {
      ...ctx.views,
      bulkPut: (ns, docs, applied) => {
        for (const d of docs) sent.push({ sk: d.key.sk, deleted: d.state === null });
        return (pending = ctx.views.bulkPut(ns, docs, applied));
      },
    };
    const store: EventStore = {
      ...ctx.store,
      iterateAll: async function* (o) {
        for await (const e of ctx.store.iterateAll(o)) {
          await pending;
          await new Promise((r) => setImmediate(r));
          yield e;
        }
      },
    };
    const r = await rebuildProjection({ store, views, projection: projectsProjection, registryTtlMs: 0, settleMs: 0, waveEvents: 1 });
    expect(r.docWrites).toBe(sent.length);
    expect(r.docWrites).toBeGreaterThan(r.docs);
    expect(sent.filter((w) => w.sk === 'production#WAVE_KEPT')).toEqual([{ sk: 'production#WAVE_KEPT', deleted: false }, { sk: 'production#WAVE_KEPT', deleted: false }]);
    expect(sent.filter((w) => w.sk === 'production#WAVE_GONE')).toEqual([{ sk: 'production#WAVE_GONE', deleted: false }, { sk: 'production#WAVE_GONE', deleted: true }]);
    const ns = namespaceOf('projects', r.generation);
    expect(await ctx.views.get(ns, projectKeys.envVar('rb', 'production', 'WAVE_GONE'))).toBeUndefined();
    expect(await ctx.views.get(ns, projectKeys.envVar('rb', 'production', 'WAVE_KEPT'))).toMatchObject({ version: 2 });
    const [result] = await verifyProjections({ store: ctx.store, views: ctx.views, projections: [projectsProjection] });
    expect(result!.differences).toEqual([]);
    expect((await ctx.views.dump(ns)).docs.size).toBe(r.docs);
  });

  it('refuses a second rebuild while one runs, unless forced', async () => {
    const entry = (await ctx.views.readRegistry()).get('deployments')!;
    await ctx.views.writeRegistry({ ...entry, building: { generation: 'g9', version: 1, state: 'loading', startedAt: '2026-01-01T00:00:00.000Z' } }, entry);
    await expect(rebuildProjection({ store: ctx.store, views: ctx.views, projection: deploymentsProjection, registryTtlMs: 0 })).rejects.toThrow(/already being rebuilt into g9/);
    const r = await rebuildProjection({ store: ctx.store, views: ctx.views, projection: deploymentsProjection, registryTtlMs: 0, force: true, settleMs: 0 });
    expect(r.generation).toBe('g2');
    expect(await ctx.views.get(namespaceOf('deployments', r.generation), deploymentKeys.deployment('d3'))).toMatchObject({ status: 'ready' });
  });

  it('reports lag: events in the store its serving generation has not applied', async () => {
    const projections = defaultProjections();
    const quiet = await projectionStatus({ store: ctx.store, views: ctx.views, projections, settleMs: 0 });
    expect(quiet.map((p) => [p.name, p.behind])).toEqual(projections.map((p) => [p.name, 0]));
    const before = s.events.length;
    s.requested('d4'); s.queued('d4'); s.started('d4');
    const undelivered = await ctx.append(s, before);
    const behind = await projectionStatus({ store: ctx.store, views: ctx.views, projections, settleMs: 0 });
    expect(behind.find((p) => p.name === 'deployments')).toMatchObject({ behind: 3, oldestBehind: { eventId: undelivered[0]!.metadata.eventId, type: 'DeploymentRequested' } });
    expect(behind.find((p) => p.name === 'projects')).toMatchObject({ behind: 1 });
    // Activity follows deployment streams too (a push-triggered request is not audited, but still counted).
    expect(behind.find((p) => p.name === 'activity')).toMatchObject({ behind: 1 });
    expect(behind.find((p) => p.name === 'delivery')).toMatchObject({ behind: 1 });
    // The checkpoint stops before the first event not applied, so it is counted again next time.
    const again = await projectionStatus({ store: ctx.store, views: ctx.views, projections, settleMs: 0 });
    expect(again.find((p) => p.name === 'deployments')?.behind).toBe(3);
    expect(again.find((p) => p.name === 'deployments')!.scanned).toBeLessThan(s.events.length);
    await ctx.deliver(undelivered);
    expect((await projectionStatus({ store: ctx.store, views: ctx.views, projections, settleMs: 0 })).every((p) => p.behind === 0)).toBe(true);
  });

  it('verifies the serving read models against a rebuild in memory, and finds a tampered document', async () => {
    const projections = defaultProjections();
    expect((await verifyProjections({ store: ctx.store, views: ctx.views, projections })).flatMap((r) => r.differences)).toEqual([]);
    const ns = namespaceOf('deployments', (await ctx.views.readRegistry()).get('deployments')!.active!.generation);
    const key = deploymentKeys.deployment('d2');
    const doc = (await ctx.views.get(ns, key)) as { status: string };
    await ctx.views.bulkPut(ns, [{ key, state: { ...doc, status: 'error' } }], new Map());
    const [result] = await verifyProjections({ store: ctx.store, views: ctx.views, projections: [deploymentsProjection] });
    expect(result!.differences).toEqual([{ key, kind: 'different', path: 'status' }]);
  });
});
