import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createEventStoreTable, dynamoEventStore } from '../../events/store/index.ts';
import { eventTypes } from '../../events/upcasters.ts';
import { platformApi, routeTable } from '../../infra/http/app.ts';
import { nodeListener } from '../../infra/http/node.ts';
import { localLogStore } from '../../services/build/adapters/log-store/local.ts';
import { localSiteHost } from '../../services/deploy/adapters/site-host/local.ts';
import { testApiAuth, type TestApiAuth } from '../../test/support/api-auth.ts';
import { testDynamoClient, uniqueTableName } from '../../test/support/dynamo.ts';
import { fakeRuntime, runCommand } from '../../test/support/local-projections.ts';
import { appendAsStored, scenario } from '../../test/support/scenario-events.ts';
import { releaseCommands } from './projects.ts';
import { deploymentsCommand, logsCommand, type DeploymentRow } from './deployments.ts';

// The CLI against the real deployment routes over DynamoDB Local, behind a front that can
// answer 503 to the next polls (shiplog restarting).
const client = testDynamoClient();
let rt: ReturnType<typeof fakeRuntime>;
let api: Server;
let front: Server;
let apiPort = 0;
let auth: TestApiAuth;
let dataDir: string;
let fail503 = 0;
let cutStreams = false;
const paths: string[] = [];
let store: ReturnType<typeof dynamoEventStore>;
const served = { failed: 0, passed: 0 };

