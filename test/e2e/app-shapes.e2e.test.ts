import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../infra/local/dynamodb-local.ts';
import { chooseInstall, installShellCommand, readInstallInputs } from '../../services/build/adapters/runner/install-command.ts';
import { gitCommitAll, gitPush, startShiplog, type LocalShiplog, deploymentOfHead, getFrom, type PlainResponse } from '../support/local-shiplog.ts';

// Apps of shapes the first fixture did not have, each deployed by a real `shiplog dev` and also
// served by `next start` of the same source; every route's status, content type and body
// (timestamps, build ids and hashed asset names masked) must match. Each app is built once by
// shiplog and once by `next build`, and the suite shares one shiplog.
interface Shape {
  project: string;
  fixture: string;
  /** What the build log must say was run for the install. */
  install: string;
  routes: string[];
}
const shapes: Shape[] = [
  {
    project: 'pages',
    fixture: 'pages-app',
    install: 'npm ci',
    routes: ['/', '/ssr?name=e2e', '/about', '/posts/first', '/posts/second', '/posts/missing', '/api/hello?x=1', '/api/status?code=418', '/robots.txt', '/nope'],
  },
  { project: 'nolock', fixture: 'no-lockfile-app', install: 'npm install', routes: ['/', '/legacy', '/api/ping', '/nope'] },
  { project: 'pnpm', fixture: 'pnpm-app', install: 'pnpm install --frozen-lockfile', routes: ['/', '/dynamic?q=two', '/api/time?who=e2e', '/nope'] },
];

interface Row { id: string; status: string; live: boolean; url: string }
type Response = PlainResponse;

const fixtures = new URL('../fixtures/', import.meta.url).pathname;
const copyFixture = (name: string, to: string) => cpSync(join(fixtures, name), to, { recursive: true, filter: (src) => !/node_modules|\.next|\.open-next/.test(src) });

const get = getFrom;

