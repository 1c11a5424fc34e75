import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteItemCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import type { StoredEvent } from '../../../events/index.ts';
import { toItem } from '../../../events/store/codec.ts';
import { createEventStoreTable, dynamoEventStore, type EventStore } from '../../../events/store/index.ts';
import { eventTypes } from '../../../events/upcasters.ts';
import type { PlatformApiDeps } from '../../../infra/http/app.ts';
import { platformApi } from '../../../infra/http/app.ts';
import { nodeListener } from '../../../infra/http/node.ts';
import type { DeploymentRouteDeps } from '../../../infra/http/routes/deployments.ts';
import { dynamoClient } from '../../../infra/local/dynamodb-local.ts';
import { eventFeed } from '../../../infra/local/event-feed.ts';
import { streamOutbox } from '../../../infra/local/outbox.ts';
import { bulkDocOf, defaultProjections, dynamoViewStore, fromStored, localUrls, memoryFold, namespaceOf, createViewsTable, projectionPositions, readModels } from '../../../projections/index.ts';
import { localLogStore } from '../../../services/build/adapters/log-store/local.ts';
import { localSiteHost } from '../../../services/deploy/adapters/site-host/local.ts';
import { sseMessages } from '../../../cli/sse.ts';
import { generateHistory, toNewEvent } from '../../property/generator.ts';
import { newId } from '../../support/events.ts';
import { scenario } from '../../support/scenario-events.ts';
import { latencyRow, type BenchRow, type BenchSuite } from '../lib.ts';

// 1. `GET /api/projects/<p>/deployments` for a project with a long history, CLIENTS clients in
//    parallel, served from the read models vs the old fold of the project's history (same run).
// 2. A deployment's state change → a follower notices it: the SSE event stream (what
//    `deployments wait` follows) vs the old 1 s poll of `GET /api/deployments/:id`.
const DEPLOYMENTS = Number(process.env.BENCH_LIST_DEPLOYMENTS ?? 300);
const CLIENTS = 20;
const REQUESTS_PER_CLIENT = Number(process.env.BENCH_LIST_REQUESTS ?? 10);
const NOTICES = Number(process.env.BENCH_WAIT_SAMPLES ?? 20);

const fill = async (client: DynamoDBClient, tableName: string, events: StoredEvent[]) => {
  const items = events.map((e) => toItem(e.metadata.streamId, e.metadata.version, toNewEvent(e), eventTypes.schemaVersionOf(e.type), eventTypes.sourceOf(e.type), e.metadata.occurredAt, 0));
  for (let i = 0; i < items.length; i += 25 * 8) {
    await Promise.all(Array.from({ length: 8 }, async (_, k) => {
      let pending: WriteRequest[] | undefined = items.slice(i + k * 25, i + (k + 1) * 25).map((Item) => ({ PutRequest: { Item } }));
      while (pending && pending.length > 0) pending = (await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }))).UnprocessedItems?.[tableName];
    }));
  }
};

const listen = async (app: ReturnType<typeof platformApi>): Promise<{ url: string; server: Server }> => {
  const server = createServer(nodeListener(app));
  // Slow answers (the fold) must not meet a keep-alive connection the server is closing.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
};

// An API whose token check accepts one fixed token (the bench measures the routes, not auth).
const guard: PlatformApiDeps['guard'] = { verify: async (t) => (t === 'shp_bench' ? ({ id: 'bench', name: 'bench', kind: 'admin' } as never) : undefined) };
const headers = { authorization: 'Bearer shp_bench' };

