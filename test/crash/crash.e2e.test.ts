import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eventTypes, streams, type StoredEvent } from '../../events/index.ts';
import { dynamoEventStore, type EventStore } from '../../events/store/index.ts';
import { dynamoClient, freePort } from '../../infra/local/dynamodb-local.ts';
import { readRuntimeFile } from '../../infra/local/runtime-file.ts';
import { groupMembers, readProcessRecord } from '../../services/build/adapters/runner/process-record.ts';
import { gitCommitAll, gitPush } from '../support/local-shiplog.ts';

// `kill -9` of the whole `shiplog dev` process group at five points of real deployments, and of
// DynamoDB Local alone; after each restart on the same data dir: every deployment ends, no event is
// lost or doubled, no process of a killed group survives, production serves a ready deployment.
// Points are found from the build's process record / the store, never from timers. Builds are
// kept few: one app copy, small commits, and each deployment carries several points.

const fixture = new URL('../fixtures/next-app/', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'shiplog-crash-'));
const dataDir = join(root, 'data');
const work = join(root, 'app');
const terminal = new Set(['DeploymentLive', 'DeploymentFailed', 'DeploymentRejected', 'BuildCanceled']);
const markerFile = join(work, 'app', 'marker.js');
const setMarker = (marker: string) =>
  writeFileSync(markerFile, readFileSync(markerFile, 'utf8').replace(/BUILD_MARKER = '[^']*'/, `BUILD_MARKER = '${marker}'`));

interface Figure { point: string; deployment: string; killedAt: string; orphanGroup: string; readyMs: number; terminalMs: number; state: string }
const figures: Figure[] = [];

let port = 0;
let sitesPort = 0;
let env: NodeJS.ProcessEnv = {};
let child: ChildProcess | undefined;
let runs = 0;

const cli = (args: string[]) => {
  const r = spawnSync(process.execPath, ['cli/shiplog.mjs', ...args], { env, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`shiplog ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
};
const outputs = () => readdirSync(root).filter((f) => f.endsWith('.log')).sort().map((f) => `--- ${f}\n${readFileSync(join(root, f), 'utf8').slice(-4000)}`).join('\n');

/** `shiplog dev` detached, in a process group of its own (its pid is the group id). */
const start = async (): Promise<{ readyMs: number; t0: number }> => {
  const out = openSync(join(root, `shiplog-${++runs}.log`), 'a');
  const t0 = performance.now();
  child = spawn(process.execPath, ['cli/shiplog.mjs', 'dev'], { env, detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  const c = child;
  await vi.waitFor(async () => {
    if (c.exitCode !== null) throw new Error(`shiplog dev exited with ${c.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (!ok) throw new Error('not ready yet');
  }, { timeout: 180_000, interval: 100 }).catch((e: unknown) => {
    throw new Error(`${(e as Error).message}\n${outputs()}`);
  });
  return { readyMs: performance.now() - t0, t0 };
};

/** `kill -9` of the whole group; resolves once the group has no live process left. */
const killGroup = async (): Promise<number> => {
  const c = child!;
  const pgid = c.pid!;
  const exited = new Promise((r) => c.once('exit', r));
  process.kill(-pgid, 'SIGKILL');
  await exited;
  await expect.poll(() => groupMembers(pgid), { timeout: 10_000, interval: 50 }).toEqual([]);
  return pgid;
};

let storeCache: { endpoint: string; store: EventStore } | undefined;
const store = (): EventStore => {
  const rt = readRuntimeFile(dataDir);
  if (!rt) throw new Error('shiplog is not running (no runtime file)');
  if (storeCache?.endpoint !== rt.dynamoEndpoint) {
    storeCache = { endpoint: rt.dynamoEndpoint, store: dynamoEventStore({ client: dynamoClient(rt.dynamoEndpoint), tableName: rt.tables.events ?? 'shiplog-events', types: eventTypes }) };
  }
  return storeCache.store;
};
const typesOf = async (id: string) => (await store().readDeployment(id)).map((e) => e.type);
const record = (id: string) => readProcessRecord(join(dataDir, 'builds', 'work', id));

const site = (path: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: sitesPort, path, agent: false, headers: { host: `web.localhost:${sitesPort}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });

let remote = '';
const pushed: { sha: string; id: string }[] = [];
/** Commits a marker change, pushes it, and returns its deployment id. */
const push = async (marker: string): Promise<string> => {
  setMarker(marker);
  gitCommitAll(work, marker);
  gitPush(work, remote);
  const sha = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: work, encoding: 'utf8' }).stdout.trim();
  let id = '';
  await vi.waitFor(() => {
    const row = (JSON.parse(cli(['deployments', 'list', 'web', '--json'])) as { id: string; sha: string }[]).find((d) => d.sha === sha);
    if (!row) throw new Error(`no deployment of ${sha} yet`);
    id = row.id;
  }, { timeout: 60_000, interval: 250 });
  pushed.push({ sha, id });
  return id;
};

/** Waits until the build of `id` runs a command of `phase` in its own process group. */
const inPhase = (id: string, phase: 'install' | 'build' | 'package') =>
  vi.waitFor(() => {
    const r = record(id);
    if (r?.phase !== phase || !r.pgid) throw new Error(`${id} is not in ${phase} yet (${r?.phase ?? 'no record'})`);
    return r.pgid;
  }, { timeout: 600_000, interval: 25 });

const waitForEvent = (read: () => Promise<StoredEvent[]>, match: (e: StoredEvent) => boolean, what: string) =>
  vi.waitFor(async () => {
    if (!(await read()).some(match)) throw new Error(`no ${what} yet`);
  }, { timeout: 600_000, interval: 25 });

/** Kill, restart on the same data dir, and measure until `id` is terminal. */
const crashAt = async (point: string, id: string, orphanGroup: number | null) => {
  const killedAt = (await typesOf(id).catch(() => [] as string[])).at(-1) ?? 'none';
  const pgid = await killGroup();
  // The build's own group survives a kill of shiplog's group: the restart must end it.
  const orphan = orphanGroup === null ? 'none' : groupMembers(orphanGroup).length > 0 ? `${orphanGroup} alive at kill` : `${orphanGroup} gone at kill`;
  const { readyMs, t0 } = await start();
  expect(groupMembers(pgid), `a process of the killed group ${pgid} survived the restart`).toEqual([]);
  if (orphanGroup !== null) expect(groupMembers(orphanGroup), `build group ${orphanGroup} survived the restart`).toEqual([]);
  return { point, id, killedAt, orphan, readyMs, t0 };
};
const settle = async (c: Awaited<ReturnType<typeof crashAt>>) => {
  let state = '';
  await vi.waitFor(async () => {
    const t = (await typesOf(c.id)).filter((x) => terminal.has(x));
    if (t.length === 0) throw new Error(`${c.id} has not ended`);
    state = t.at(-1)!;
  }, { timeout: 600_000, interval: 100 });
  figures.push({ point: c.point, deployment: c.id, killedAt: c.killedAt, orphanGroup: c.orphan, readyMs: Math.round(c.readyMs), terminalMs: Math.round(performance.now() - c.t0), state });
  return state;
};

beforeAll(async () => {
  port = await freePort();
  sitesPort = await freePort();
  env = {
    ...process.env, SHIPLOG_DATA_DIR: dataDir, SHIPLOG_PORT: String(port), SHIPLOG_SITES_PORT: String(sitesPort),
    SHIPLOG_DASHBOARD: 'off', SHIPLOG_BUILD_RESUMES: '1',
  };
  await start();
  remote = (JSON.parse(cli(['projects', 'create', 'web', '--json'])) as { gitRemote: string }).gitRemote;
  cpSync(fixture, work, { recursive: true, filter: (src) => !/node_modules|\.next|\.open-next/.test(src) });
  expect(spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: work }).status).toBe(0);
}, 240_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    process.kill(-child.pid!, 'SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000).unref())]);
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
  }
  console.log(`crash suite figures (ms from restart):\n${figures.map((f) => JSON.stringify(f)).join('\n')}`);
  rmSync(root, { recursive: true, force: true });
}, 60_000);

describe('crash suite: kill -9 at every point of a deployment', () => {
  let a = '';
  let b = '';
  let c = '';

  it('during install: the build is resumed after the restart, its old process group killed first', async () => {
    a = await push('crash-a');
    const group = await inPhase(a, 'install');
    const crash = await crashAt('install', a, group);
    // Resumed (interruption 1 of 1): queued again; the next point interrupts it a second time.
    await vi.waitFor(() => {
      const journal = JSON.parse(readFileSync(join(dataDir, 'builds', 'queue', `${a}.json`), 'utf8')) as { interruptions: number };
      expect(journal.interruptions).toBe(1);
    }, { timeout: 60_000, interval: 50 });
    figures.push({ point: 'install', deployment: a, killedAt: crash.killedAt, orphanGroup: crash.orphan, readyMs: Math.round(crash.readyMs), terminalMs: -1, state: 'resumed' });
  }, 900_000);

  it('during next build: a second interruption fails the deployment with the reason', async () => {
    const group = await inPhase(a, 'build');
    // OpenNext's packager, started ahead, waits in a group of its own: the restart must end it too.
    const ahead = record(a)?.ahead ?? [];
    expect(ahead, 'the packager waiting beside next build').toHaveLength(1);
    const crash = await crashAt('next build', a, group);
    for (const g of ahead) expect(groupMembers(g), `packager group ${g} survived the restart`).toEqual([]);
    expect(await settle(crash)).toBe('DeploymentFailed');
    const failed = (await store().readStream(streams.build(a))).find((e) => e.type === 'BuildFailed');
    expect(failed?.data).toMatchObject({ reason: 'infrastructure', message: 'interrupted: shiplog restarted during next build' });
  }, 900_000);

  it('during OpenNext, then right after the build succeeded: resumed, and the deploy completes', async () => {
    b = await push('crash-b');
    const group = await inPhase(b, 'package');
    const first = await crashAt('OpenNext', b, group);
    figures.push({ point: 'OpenNext', deployment: b, killedAt: first.killedAt, orphanGroup: first.orphan, readyMs: Math.round(first.readyMs), terminalMs: -1, state: 'resumed' });
    await waitForEvent(() => store().readStream(streams.build(b)), (e) => e.type === 'BuildSucceeded', `BuildSucceeded of ${b}`);
    const second = await crashAt('after BuildSucceeded', b, null);
    expect(await settle(second)).toBe('DeploymentLive');
  }, 900_000);

  it('DynamoDB Local alone killed mid-build: the deployment still goes live; then during the alias shift', async () => {
    c = await push('crash-c');
    await inPhase(c, 'build');
    const jvm = javaPid();
    expect(jvm, 'no DynamoDB Local JVM of this data dir').toBeDefined();
    const t0 = performance.now();
    process.kill(jvm!, 'SIGKILL');
    // The alias shift of c: the release stream records it, and shiplog dies right then.
    await waitForEvent(() => store().readStream(streams.release('web', 'production')), (e) => e.type === 'AliasShifted' && (e.data as { toDeploymentId: string }).toDeploymentId === c, `AliasShifted to ${c}`);
    figures.push({ point: 'DynamoDB Local killed', deployment: c, killedAt: 'build', orphanGroup: `jvm ${jvm}`, readyMs: -1, terminalMs: Math.round(performance.now() - t0), state: 'AliasShifted' });
    expect(javaPid()).not.toBe(jvm);
    const crash = await crashAt('alias shift', c, null);
    expect(await settle(crash)).toBe('DeploymentLive');
  }, 900_000);

  it('after all of it: every deployment ended, no event lost or doubled, production serves the last ready deployment', async () => {
    const all: StoredEvent[] = [];
    for await (const e of store().iterateAll()) all.push(e);
    const ids = all.map((e) => e.metadata.eventId);
    expect(new Set(ids).size, 'duplicate event ids').toBe(ids.length);
    const versions = new Map<string, number[]>();
    for (const e of all) versions.set(e.metadata.streamId, [...(versions.get(e.metadata.streamId) ?? []), e.metadata.version]);
    for (const [stream, vs] of versions) expect(vs.sort((x, y) => x - y), stream).toEqual(vs.map((_, i) => i + 1));
    for (const { sha, id } of pushed) {
      const requested = all.filter((e) => e.type === 'DeploymentRequested' && (e.data as { commit: { sha: string } }).commit.sha === sha);
      expect(requested.map((e) => e.metadata.deploymentId), sha).toEqual([id]);
      const types = all.filter((e) => e.metadata.deploymentId === id).map((e) => e.type);
      expect(types.filter((t) => terminal.has(t)), `${id} ended once`).toHaveLength(1);
      expect(types.filter((t) => t === 'BuildQueued'), `${id} queued once`).toHaveLength(1);
    }
    for (const id of [b, c]) {
      const types = all.filter((e) => e.metadata.deploymentId === id || (e.type === 'AliasShifted' && (e.data as { toDeploymentId: string }).toDeploymentId === id)).map((e) => e.type);
      for (const t of ['BuildQueued', 'BuildStarted', 'BuildSucceeded', 'AssetsUploaded', 'FunctionVersionPublished', 'AliasShifted', 'DeploymentLive']) {
        expect(types.filter((x) => x === t), `${id}: ${t}`).toHaveLength(1);
      }
    }
    const home = await site('/');
    expect(home.status).toBe(200);
    expect(home.body).toContain('crash-c');
    // Published artifacts are not kept twice, and no interrupted publish is left behind.
    expect(readdirSync(join(dataDir, 'builds', 'work'))).toEqual([]);
    expect(readdirSync(join(dataDir, 'sites', 'web')).filter((n) => n.includes('.tmp-'))).toEqual([]);
  }, 120_000);
});

/** The pid of the DynamoDB Local JVM serving this data dir, from /proc. */
function javaPid(): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith('java') && cmd.includes('-dbPath') && cmd.some((a) => a.startsWith(dataDir))) return Number(name);
    } catch {
      // exited while we looked
    }
  }
  return undefined;
}
