import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLocalBusTables, deadLetterQueue, deliveryJournal, localBus, type LocalBus } from '../../../events/bus/local/index.ts';
import type { StoredEvent } from '../../../events/index.ts';
import { createEventStoreTable, dynamoEventStore, type EventStore } from '../../../events/store/index.ts';
import { eventTypes } from '../../../events/upcasters.ts';
import { createViewsTable, dynamoViewStore, localUrls, makeProjectionRunner, projectionPositions, readModels } from '../../../projections/index.ts';
import { localLogStore } from '../../../services/build/adapters/log-store/local.ts';
import { localSiteHost } from '../../../services/deploy/adapters/site-host/local.ts';
import { testApiAuth, type TestApiAuth } from '../../../test/support/api-auth.ts';
import { testDynamoClient, uniqueTableName } from '../../../test/support/dynamo.ts';
import { appendAsStored, scenario, type Scenario } from '../../../test/support/scenario-events.ts';
import { eventFeed } from '../../local/event-feed.ts';
import { streamOutbox, type StreamOutbox } from '../../local/outbox.ts';
import { subscriptions } from '../../topology.ts';
import { platformApi } from '../app.ts';
import { nodeListener } from '../node.ts';
import { sseMessages } from '../../../cli/sse.ts';
import type { DeploymentRouteDeps } from './deployments.ts';

// The deployment routes over DynamoDB Local with the whole local pipeline: store → outbox (its
// DynamoDB stream) → the event feed and the local bus → the projection runner → read models.
// The Projections subscription can be held (`hold`), so a test sees the read models lag.
const client = testDynamoClient();
let store: EventStore;
let bus: LocalBus;
let outbox: StreamOutbox;
let auth: TestApiAuth;
let dataDir: string;
const servers: Server[] = [];
let release: () => void = () => {};
let held: Promise<void> = Promise.resolve();
const hold = () => (held = new Promise((r) => (release = r)));

