import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredEvent } from '../../../events/index.ts';
import { startDashboard } from '../../../infra/local/dashboard.ts';
import { dynamoClient, freePort } from '../../../infra/local/dynamodb-local.ts';
import { ensureAdminCredential, readSessionKey } from '../../../dashboard/lib/auth/credential.ts';
import { issueSession, SESSION_COOKIE } from '../../../dashboard/lib/auth/session.ts';
import { deliverySeries } from '../../../dashboard/lib/metrics.ts';
import { defaultProjections } from '../../../projections/all.ts';
import { bulkDocOf, memoryFold } from '../../../projections/fold.ts';
import { fromStored } from '../../../projections/incoming.ts';
import { readModels } from '../../../projections/queries.ts';
import { dynamoViewStore } from '../../../projections/store/dynamo-view-store.ts';
import { namespaceOf } from '../../../projections/store/ports.ts';
import { createViewsTable } from '../../../projections/store/table.ts';
import { localUrls } from '../../../projections/urls.ts';
import { generateHistory } from '../../property/generator.ts';
import { newId } from '../../support/events.ts';
import { latencyRow, sample, type BenchRow, type BenchSuite } from '../lib.ts';

// The project page of the dashboard (server response, whole body, metrics panel included) for
// a project with DEPLOYMENTS deployments in its read models, against the read-model calls the
// page makes, made directly.
const DEPLOYMENTS = Number(process.env.BENCH_DASHBOARD_DEPLOYMENTS ?? 10_000);
const REQUESTS = Number(process.env.BENCH_DASHBOARD_REQUESTS ?? 200);
const SPAN_DAYS = 365;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/;

// The generator packs a history into days; stretch it over a year that ends now, so the
// 30-day and 12-week windows of the metrics see a realistic share of it.
const stretch = (events: StoredEvent[]): StoredEvent[] => {
  const t0 = Date.parse(events[0]!.metadata.occurredAt);
  const t1 = Date.parse(events.at(-1)!.metadata.occurredAt);
  const end = Date.now() - 60_000;
  const k = (SPAN_DAYS * 86_400_000) / Math.max(1, t1 - t0);
  const map = (v: unknown): unknown => {
    if (typeof v === 'string' && ISO.test(v)) return new Date(end - (t1 - Date.parse(v.slice(0, 24))) * k).toISOString() + v.slice(v.indexOf('Z') + 1);
    if (Array.isArray(v)) return v.map(map);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([key, x]) => [key, map(x)]));
    return v;
  };
  return events.map((e) => map(e) as StoredEvent);
};

const get = (port: number, path: string, cookie: string): Promise<{ status: number; ttfb: number; bytes: number }> =>
  new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ host: '127.0.0.1', port, path, headers: { cookie, host: `localhost:${port}` } }, (res) => {
      const ttfb = performance.now() - t0;
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ttfb, bytes }));
    });
    req.on('error', reject);
    req.end();
  });

export const dashboardBench: BenchSuite = async ({ dynamo }) => {
  const dynamoEndpoint = await dynamo();
  const rows: BenchRow[] = [];
  const client = dynamoClient(dynamoEndpoint);
  const viewsTable = `bench-dash-views-${newId()}`;
  await createViewsTable(client, viewsTable);
  const views = dynamoViewStore({ client, tableName: viewsTable, writeConcurrency: 16 });

  // 1. one project with DEPLOYMENTS deployments, folded in memory and bulk-loaded as the read models
  const history = generateHistory({ seed: 11, prefix: 'bench', projects: [1, 1], deploymentsPerProject: [Math.ceil(DEPLOYMENTS * 1.09), Math.ceil(DEPLOYMENTS * 1.09)] });
  const projectId = history.projects[0]!;
  const events = stretch(history.events);
  const now = new Date().toISOString();
  for (const projection of defaultProjections()) {
    const fold = memoryFold(projection);
    for (const e of events) fold.apply(fromStored(e));
    const ns = namespaceOf(projection.name, 'g1');
    await views.bulkPut(ns, [...fold.docs.values()].map((d) => bulkDocOf(projection, d)), fold.applied);
    await views.writeRegistry({ name: projection.name, active: { generation: 'g1', version: projection.version, since: now }, building: null, watermark: null, nextGeneration: 2 }, undefined);
  }
  const models = readModels({ views, urls: localUrls(3001) });
  const project = (await models.getProject(projectId))!;

  // 2. the dashboard (Next in its own process, behind startDashboard's proxy, as shiplog dev serves it), signed in
  const dataDir = mkdtempSync(join(tmpdir(), 'shiplog-bench-dashboard-'));
  const dashboard = startDashboard({
    dataDir, apiUrl: 'http://127.0.0.1:9', apiToken: 'shp_unused-the-page-reads-no-api', dynamoEndpoint, sitesPort: 3001, log: () => undefined,
    tables: { events: `bench-dash-events-unused-${newId()}`, views: viewsTable }, env: { SHIPLOG_ADMIN_PASSWORD: 'bench-password' },
  });
  const port = await freePort();
  const server: Server = createServer((req, res) => dashboard.handle(req, res));
  await new Promise<void>((r) => server.listen(port, r));
  try {
    await dashboard.ready;
    await ensureAdminCredential(join(dataDir, 'dashboard'), { password: 'bench-password' });
    const cookie = `${SESSION_COOKIE}=${issueSession(readSessionKey(join(dataDir, 'dashboard')), { id: 'admin', name: 'admin', provider: 'local' })}`;
    const path = `/projects/${projectId}`;
    const first = await get(port, path, cookie);
    if (first.status !== 200) throw new Error(`the project page answered ${first.status}`);

    // 3. baseline: what the page reads, read directly (same parallelism as the page)
    const direct = async () => {
      const [p] = await Promise.all([models.getProject(projectId), models.listDeployments(projectId, { limit: 20 })]);
      await Promise.all([
        p?.liveDeploymentId ? models.getDeployment(p.liveDeploymentId) : undefined,
        deliverySeries(views, projectId, { days: 30, weeks: 12 }),
        models.listDeployments(projectId, { limit: 30 }),
      ]);
    };
    for (let i = 0; i < 20; i++) await Promise.all([get(port, path, cookie), direct()]);
    const baseline = await sample(REQUESTS, direct);
    const ttfb: number[] = [];
    const pageTimes = await sample(REQUESTS, async () => ttfb.push((await get(port, path, cookie)).ttfb));
    const label = `project page, ${project.deploymentCount} deployments in its projection`;
    rows.push(latencyRow(`${label}: whole response (vs its read-model calls made directly)`, pageTimes, baseline));
    rows.push(latencyRow(`${label}: first byte (vs the same calls)`, ttfb.sort((a, b) => a - b), baseline));
    const filtered = await sample(Math.min(REQUESTS, 50), () => get(port, `${path}?status=error`, cookie));
    rows.push(latencyRow(`${label}: filtered to status=error (vs the same calls)`, filtered, baseline));
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await dashboard.close();
    client.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return rows;
};