beforeAll(async () => {
  const events = uniqueTableName(import.meta.url, 'events');
  await createEventStoreTable(client, events);
  store = dynamoEventStore({ client, tableName: events, types: eventTypes });
  const s = scenario('cli');
  s.created();
  s.requested('d1'); s.queued('d1'); s.started('d1'); s.succeeded('d1'); s.assets('d1'); s.published('d1'); s.live('d1');
  s.requested('d2', { n: 2 }); s.queued('d2'); s.started('d2'); s.succeeded('d2'); s.assets('d2'); s.published('d2'); s.live('d2');
  s.requested('d3', { n: 3 }); s.queued('d3'); s.started('d3'); s.failed('d3'); s.deployFailed('d3', 'build');
  await appendAsStored(store, s.events);
  dataDir = mkdtempSync(join(tmpdir(), 'shiplog-cli-deployments-'));
  const host = localSiteHost({ dataDir, port: 3001 });
  auth = await testApiAuth(client, import.meta.url);
  const app = platformApi({ deployments: { store, logs: localLogStore(dataDir), host, urls: (i) => host.urls(i) }, guard: auth.guard });
  api = createServer(nodeListener(app));
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  apiPort = (api.address() as AddressInfo).port;
  front = createServer((req, res) => {
    paths.push(req.url ?? '');
    // A stream that drops at once: headers, then the connection is cut.
    if (cutStreams && req.url?.includes('/events')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      return void res.socket?.destroy();
    }
    if (fail503 > 0 && req.url?.startsWith('/api/deployments/')) {
      fail503--;
      served.failed++;
      return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"restarting"}');
    }
    served.passed++;
    const upstream = request({ host: '127.0.0.1', port: apiPort, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  rt = fakeRuntime({ dynamoEndpoint: inject('dynamoEndpoint'), tables: { events }, apiUrl: `http://127.0.0.1:${(front.address() as AddressInfo).port}` });
  process.env.SHIPLOG_TOKEN = auth.token;
});
afterAll(async () => {
  delete process.env.SHIPLOG_TOKEN;
  rt?.remove();
  front?.closeAllConnections();
  api?.closeAllConnections();
  await new Promise((r) => front?.close(r));
  await new Promise((r) => api?.close(r));
  rmSync(dataDir, { recursive: true, force: true });
});

const run = (cmd: Parameters<typeof runCommand>[0], args: string[]) => rt.use(() => runCommand(cmd, args));

describe('shiplog deployments list|get: which deployment is current', () => {
  it('marks only the deployment production serves now as current, though both went live', async () => {
    const rows = JSON.parse(await run(deploymentsCommand(), ['list', 'cli', '--json'])) as DeploymentRow[];
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
    expect(byId.d2).toMatchObject({ status: 'ready', live: true, current: ['production'] });
    expect(byId.d1).toMatchObject({ status: 'ready', live: true, current: [] });
    expect(byId.d3).toMatchObject({ status: 'error', live: false, current: [] });
    const text = (await run(deploymentsCommand(), ['list', 'cli'])).split('\n');
    expect(text[0]).toMatch(/^ID\s+STATUS\s+CURRENT\s+TARGET/);
    expect(text.find((l) => l.startsWith('d2 '))).toMatch(/^d2\s+ready\s+production\s/);
    expect(text.find((l) => l.startsWith('d1 '))).toMatch(/^d1\s+ready\s+-\s/);
    expect(JSON.parse(await run(deploymentsCommand(), ['get', 'd1', '--json']))).toMatchObject({ id: 'd1', current: [] });
    expect(await run(deploymentsCommand(), ['get', 'd2'])).toMatch(/^d2 {2}ready {2}current: production /);
  });
});

describe('shiplog deployments wait / logs --follow', () => {
  it('fail at once with one clear line for an unknown deployment', async () => {
    await expect(run(deploymentsCommand(), ['wait', 'nope'])).rejects.toThrow(/^no deployment "nope" \(`shiplog deployments list <project>` lists them\)$/);
    await expect(run(logsCommand(), ['nope', '--follow'])).rejects.toThrow(/^no deployment "nope"/);
    await expect(run(logsCommand(), ['nope'])).rejects.toThrow(/^no deployment "nope"/);
    await expect(run(deploymentsCommand(), ['get', 'nope'])).rejects.toThrow(/^no deployment "nope"/);
  });

  it('wait retries polls that fail with 5xx, then reports the outcome', async () => {
    fail503 = 2;
    const before = { ...served };
    const out = await run(deploymentsCommand(), ['wait', 'd2', '--json']);
    expect(out.trim().split('\n').map((l) => JSON.parse(l) as { status: string }).at(-1)).toMatchObject({ id: 'd2', status: 'live' });
    expect(served.failed - before.failed).toBe(2);
    await expect(run(deploymentsCommand(), ['wait', 'd3'])).rejects.toThrow(/^deployment d3 error/);
  });
});

describe('shiplog deployments wait: driven by the deployment\'s event stream', () => {
  // d4 and d5 of their own project, building until the test ships them.
  const building = async (d: string) => {
    const s = scenario(`cli-${d}`);
    s.created(); s.requested(d); s.queued(d); s.started(d);
    const from = s.events.length;
    s.succeeded(d); s.assets(d); s.published(d); s.live(d);
    const append = (events: typeof s.events) => appendAsStored(store, events);
    await append(s.events.slice(0, from));
    return () => append(s.events.slice(from));
  };

  it('reads the deployment once, then follows its events until it is live', async () => {
    const ship = await building('d4');
    const before = paths.length;
    const waiting = run(deploymentsCommand(), ['wait', 'd4', '--json']);
    await expect.poll(() => paths.slice(before).some((p) => p.startsWith('/api/deployments/d4/events?follow=1'))).toBe(true);
    await ship();
    const lines = (await waiting).trim().split('\n').map((l) => JSON.parse(l) as { status: string });
    expect(lines.map((l) => l.status)).toEqual(['building', 'deploying', 'live']);
    expect(paths.slice(before).filter((p) => p === '/api/deployments/d4')).toHaveLength(1);
  });

  it('falls back to polling with backoff when the stream drops, and still reports the outcome', async () => {
    const ship = await building('d5');
    const before = paths.length;
    cutStreams = true;
    try {
      const waiting = run(deploymentsCommand(), ['wait', 'd5', '--json']);
      await expect.poll(() => paths.slice(before).filter((p) => p.startsWith('/api/deployments/d5/events')).length).toBeGreaterThanOrEqual(2);
      await ship();
      const lines = (await waiting).trim().split('\n').map((l) => JSON.parse(l) as { status: string });
      expect(lines.at(-1)).toMatchObject({ id: 'd5', status: 'live' });
      expect(paths.slice(before).filter((p) => p === '/api/deployments/d5').length).toBeGreaterThanOrEqual(2);
    } finally {
      cutStreams = false;
    }
  });
});

describe('shiplog promote', () => {
  it('refuses a deployment that is not ready and says to redeploy, without calling promote', async () => {
    await expect(run(releaseCommands().find((c) => c.name() === 'promote')!, ['d3'])).rejects.toThrow(
      'deployment d3 is not ready (failed); use `shiplog redeploy d3`',
    );
    await expect(run(releaseCommands().find((c) => c.name() === 'promote')!, ['d2'])).rejects.toThrow('deployment d2 is already current on production');
    await expect(run(releaseCommands().find((c) => c.name() === 'promote')!, ['nope'])).rejects.toThrow(/^no deployment "nope"/);
  });
});

describe('malformed API paths answer 400', () => {
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${apiPort}${path}`, { headers: auth.headers });
    return { status: res.status, body: (await res.json()) as { error: string } };
  };

  it('answers 400 for %ZZ in any parameter of any route, and for a bad project name in /aliases', async () => {
    const routes = routeTable(platformApi({ deployments: { store: { readProject: async () => [], readDeployment: async () => [] }, logs: localLogStore(dataDir), host: localSiteHost({ dataDir, port: 1 }), urls: () => ({ deployment: '', production: '' }) }, guard: auth.guard }));
    const withParams = routes.filter((r) => r.method === 'GET' && r.path.includes(':'));
    expect(withParams.length).toBeGreaterThanOrEqual(4);
    for (const r of withParams) {
      const res = await get(r.path.replace(/:[^/]+/g, '%ZZ'));
      expect(res.status, r.path).toBe(400);
      expect(res.body.error, r.path).toMatch(/^malformed path/);
    }
    expect(await get('/api/projects/Bad_Name/aliases')).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^invalid project name "Bad_Name"/) } });
    expect(await get('/api/projects/cli/aliases')).toMatchObject({ status: 200 });
    expect(await get('/api/deployments/nope/logs?follow=1')).toMatchObject({ status: 404 });
  });
});
