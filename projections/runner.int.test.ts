import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalog, isKnownEventType, toEventBridgeEvent, type StoredEvent } from '../events/index.ts';
import { createEventStoreTable, dynamoEventStore, type EventStore } from '../events/store/index.ts';
import { eventTypes } from '../events/upcasters.ts';
import { testDynamoClient, uniqueTableName } from '../test/support/dynamo.ts';
import { defaultProjections } from './all.ts';
import { deploymentKeys } from './deployments.ts';
import { InvalidProjectionEventError } from './incoming.ts';
import { projectKeys } from './projects.ts';
import { makeProjectionHandler, makeProjectionRunner } from './runner.ts';
import { dynamoViewStore } from './store/dynamo-view-store.ts';
import { namespaceOf, type ViewStore } from './store/ports.ts';
import { createViewsTable } from './store/table.ts';
import { appendAsStored, scenario, type Scenario, ship } from '../test/support/scenario-events.ts';
import type { DeploymentView } from './views/deployment.ts';
import type { ProjectView } from './views/project.ts';

const client = testDynamoClient();
let store: EventStore;
let newerProducer: EventStore;
let views: ViewStore;
afterAll(() => client.destroy());
beforeAll(async () => {
  const events = uniqueTableName(import.meta.url, 'events');
  const viewsTable = uniqueTableName(import.meta.url, 'views');
  await Promise.all([createEventStoreTable(client, events), createViewsTable(client, viewsTable)]);
  store = dynamoEventStore({ client, tableName: events, types: eventTypes });
  // A producer that knows a type this code does not (deployed before its consumers).
  newerProducer = dynamoEventStore({ client, tableName: events, types: {
    sourceOf: (t) => (isKnownEventType(t) ? catalog[t].source : 'shiplog.ingest'),
    schemaVersionOf: (t) => (isKnownEventType(t) ? catalog[t].schemaVersion : 1),
    upcast: (e) => e,
  } });
  views = dynamoViewStore({ client, tableName: viewsTable });
});

let n = 0;
/** A scenario of a fresh project, with its events appended to the store (positions from the store). */
const stored = async (build: (s: Scenario) => void): Promise<{ s: Scenario; events: StoredEvent[]; p: string }> => {
  const p = `run-${++n}-${Date.now().toString(36)}`;
  const s = scenario(p);
  build(s);
  const events = await appendAsStored(newerProducer, s.events);
  return { s, events, p };
};
const bus = (e: StoredEvent) => toEventBridgeEvent(e, 'shiplog.test');
const ns = (name: string) => namespaceOf(name, 'g1');
const deployment = async (d: string) => (await views.get(ns('deployments'), deploymentKeys.deployment(d))) as DeploymentView | undefined;

describe('projection runner (DynamoDB Local)', () => {
  it('folds delivered events into the read models, each once', async () => {
    const { events, p } = await stored((s) => { s.created(); ship(s, 'd-a1'); });
    const handle = makeProjectionHandler({ store, views });
    for (const e of events) await handle(bus(e));
    for (const e of events) await handle(bus(e));
    expect(await deployment('d-a1')).toMatchObject({ status: 'ready', timeline: expect.any(Array) });
    expect((await deployment('d-a1'))!.timeline).toHaveLength(8);
    expect(await views.get(ns('projects'), projectKeys.project(p))).toMatchObject({ liveDeploymentId: 'd-a1', deploymentCount: 1 });
  });

  it('fills a gap from the store when an event arrives before its predecessors', async () => {
    const { events } = await stored((s) => { s.created(); ship(s, 'd-b1'); });
    const handle = makeProjectionHandler({ store, views });
    // Only the last event is delivered: everything before it in its stream comes from the store.
    await handle(bus(events.at(-1)!));
    const v = await deployment('d-b1');
    expect(v?.timeline.map((t) => t.type)).toEqual(['AssetsUploaded', 'FunctionVersionPublished', 'AliasShifted', 'DeploymentLive']);
    expect(v?.status).toBe('ready');
    const applied = await views.appliedVersions(ns('deployments'), ['release#' + events[0]!.metadata.projectId + '#production']);
    expect([...applied.values()]).toEqual([4]);
  });

  it('applies concurrent and duplicate deliveries exactly once', async () => {
    const { events, p } = await stored((s) => { s.created(); for (const d of ['d-c1', 'd-c2', 'd-c3']) ship(s, d); });
    const handle = makeProjectionHandler({ store, views });
    const deliveries = [...events, ...events, ...events].sort(() => Math.random() - 0.5);
    // Eight at a time, like the local bus's per-subscription concurrency.
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < deliveries.length) await handle(bus(deliveries[next++]!));
    }));
    const project = (await views.get(ns('projects'), projectKeys.project(p))) as ProjectView;
    expect(project.deploymentCount).toBe(3);
    for (const d of ['d-c1', 'd-c2', 'd-c3']) {
      const v = await deployment(d);
      expect(v?.timeline.length).toBe(new Set(v?.timeline.map((t) => t.eventId)).size);
      expect(v?.status).toBe('ready');
    }
  });

  it('ignores event types it does not know, moving past them', async () => {
    const { events, p } = await stored((s) => { s.created(); s.unknown(); s.envSet('A', 'production', 1); });
    const handle = makeProjectionHandler({ store, views });
    for (const e of events) await handle(bus(e));
    expect((await views.appliedVersions(ns('projects'), [`project#${p}`])).get(`project#${p}`)).toBe(3);
    expect(await views.get(ns('projects'), projectKeys.envVar(p, 'production', 'A'))).toMatchObject({ version: 1 });
  });

  it('refuses what is not a shiplog event without retrying, and asks for a retry when the store lacks a predecessor', async () => {
    const handle = makeProjectionHandler({ store, views });
    await expect(handle({ 'detail-type': 'BuildStarted', detail: {} } as never)).rejects.toBeInstanceOf(InvalidProjectionEventError);
    const { events } = await stored((s) => { s.created(); s.envSet('A', 'production', 1); });
    const bad = bus(events[1]!);
    bad.detail.data = { projectId: events[1]!.metadata.projectId };
    await expect(handle(bad)).rejects.toMatchObject({ retryable: false });
    const ahead = bus(events[1]!);
    ahead.detail.metadata = { ...ahead.detail.metadata, streamId: `project#nowhere-${n}`, version: 3 };
    await expect(handle(ahead)).rejects.toMatchObject({ name: 'StreamGapError', retryable: true });
  });

  it('applies a long stream in batches that fit one transaction', async () => {
    const { events, p } = await stored((s) => { s.created(); for (let v = 1; v <= 120; v++) s.envSet(`V${v % 95}`, 'production', v); });
    const runner = makeProjectionRunner({ store, views, projections: defaultProjections().filter((x) => x.name === 'projects') });
    await runner.handle(bus(events.at(-1)!));
    expect((await views.appliedVersions(ns('projects'), [`project#${p}`])).get(`project#${p}`)).toBe(121);
    expect((await views.query(ns('projects'), projectKeys.envVars(p))).items).toHaveLength(95);
  });
});
