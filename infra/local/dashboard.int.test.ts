import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSessionKey } from '../../dashboard/lib/auth/credential.ts';
import { issueSession, SESSION_COOKIE } from '../../dashboard/lib/auth/session.ts';
import { startDashboard, type LocalDashboard } from './dashboard.ts';
import { freePort } from './dynamodb-local.ts';
import { startLocalRuntime, type LocalRuntime } from './runtime.ts';
import { isAlive } from '../../test/support/processes.ts';

// The dashboard runs Next.js in a process of its own (dashboard-server.mjs) behind a proxy in the
// platform's process: Next's replacements of fetch, timers, Date, console and NODE_ENV stay there.
// Both suites need a dashboard build of the current sources; the first start makes one.

/** Live processes whose parent is this one and that run the dashboard's server. */
const dashboardChildren = (): number[] =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return state !== 'Z' && Number(ppid) === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('dashboard-server.mjs');
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);


/** A GET that resolves at the response's head; `body` collects what has arrived so far. */
const open = (url: string, headers: Record<string, string> = {}) =>
  new Promise<{ res: IncomingMessage; body: () => string; close(): void }>((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      resolve({ res, body: () => text, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });

describe('shiplog dev with its dashboard', () => {
  let rt: LocalRuntime;
  let dataDir: string;
  let port: number;
  const lines: string[] = [];
  const before = { fetch: globalThis.fetch, setImmediate: globalThis.setImmediate, nextTick: process.nextTick, Date: globalThis.Date, random: Math.random, nodeEnv: process.env.NODE_ENV, turbopack: process.env.TURBOPACK };
  const dashboardBefore = process.env.SHIPLOG_DASHBOARD;

  beforeAll(async () => {
    delete process.env.SHIPLOG_DASHBOARD;
    dataDir = mkdtempSync(join(tmpdir(), 'shiplog-dashboard-proc-'));
    port = await freePort();
    rt = await startLocalRuntime({ dataDir, port, sitesPort: await freePort() }, { log: (l) => lines.push(l) });
  }, 900_000);

  afterAll(async () => {
    await rt?.stop();
    if (dashboardBefore === undefined) delete process.env.SHIPLOG_DASHBOARD;
    else process.env.SHIPLOG_DASHBOARD = dashboardBefore;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the dashboard through the API port from a process of its own, leaving this process its own globals', async () => {
    // /healthz names the dashboard until Next serves (the first start builds it)
    await expect.poll(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status, { timeout: 900_000, interval: 500 }).toBe(200);

    const signIn = await fetch(`http://localhost:${port}/sign-in`);
    expect(signIn.status).toBe(200);
    expect(signIn.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await signIn.text()).toMatch(/<form/);
    // A signed-out page redirects to the sign-in, Location as Next wrote it
    const home = await fetch(`http://localhost:${port}/`, { redirect: 'manual' });
    expect([303, 307]).toContain(home.status);
    expect(home.headers.get('location')).toMatch(/\/sign-in/);
    // Signed in (the cookie reaches Next): the projects page
    const cookie = `${SESSION_COOKIE}=${issueSession(readSessionKey(join(dataDir, 'dashboard')), { id: 'admin', name: 'admin', provider: 'local' })}`;
    const projects = await fetch(`http://localhost:${port}/`, { headers: { cookie }, redirect: 'manual' });
    expect(projects.status).toBe(200);
    await projects.text();

    expect(globalThis.fetch).toBe(before.fetch);
    expect(globalThis.setImmediate).toBe(before.setImmediate);
    expect(process.nextTick).toBe(before.nextTick);
    expect(globalThis.Date).toBe(before.Date);
    expect(Math.random).toBe(before.random);
    expect(process.env.NODE_ENV).toBe(before.nodeEnv);
    expect(process.env.TURBOPACK).toBe(before.turbopack);
    expect(dashboardChildren()).toHaveLength(1);
    // The dashboard's API token is in its process's environment only, never in the output.
    expect(lines.join('\n')).not.toContain(process.env.SHIPLOG_DASHBOARD_API_TOKEN);
  }, 900_000);

  it('stop() leaves no dashboard process behind', async () => {
    const [pid] = dashboardChildren();
    expect(pid).toBeDefined();
    await rt.stop();
    expect(isAlive(pid!)).toBe(false);
    expect(dashboardChildren()).toEqual([]);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  }, 60_000);
});

describe('the dashboard proxy', () => {
  let dashboard: LocalDashboard;
  let server: Server;
  let api: Server;
  let url: string;
  let dataDir: string;
  const apiToken = 'shp_test-dashboard-token';
  // The platform API, faked: a build log follow that sends one event, then another when told.
  const follows: { res: ServerResponse; closed: Promise<void>; authorization: string | undefined }[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'shiplog-dashboard-proxy-'));
    api = createServer((req, res) => {
      const closed = new Promise<void>((r) => res.on('close', () => r()));
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('id: 1\ndata: {"line":"first"}\n\n');
      follows.push({ res, closed, authorization: req.headers.authorization });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    dashboard = startDashboard({
      dataDir, apiUrl: `http://127.0.0.1:${(api.address() as AddressInfo).port}`, apiToken, dynamoEndpoint: 'http://127.0.0.1:9', sitesPort: 3001,
      tables: { events: 'unused-events', views: 'unused-views' }, env: { SHIPLOG_ADMIN_PASSWORD: 'proxy-test-password' }, log: () => undefined,
    });
    server = createServer((req, res) => dashboard.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await dashboard.ready;
  }, 900_000);

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    api?.closeAllConnections();
    await new Promise((r) => api?.close(r));
    await dashboard?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('streams a server-sent event stream as it comes, and closes it upstream when the client leaves', async () => {
    const cookie = `${SESSION_COOKIE}=${issueSession(readSessionKey(join(dataDir, 'dashboard')), { id: 'admin', name: 'admin', provider: 'local' })}`;
    const stream = await open(`${url}/deployments/d-1/log`, { cookie, accept: 'text/event-stream' });
    expect(stream.res.statusCode).toBe(200);
    expect(stream.res.headers['content-type']).toMatch(/^text\/event-stream/);
    await expect.poll(stream.body, { timeout: 10_000 }).toContain('first');
    expect(follows).toHaveLength(1);
    expect(follows[0]!.authorization).toBe(`Bearer ${apiToken}`);
    follows[0]!.res.write('id: 2\ndata: {"line":"second"}\n\n');
    await expect.poll(stream.body, { timeout: 10_000 }).toContain('second');
    stream.close();
    await follows[0]!.closed;
  });

  it('answers at once, saying why, when the dashboard process has died', async () => {
    const pid = dashboard.pid()!;
    expect(dashboard.usable()).toBe(true);
    process.kill(pid, 'SIGKILL');
    await expect.poll(() => dashboard.usable(), { timeout: 10_000 }).toBe(false);
    const res = await fetch(`${url}/sign-in`);
    expect(res.status).toBe(502);
    expect(await res.text()).toMatch(/The dashboard stopped[\s\S]*killed \(SIGKILL\)/);
    await expect(dashboard.ready).resolves.toBeUndefined();
  });
});