/** What differs between two builds of one source and is not behaviour: times, build ids, hashed file names. */
const mask = (body: string, buildId: string | undefined) => {
  let b = body;
  if (buildId) b = b.split(buildId).join('<build-id>');
  return b
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g, '<time>')
    .replace(/\/_next\/static\/[^"'\s)\\]+/g, '/_next/static/<asset>')
    .replace(/"buildId":"[^"]*"/g, '"buildId":"<build-id>"');
};

/** `next build` + `next start` of a fixture, as a developer would run it. */
const referenceServer = async (shape: Shape, log: (s: string) => void): Promise<{ port: number; buildId: string; dir: string; child: ChildProcess }> => {
  const dir = mkdtempSync(join(tmpdir(), `shiplog-ref-${shape.project}-`));
  copyFixture(shape.fixture, dir);
  const tmp = join(dir, '.tmp');
  mkdirSync(tmp);
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp, CI: '1', NEXT_TELEMETRY_DISABLED: '1' };
  delete env.NODE_ENV;
  const install = installShellCommand(chooseInstall(readInstallInputs(dir, dir)));
  for (const cmd of [install, 'npx next build']) {
    const r = spawnSync('sh', ['-c', cmd], { cwd: dir, env, encoding: 'utf8', timeout: 600_000 });
    log(`[ref ${shape.project}] $ ${cmd}: ${r.status}`);
    if (r.status !== 0) throw new Error(`reference ${shape.project}: "${cmd}" failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  const port = await freePort();
  const child = spawn('npx', ['next', 'start', '-p', String(port), '-H', '127.0.0.1'], { cwd: dir, env: { ...env, NODE_ENV: 'production' }, stdio: 'ignore', detached: true });
  await vi.waitFor(async () => expect((await get(port, 'localhost', '/api/__ready').catch(() => ({ status: 0 }))).status).toBeGreaterThan(0), { timeout: 60_000, interval: 200 });
  return { port, buildId: readFileSync(join(dir, '.next', 'BUILD_ID'), 'utf8').trim(), dir, child };
};

describe('every app shape deploys and answers as next start does', () => {
  let sl: LocalShiplog;
  const work: Record<string, string> = {};
  const remotes: Record<string, string> = {};
  const live: Record<string, Row> = {};
  const refs: Record<string, Awaited<ReturnType<typeof referenceServer>>> = {};
  const waits: Record<string, ReturnType<LocalShiplog['cli']>> = {};
  const notes: string[] = [];


  beforeAll(async () => {
    sl = await startShiplog();
    // /healthz answers before the runtime file the CLI looks for is written.
    await vi.waitFor(() => expect(existsSync(join(sl.dataDir, 'runtime.json'))).toBe(true), { timeout: 60_000, interval: 100 });
    for (const shape of shapes) {
      const dir = mkdtempSync(join(tmpdir(), `shiplog-app-${shape.project}-`));
      copyFixture(shape.fixture, dir);
      expect(spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: dir }).status).toBe(0);
      work[shape.project] = dir;
      remotes[shape.project] = sl.json<{ gitRemote: string }>(['projects', 'create', shape.project]).gitRemote;
      gitCommitAll(dir, `${shape.project}: first version`);
      gitPush(dir, remotes[shape.project]!);
    }
    // shiplog builds the pushes while the reference builds run here, one after another.
    for (const shape of shapes) refs[shape.project] = await referenceServer(shape, (s) => notes.push(s));
    for (const shape of shapes) {
      const id = await deploymentOfHead(sl, shape.project, work[shape.project]!);
      waits[shape.project] = sl.cli(['deployments', 'wait', id, '--timeout', '900'], 950_000);
      live[shape.project] = sl.json<Row>(['deployments', 'get', id]);
    }
  }, 1_800_000);

  afterAll(async () => {
    for (const r of Object.values(refs)) {
      try {
        process.kill(-r.child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await sl?.stop();
    for (const d of [...Object.values(work), ...Object.values(refs).map((r) => r.dir)]) rmSync(d, { recursive: true, force: true });
    if (notes.length) console.log(notes.join('\n'));
  });

  it.each(shapes)('$project: goes live with the install command detected from the repository, and says so in the log', (shape) => {
    const wait = waits[shape.project]!;
    expect(wait.status, `${wait.stdout}\n${wait.stderr}\n${sl.cli(['logs', live[shape.project]!.id]).stdout}`).toBe(0);
    expect(live[shape.project]!.live).toBe(true);
    const log = sl.cli(['logs', live[shape.project]!.id]).stdout;
    expect(log).toMatch(new RegExp(`install: \\w+, detected from [^:]+: ${shape.install.replace(/[-]/g, '\\-')}`));
    expect(log).toContain(`$ ${shape.install.startsWith('npm') ? '' : 'export COREPACK_HOME'}`);
    expect(log).toContain("no open-next.config.ts: using shiplog's local config");
  });

  it.each(shapes)('$project: every route answers as under next start (status, content type, masked body)', async (shape) => {
    const ref = refs[shape.project]!;
    const versionDir = join(sl.dataDir, 'sites', shape.project, live[shape.project]!.id);
    const buildIdFile = readdirSync(versionDir, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith('.next/BUILD_ID'));
    const shiplogBuildId = buildIdFile ? readFileSync(join(versionDir, buildIdFile), 'utf8').trim() : undefined;
    let matching = 0;
    const rows: string[] = [];
    for (const route of shape.routes) {
      const ours = await get(sl.sitesPort, `${shape.project}.localhost`, route);
      const theirs = await get(ref.port, 'localhost', route);
      // Media type parameters such as charset are case-insensitive (RFC 9110 §8.3.1).
      const type = (r: Response) => String(r.headers['content-type'] ?? '').toLowerCase();
      const same = {
        status: ours.status === theirs.status,
        type: type(ours) === type(theirs),
        body: mask(ours.body, shiplogBuildId) === mask(theirs.body, ref.buildId),
      };
      if (same.status && same.type && same.body) matching++;
      rows.push(`${shape.project} ${route}: shiplog ${ours.status} / next start ${theirs.status}${same.type ? '' : ` type ${ours.headers['content-type']} vs ${theirs.headers['content-type']}`}${same.body ? '' : ' BODY DIFFERS'}`);
      expect.soft({ route, status: ours.status, type: type(ours) }).toEqual({ route, status: theirs.status, type: type(theirs) });
      expect.soft(mask(ours.body, shiplogBuildId), `${route} body`).toBe(mask(theirs.body, ref.buildId));
    }
    notes.push(...rows, `${shape.project}: ${matching}/${shape.routes.length} routes match`);
    expect(matching).toBe(shape.routes.length);
  }, 120_000);

  it('a deploy whose server crashes at start fails at the health gate; production keeps serving', async () => {
    const dir = work.pages!;
    const before = live.pages!.id;
    // Crashes the function at start (never during shiplog's build: the build has SHIPLOG_DEPLOYMENT_ID).
    writeFileSync(join(dir, 'instrumentation.js'), "export function register() {\n  if (!process.env.SHIPLOG_DEPLOYMENT_ID) process.exit(1);\n}\n");
    writeFileSync(join(dir, 'pages', 'about.js'), readFileSync(join(dir, 'pages', 'about.js'), 'utf8').replace('A static page', 'A crashing version'));
    gitCommitAll(dir, 'crash at start');
    gitPush(dir, remotes.pages!);
    const id = await deploymentOfHead(sl, 'pages', dir);
    expect(id).not.toBe(before);
    const wait = sl.cli(['deployments', 'wait', id, '--timeout', '900'], 950_000);
    expect(wait.status, `${wait.stdout}\n${wait.stderr}`).toBe(1);
    const failed = sl.json<Row & { error?: unknown; failure?: unknown }>(['deployments', 'get', id]);
    expect(failed.status).toBe('error');
    expect(JSON.stringify(failed)).toMatch(/health check failed, production not moved: GET \/ (answered 5\d\d|got no answer)/);
    // The new version was built and published: it failed only at the gate.
    const log = sl.cli(['logs', id]).stdout;
    expect(log).toContain('build succeeded');
    const home = await get(sl.sitesPort, 'pages.localhost', '/about');
    expect(home.status).toBe(200);
    expect(home.headers['x-shiplog-deployment']).toBe(before);
    expect(home.body).toContain('A static page');
  }, 1_000_000);
});