export const deploymentsBench: BenchSuite = async ({ dynamo }) => {
  const dynamoEndpoint = await dynamo();
  const rows: BenchRow[] = [];
  const client = dynamoClient(dynamoEndpoint);
  const eventsTable = `bench-dl-events-${newId()}`;
  const viewsTable = `bench-dl-views-${newId()}`;
  await Promise.all([createEventStoreTable(client, eventsTable), createViewsTable(client, viewsTable)]);
  let outboxWake = () => {};
  const store: EventStore = dynamoEventStore({ client, tableName: eventsTable, types: eventTypes, onCommitted: () => outboxWake() });
  const views = dynamoViewStore({ client, tableName: viewsTable, writeConcurrency: 16 });
  const dataDir = mkdtempSync(join(tmpdir(), 'shiplog-bench-deployments-'));
  const host = localSiteHost({ dataDir, port: 3001 });
  const feed = eventFeed();
  const base: DeploymentRouteDeps = { store, logs: localLogStore(dataDir), host, urls: (i) => host.urls(i) };
  const servers: Server[] = [];
  const outbox = streamOutbox({ endpoint: dynamoEndpoint, client, tableName: eventsTable, checkpointTable: `bench-dl-outbox-${newId()}`, bus: feed.tap({ publish: async () => {} }) });
  try {
    // 1. one project with a long history in the store and in its read models
    const history = generateHistory({ seed: 7, prefix: 'bench-list', projects: [1, 1], deploymentsPerProject: [DEPLOYMENTS, DEPLOYMENTS] });
    const projectId = history.projects[0]!;
    await fill(client, eventsTable, history.events);
    const now = new Date().toISOString();
    for (const projection of defaultProjections()) {
      const fold = memoryFold(projection);
      for (const e of history.events) fold.apply(fromStored(e));
      await views.bulkPut(namespaceOf(projection.name, 'g1'), [...fold.docs.values()].map((d) => bulkDocOf(projection, d)), fold.applied);
      await views.writeRegistry({ name: projection.name, active: { generation: 'g1', version: projection.version, since: now }, building: null, watermark: null, nextGeneration: 2 }, undefined);
    }
    const models = { models: readModels({ views, urls: localUrls(3001) }), positions: projectionPositions({ store, views }) };
    const fromModels = await listen(platformApi({ deployments: { ...base, readModels: models, feed }, guard }));
    const folding = await listen(platformApi({ deployments: base, guard }));
    servers.push(fromModels.server, folding.server);

    const path = `/api/projects/${projectId}/deployments`;
    const parallel = async (url: string): Promise<number[]> => {
      const times: number[] = [];
      await Promise.all(Array.from({ length: CLIENTS }, async () => {
        for (let i = 0; i < REQUESTS_PER_CLIENT; i++) {
          const t0 = performance.now();
          const res = await fetch(`${url}${path}`, { headers });
          if (res.status !== 200) throw new Error(`${url}${path} answered ${res.status}`);
          await res.arrayBuffer();
          times.push(performance.now() - t0);
        }
      }));
      return times.sort((a, b) => a - b);
    };
    const check = (await (await fetch(`${fromModels.url}${path}`, { headers })).json()) as unknown[];
    await parallel(fromModels.url); // warm-up
    const folded = await parallel(folding.url);
    const served = await parallel(fromModels.url);
    rows.push(latencyRow(`deployments list, ${check.length} deployments (${history.events.length} events), ${CLIENTS} parallel clients: read models (vs fold of the history)`, served, folded));

    // 2. state change → noticed
    await outbox.start();
    outboxWake = () => outbox.wake();
    const building = async (d: string) => {
      const s = scenario(`bench-wait-${newId().toLowerCase().slice(-8)}`);
      s.created(); s.requested(d); s.queued(d); s.started(d);
      const from = s.events.length;
      s.succeeded(d);
      const append = async (events: StoredEvent[]) => {
        for (const e of events) {
          const { streamId: _s, version, schemaVersion: _v, ...metadata } = e.metadata;
          await store.append(e.metadata.streamId, [{ type: e.type, data: e.data, metadata }], { expectedVersion: version - 1 });
        }
      };
      await append(s.events.slice(0, from));
      return () => append(s.events.slice(from));
    };
    const streamed: number[] = [];
    for (let i = 0; i < NOTICES; i++) {
      const d = `bench-sse-${i}-${newId()}`;
      const change = await building(d);
      const res = await fetch(`${fromModels.url}/api/deployments/${d}/events?follow=1`, { headers: { ...headers, accept: 'text/event-stream' } });
      let t0 = 0;
      for await (const m of sseMessages(res.body!)) {
        if (m.event === 'caught-up') {
          t0 = performance.now();
          void change();
        } else if (t0 && m.event === 'deployment-event' && (JSON.parse(m.data) as { deployment: { status: string } }).deployment.status === 'deploying') {
          streamed.push(performance.now() - t0);
          break;
        }
      }
      await res.body!.cancel().catch(() => undefined);
    }
    const polled: number[] = [];
    for (let i = 0; i < Math.max(5, Math.round(NOTICES / 2)); i++) {
      const d = `bench-poll-${i}-${newId()}`;
      const change = await building(d);
      // The old `wait`: a poll, then 1 s, then another; the change lands anywhere in between.
      let t0 = 0;
      setTimeout(() => { t0 = performance.now(); void change(); }, Math.random() * 1000);
      for (;;) {
        const row = (await (await fetch(`${folding.url}/api/deployments/${d}`, { headers })).json()) as { status: string };
        if (row.status === 'deploying' && t0) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      polled.push(performance.now() - t0);
    }
    rows.push(latencyRow('deployment state change → `deployments wait` notices: event stream (vs the old 1 s poll)', streamed.sort((a, b) => a - b), polled.sort((a, b) => a - b)));
  } finally {
    await outbox.stop();
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    client.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return rows;
};