const serve = async (extra: Partial<DeploymentRouteDeps>, withReadModels = true): Promise<string> => {
  const views = dynamoViewStore({ client, tableName: viewsTable });
  const host = localSiteHost({ dataDir, port: 3001 });
  const app = platformApi({
    deployments: {
      store, logs: localLogStore(dataDir), host, urls: (i) => host.urls(i),
      ...(withReadModels ? { readModels: { models: readModels({ views, urls: localUrls(3001), cacheMs: 0 }), positions: projectionPositions({ store, views }) } } : {}),
      ...extra,
    },
    guard: auth.guard,
  });
  const server = createServer(nodeListener(app));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

let viewsTable: string;
const feed = eventFeed();
let api: string;
let folding: string;

beforeAll(async () => {
  const events = uniqueTableName(import.meta.url, 'events');
  viewsTable = uniqueTableName(import.meta.url, 'views');
  const deliveries = uniqueTableName(import.meta.url, 'deliveries');
  const deadLetters = uniqueTableName(import.meta.url, 'dead');
  const checkpoints = uniqueTableName(import.meta.url, 'outbox');
  await Promise.all([createEventStoreTable(client, events), createViewsTable(client, viewsTable), createLocalBusTables(client, { deliveries, deadLetters })]);
  store = dynamoEventStore({ client, tableName: events, types: eventTypes, onCommitted: () => outbox?.wake() });
  const runner = makeProjectionRunner({ store, views: dynamoViewStore({ client, tableName: viewsTable }) });
  const projections = subscriptions.find((s) => s.name === 'Projections')!;
  bus = localBus({
    subscribers: [{ name: projections.name, pattern: projections.pattern, policy: projections.policy, handle: async (e) => { await held; await runner.handle(e); } }],
    journal: deliveryJournal(client, deliveries),
    deadLetters: deadLetterQueue(client, deadLetters),
    baseDelayMs: 20,
  });
  await bus.start();
  outbox = streamOutbox({ endpoint: inject('dynamoEndpoint'), client, tableName: events, checkpointTable: checkpoints, bus: feed.tap(bus) });
  await outbox.start();
  dataDir = mkdtempSync(join(tmpdir(), 'shiplog-deployment-routes-'));
  auth = await testApiAuth(client, import.meta.url);
  // A shared 2-core machine folds slowly: wait long for the read models (the fallback has its own test).
  api = await serve({ feed, afterWaitMs: 60_000 });
  folding = await serve({}, false);
});
afterAll(async () => {
  release();
  await outbox?.stop();
  await bus?.stop();
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  rmSync(dataDir, { recursive: true, force: true });
});

let n = 0;
const project = () => `rt-${++n}-${Date.now().toString(36)}`;
const append = (s: Scenario, from = 0): Promise<StoredEvent[]> =>
  appendAsStored(store, s.events.slice(from));
const ship = (s: Scenario, d: string, n: number) => { s.requested(d, { n }); s.queued(d); s.started(d); s.succeeded(d); s.assets(d); s.published(d); s.live(d); };
const get = async (base: string, path: string) => {
  const res = await fetch(`${base}${path}`, { headers: auth.headers });
  return { status: res.status, read: res.headers.get('x-shiplog-read'), body: (await res.json()) as unknown };
};
// Which side answered and what: a poll for the read models' own answer (the route answers from
// the store while they still lag).
const answer = async (base: string, path: string) => {
  const { read, body } = await get(base, path);
  return { read, body };
};

describe('deployment lists and details from the read models', () => {
  it('answer exactly what the fold of the store answers, current aliases included', async () => {
    const p = project();
    const s = scenario(p);
    s.created();
    ship(s, `${p}-d1`, 1);
    ship(s, `${p}-d2`, 2);
    s.requested(`${p}-d3`, { n: 3 }); s.queued(`${p}-d3`); s.started(`${p}-d3`); s.failed(`${p}-d3`); s.deployFailed(`${p}-d3`, 'build');
    s.rollbackRequested(`${p}-d1`); s.rolledBack(`${p}-d1`);
    await append(s);
    const folded = await get(folding, `/api/projects/${p}/deployments`);
    expect(folded).toMatchObject({ status: 200, read: 'store' });
    // `?after` waits for one stream (the caller's own command); here many streams were appended at
    // once and the bus delivers them in any order, so wait until the read models have them all.
    await expect.poll(async () => (await get(api, `/api/projects/${p}/deployments`)).body, { timeout: 30_000 }).toEqual(folded.body);
    const fromModels = await get(api, `/api/projects/${p}/deployments`);
    expect(fromModels).toMatchObject({ status: 200, read: 'read-model' });
    expect((fromModels.body as { id: string; current: string[] }[]).map((r) => [r.id, r.current])).toEqual([[`${p}-d3`, []], [`${p}-d2`, []], [`${p}-d1`, ['production']]]);
    for (const d of ['d1', 'd2', 'd3']) {
      const expected = (await get(folding, `/api/deployments/${p}-${d}`)).body;
      await expect.poll(async () => (await get(api, `/api/deployments/${p}-${d}`)).body, { timeout: 30_000 }).toEqual(expected);
      expect((await get(api, `/api/deployments/${p}-${d}`)).read).toBe('read-model');
    }
    expect((await get(api, '/api/deployments/nope')).status).toBe(404);
  });

  it('a read naming the caller\'s event waits until the read models have applied it (read-your-writes)', async () => {
    const p = project();
    const s = scenario(p);
    s.created();
    ship(s, `${p}-d1`, 1);
    await append(s);
    // The read models hold all of d1 first: its row and the alias it serves come from different streams.
    await expect.poll(async () => (await get(api, `/api/projects/${p}/deployments`)).body, { timeout: 30_000 })
      .toMatchObject([{ id: `${p}-d1`, status: 'ready', current: ['production'] }]);
    hold();
    // The caller's command appends one event to one stream (here: a new deployment is requested),
    // and the answer names that event.
    const from = s.events.length;
    s.requested(`${p}-d2`, { n: 2 });
    const [mine] = await append(s, from);
    expect(mine!.type).toBe('DeploymentRequested');
    // Without the event id the read models answer at once, without the new deployment.
    expect((await get(api, `/api/projects/${p}/deployments`)).body).toHaveLength(1);
    const waiting = get(api, `/api/projects/${p}/deployments?after=${mine!.metadata.eventId}`);
    release();
    const seen = await waiting;
    expect(seen.read).toBe('read-model');
    expect((seen.body as { id: string; status: string; current: string[] }[]).map((r) => [r.id, r.status, r.current]))
      .toEqual([[`${p}-d2`, 'queued', []], [`${p}-d1`, 'ready', ['production']]]);
  });

  it('a read naming the caller\'s event lists the caller\'s deployment even when the list index lags the table', async () => {
    const views = dynamoViewStore({ client, tableName: viewsTable });
    const models = readModels({ views, urls: localUrls(3001), cacheMs: 0 });
    const p = project();
    // The list index (a GSI, eventually consistent on AWS) has not caught up with d2 yet.
    const lagging = await serve({ afterWaitMs: 60_000, readModels: { models: { ...models, listDeployments: async (id, o) => {
      const page = await models.listDeployments(id, o);
      return { ...page, items: page.items.filter((d) => d.deploymentId !== `${p}-d2`) };
    } }, positions: projectionPositions({ store, views }) } });
    const s = scenario(p);
    s.created();
    ship(s, `${p}-d1`, 1);
    const from = s.events.length;
    ship(s, `${p}-d2`, 2);
    const mine = (await append(s)).at(from)!;
    expect(mine).toMatchObject({ type: 'DeploymentRequested', metadata: { deploymentId: `${p}-d2` } });
    // The table holds every stream of both deployments (they reach the read models in any order).
    // Answered by the read models themselves: the route answers from the store while they still lag.
    await expect.poll(() => answer(api, `/api/deployments/${p}-d2`), { timeout: 30_000 }).toMatchObject({ read: 'read-model', body: { status: 'ready', current: ['production'] } });
    await expect.poll(() => answer(api, `/api/deployments/${p}-d1`), { timeout: 30_000 }).toMatchObject({ read: 'read-model', body: { status: 'ready', current: [] } });
    expect((await get(lagging, `/api/projects/${p}/deployments`)).body).toMatchObject([{ id: `${p}-d1` }]);
    const seen = await get(lagging, `/api/projects/${p}/deployments?after=${mine.metadata.eventId}`);
    expect(seen.read).toBe('read-model');
    expect((seen.body as { id: string; status: string; current: string[] }[]).map((r) => [r.id, r.status, r.current])).toEqual([[`${p}-d2`, 'ready', ['production']], [`${p}-d1`, 'ready', []]]);
  });

  it('answers from the store while the read models hold a deployment without its request (a later event folded first)', async () => {
    const views = dynamoViewStore({ client, tableName: viewsTable });
    const models = readModels({ views, urls: localUrls(3001), cacheMs: 0 });
    const p = project();
    const s = scenario(p);
    s.created();
    ship(s, `${p}-d1`, 1);
    await append(s);
    // The same table, as it is while a deployment's BuildQueued is folded and its DeploymentRequested not yet.
    const partial = await serve({ readModels: { models: { ...models, getDeployment: async (id) => {
      const view = await models.getDeployment(id);
      return view && { ...view, target: null, alias: null, commit: null, requestedAt: null };
    } }, positions: projectionPositions({ store, views }) } });
    const seen = await get(partial, `/api/deployments/${p}-d1`);
    expect(seen.read).toBe('store');
    expect(seen.body).toMatchObject({ status: 'ready' });
    // The whole table answers the same, from the read models, once they have applied every stream
    // of d1. `?after=<d1's last event>` waits for that event's stream only (its build stream, which
    // sets the durations, may still lag), and a poll for the status alone could be answered by the
    // store: the poll is for the read models' own answer, equal to the store's.
    await expect.poll(() => answer(api, `/api/deployments/${p}-d1`), { timeout: 30_000 }).toEqual({ read: 'read-model', body: seen.body });
  });

  it('answers from the store when the read models do not catch up in time', async () => {
    const quick = await serve({ afterWaitMs: 50 });
    const p = project();
    const s = scenario(p);
    s.created();
    hold();
    ship(s, `${p}-d1`, 1);
    const mine = (await append(s)).at(-1)!;
    try {
      const seen = await get(quick, `/api/projects/${p}/deployments?after=${mine.metadata.eventId}`);
      expect(seen.read).toBe('store');
      expect(seen.body).toMatchObject([{ id: `${p}-d1`, status: 'ready', current: ['production'] }]);
      const one = await get(quick, `/api/deployments/${p}-d1?after=${mine.metadata.eventId}`);
      expect(one).toMatchObject({ read: 'store', body: { id: `${p}-d1`, current: ['production'] } });
    } finally {
      release();
    }
  });
});

// Reads an SSE response until `until` holds for the messages seen so far; then closes it.
const follow = async (res: Response, until: (frames: { id: string | undefined; type: string; status: string; live: boolean }[]) => boolean) => {
  const frames: { id: string | undefined; type: string; status: string; live: boolean }[] = [];
  for await (const m of sseMessages(res.body!)) {
    if (m.event !== 'deployment-event') continue;
    const f = JSON.parse(m.data) as { type: string; deployment: { status: string; live: boolean } };
    frames.push({ ...f.deployment, id: m.id, type: f.type });
    if (until(frames)) break;
  }
  await res.body!.cancel().catch(() => undefined);
  return frames;
};
const open = (base: string, path: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { headers: { ...auth.headers, accept: 'text/event-stream', ...headers } });

describe('GET /api/deployments/:id/events?follow=1 (SSE)', () => {
  it('sends the events so far with the state they lead to, then each new one as the outbox publishes it', async () => {
    const p = project();
    const d = `${p}-d1`;
    const s = scenario(p);
    s.created(); s.requested(d); s.queued(d); s.started(d);
    await append(s);
    const res = await open(api, `/api/deployments/${d}/events?follow=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const from = s.events.length;
    s.succeeded(d); s.assets(d); s.published(d); s.live(d);
    const more = append(s, from);
    const frames = await follow(res, (f) => f.some((x) => x.live));
    await more;
    expect(frames.slice(0, 3).map((f) => [f.type, f.status])).toEqual([['DeploymentRequested', 'queued'], ['BuildQueued', 'queued'], ['BuildStarted', 'building']]);
    expect(frames.at(-1)).toMatchObject({ status: 'ready', live: true });
    expect(new Set(frames.map((f) => f.id)).size).toBe(frames.length);

    // A reconnect with Last-Event-ID gets only what came after it.
    const again = await open(api, `/api/deployments/${d}/events?follow=1`, { 'last-event-id': frames[2]!.id! });
    const rest = await follow(again, (f) => f.some((x) => x.live));
    expect(rest.map((f) => f.id)).toEqual(frames.slice(3).map((f) => f.id));
  });

  it('without a feed, notices new events by re-reading the store; 404 for an unknown deployment; a list without follow', async () => {
    const polling = await serve({ pollMs: 50 });
    const p = project();
    const d = `${p}-d1`;
    const s = scenario(p);
    s.created(); s.requested(d); s.queued(d); s.started(d);
    await append(s);
    const res = await open(polling, `/api/deployments/${d}/events?follow=1`);
    const from = s.events.length;
    s.failed(d);
    await append(s, from);
    const frames = await follow(res, (f) => f.some((x) => x.status === 'error'));
    expect(frames.at(-1)).toMatchObject({ type: 'BuildFailed', status: 'error', live: false });
    expect((await open(polling, '/api/deployments/nope/events?follow=1')).status).toBe(404);
    const list = await get(polling, `/api/deployments/${d}/events`);
    expect((list.body as { type: string }[]).map((e) => e.type)).toEqual(['DeploymentRequested', 'BuildQueued', 'BuildStarted', 'BuildFailed']);
  });

  it('answers 401 without a token', async () => {
    expect((await fetch(`${api}/api/deployments/x/events?follow=1`)).status).toBe(401);
  });
});
