import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { functionPool } from '../../../infra/local/sites/function-pool.ts';
import { siteLayout } from '../../../services/deploy/adapters/site-host/local.ts';
import { gitCommitAll, gitPush, startShiplog, type LocalShiplog, deploymentOfHead } from '../../support/local-shiplog.ts';
import { latencyRow, sample, type BenchRow, type BenchSuite } from '../lib.ts';

// The product's own figures, from a real `shiplog dev`: push → live overhead, rollback latency,
// router overhead. Two real Next.js builds; about two minutes on this machine.
const fixture = new URL('../../fixtures/next-app/', import.meta.url).pathname;
const ROLLBACKS = Number(process.env.BENCH_ROLLBACKS ?? 10);
const REQUESTS = Number(process.env.BENCH_ROUTER_REQUESTS ?? 300);

const setMarker = (dir: string, marker: string) => {
  const file = join(dir, 'app', 'marker.js');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/BUILD_MARKER = '[^']*'/, `BUILD_MARKER = '${marker}'`));
};

const get = (agent: Agent, port: number, host: string, path: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { host: `${host}:${port}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });

// "build succeeded in checkout 419 ms, install 16652 ms, build 22750 ms, package 16077 ms"
const phases = (log: string) => {
  const m = /checkout (\d+) ms, install (\d+) ms, build (\d+) ms, package (\d+) ms/.exec(log);
  if (!m) throw new Error('no phase timings in the build log');
  return { checkout: Number(m[1]), install: Number(m[2]), build: Number(m[3]), package: Number(m[4]) };
};

const pushAndTime = async (sl: LocalShiplog, work: string, remote: string, message: string) => {
  gitCommitAll(work, message);
  const t0 = performance.now();
  gitPush(work, remote);
  const id = await deploymentOfHead(sl, 'web', work);
  const wait = sl.cli(['deployments', 'wait', id, '--timeout', '600'], 700_000);
  if (wait.status !== 0) throw new Error(`deployment ${id} did not go live: ${wait.stderr}`);
  const total = performance.now() - t0;
  return { id, total, phases: phases(sl.cli(['logs', id]).stdout) };
};

export const pushToLiveBench: BenchSuite = async () => {
  const rows: BenchRow[] = [];
  const sl = await startShiplog();
  const work = mkdtempSync(join(tmpdir(), 'shiplog-bench-app-'));
  const agent = new Agent({ keepAlive: true });
  try {
    cpSync(fixture, work, { recursive: true, filter: (src) => !/node_modules|\.next|\.open-next/.test(src) });
    spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: work });
    const { gitRemote } = sl.json<{ gitRemote: string }>(['projects', 'create', 'web']);

    // 1. push → live, twice; the platform's overhead is what is not the user's install and build
    setMarker(work, 'bench-one');
    const first = await pushAndTime(sl, work, gitRemote, 'one');
    setMarker(work, 'bench-two');
    const second = await pushAndTime(sl, work, gitRemote, 'two');
    const totals = [first.total, second.total].sort((a, b) => a - b);
    const overheads = [first, second].map((p) => p.total - p.phases.install - p.phases.build).sort((a, b) => a - b);
    const userTime = [first, second].map((p) => p.phases.install + p.phases.build).sort((a, b) => a - b);
    rows.push(latencyRow('push → live, total (n=2)', totals));
    rows.push(latencyRow('push → live, platform overhead: total − install − next build (n=2; vs those commands)', overheads, userTime));
    rows.push(latencyRow('push → live, of which OpenNext packaging (n=2)', [first, second].map((p) => p.phases.package).sort((a, b) => a - b)));

    // 2. rollback: from the request to the production URL serving the old version
    const marker = async () => (JSON.parse(await get(agent, sl.sitesPort, 'web.localhost', '/api/hello')) as { marker: string }).marker;
    const untilMarker = async (want: string) => {
      for (let i = 0; i < 2000 && (await marker()) !== want; i++) await new Promise((r) => setTimeout(r, 5));
    };
    const oneRequest = await sample(50, () => get(agent, sl.sitesPort, 'web.localhost', '/api/hello'));
    const rollbackTimes: number[] = [];
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${sl.adminToken()}` };
    const command = async (path: string, body: unknown) => {
      const res = await fetch(`http://127.0.0.1:${sl.port}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
      if (res.status !== 202) throw new Error(`POST ${path} answered ${res.status}: ${await res.text()}`);
    };
    // Back to back: each rollback right after the promote before it is served, while that
    // promote's own work (read models, journal, subscriptions) still runs. Quiet: a second after.
    const quietTimes: number[] = [];
    const settle = () => new Promise((r) => setTimeout(r, 1000));
    for (let i = 0; i < ROLLBACKS; i++) {
      const t0 = performance.now();
      await command('/api/projects/web/rollback', { to: first.id, reason: 'bench' });
      await untilMarker('bench-one');
      rollbackTimes.push(performance.now() - t0);
      await command(`/api/deployments/${second.id}/promote`, {});
      await untilMarker('bench-two');
      await settle();
      const t1 = performance.now();
      await command('/api/projects/web/rollback', { to: first.id, reason: 'bench' });
      await untilMarker('bench-one');
      quietTimes.push(performance.now() - t1);
      await settle();
      await command(`/api/deployments/${second.id}/promote`, {});
      await untilMarker('bench-two');
    }
    rows.push(latencyRow(`rollback: request → production serves the old version (n=${ROLLBACKS}; vs one request)`, rollbackTimes.sort((a, b) => a - b), oneRequest));
    rows.push(latencyRow(`rollback on a quiet platform (1 s after the last command was served; n=${ROLLBACKS}; vs one request)`, quietTimes.sort((a, b) => a - b), oneRequest));

    // 3. the router's overhead: the same request through the router vs invoking the function directly
    const pool = functionPool();
    const dir = join(siteLayout(sl.dataDir).versionDir('web', second.id), 'server-functions', 'default');
    const event = {
      version: '2.0', routeKey: '$default', rawPath: '/api/hello', rawQueryString: '', headers: { host: 'web.localhost' },
      requestContext: { http: { method: 'GET', path: '/api/hello', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' }, requestId: 'bench', routeKey: '$default', stage: '$default', time: '', timeEpoch: 0, accountId: 'local', apiId: 'local', domainName: 'web.localhost', domainPrefix: 'web' },
      isBase64Encoded: false,
    };
    const fn = { key: 'bench', dir, env: async () => ({}) };
    // Direct: until the whole response has arrived, as the routed request is timed (a streamed
    // response's invocation resolves at its head).
    const invokeWhole = async () => {
      const inv = await pool.invoke(fn, event);
      if (inv.kind === 'stream') for await (const _chunk of inv.body) void _chunk;
    };
    for (let i = 0; i < 30; i++) await invokeWhole();
    for (let i = 0; i < 30; i++) await get(agent, sl.sitesPort, 'web.localhost', '/api/hello');
    const direct = await sample(REQUESTS, invokeWhole);
    const routed = await sample(REQUESTS, () => get(agent, sl.sitesPort, 'web.localhost', '/api/hello'));
    rows.push(latencyRow('router: GET /api/hello through the router (vs the function invoked directly)', routed, direct));
    await pool.close();
  } finally {
    agent.destroy();
    await sl.stop();
    rmSync(work, { recursive: true, force: true });
  }
  return rows;
};
