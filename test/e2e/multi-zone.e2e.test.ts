import { spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deploymentOfHead, getFrom, gitCommitAll, gitPush, startShiplog, type LocalShiplog, type PlainResponse } from '../support/local-shiplog.ts';
import { buildReference, startNext } from '../support/reference-app.ts';

// Multi-zone on the local runtime: a real `shiplog dev` deploys two projects, `home` (the host
// zone) and `outreach` (built with basePath /outreach), and `shiplog mounts add home /outreach
// outreach` makes home's hosts serve /outreach/* from outreach's production deployment. The
// outreach routes, reached through home, answer as `next start` of the outreach app does. Each
// app is built once by shiplog (outreach once more for the rollback) and outreach once by
// `next build`, one build at a time.
const fixtures = new URL('../fixtures/', import.meta.url).pathname;
const copyFixture = (name: string, to: string) => cpSync(join(fixtures, name), to, { recursive: true, filter: (src) => !/node_modules|\.next|\.open-next/.test(src) });

interface Row { id: string; status: string; live: boolean }
interface Mount { prefix: string; project: string }

/** The outreach routes compared with `next start`: pages, a dynamic page, a route handler, a public file, a 404. */
const routes = ['/outreach', '/outreach/campaigns/7', '/outreach/campaigns/8?tab=sent', '/outreach/api/ping', '/outreach/outreach.txt', '/outreach/nope'];

/** What differs between two builds of one source and is not behaviour: build ids and hashed file names. */
const mask = (body: string, buildId: string | undefined) => {
  const b = buildId ? body.split(buildId).join('<build-id>') : body;
  return b.replace(/\/_next\/static\/[^"'\s)\\]+/g, '/_next/static/<asset>').replace(/"buildId":"[^"]*"/g, '"buildId":"<build-id>"');
};
const type = (r: PlainResponse) => String(r.headers['content-type'] ?? '').toLowerCase();

/** `next build` + `next start` of the outreach app, as its developer would run it. */
const referenceServer = async (): Promise<{ port: number; buildId: string; dir: string; child: ChildProcess }> => {
  const dir = mkdtempSync(join(tmpdir(), 'shiplog-ref-outreach-'));
  copyFixture('zone-outreach', dir);
  const { port, child } = await startNext(dir, buildReference(dir, 'npm ci'));
  await vi.waitFor(async () => expect((await getFrom(port, 'localhost', '/outreach').catch(() => ({ status: 0 }))).status).toBe(200), { timeout: 60_000, interval: 200 });
  return { port, buildId: readFileSync(join(dir, '.next', 'BUILD_ID'), 'utf8').trim(), dir, child };
};

describe('multi-zone: a project mounts another at a path prefix of its domain', () => {
  let sl: LocalShiplog;
  let ref: Awaited<ReturnType<typeof referenceServer>> | undefined;
  const work: Record<string, string> = {};
  const remotes: Record<string, string> = {};
  const live: Record<string, Row> = {};
  const notes: string[] = [];
  const home = (path: string, host = 'home.localhost') => getFrom(sl.sitesPort, host, path);

  /** Pushes the working copy of a project and waits for that deployment to be live. */
  const deploy = async (project: string): Promise<Row> => {
    gitPush(work[project]!, remotes[project]!);
    const id = await deploymentOfHead(sl, project, work[project]!);
    const wait = sl.cli(['deployments', 'wait', id, '--timeout', '900'], 950_000);
    expect(wait.status, `${wait.stdout}\n${wait.stderr}\n${sl.cli(['logs', id]).stdout}`).toBe(0);
    return sl.json<Row>(['deployments', 'get', id]);
  };

  beforeAll(async () => {
    sl = await startShiplog();
    await vi.waitFor(() => expect(existsSync(join(sl.dataDir, 'runtime.json'))).toBe(true), { timeout: 60_000, interval: 100 });
    for (const [project, fixture] of [['home', 'zone-home'], ['outreach', 'zone-outreach']] as const) {
      work[project] = mkdtempSync(join(tmpdir(), `shiplog-zone-${project}-`));
      copyFixture(fixture, work[project]);
      expect(spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: work[project] }).status).toBe(0);
      gitCommitAll(work[project], `${project}: first version`);
      remotes[project] = sl.json<{ gitRemote: string }>(['projects', 'create', project]).gitRemote;
    }
    live.home = await deploy('home');
    live.outreach = await deploy('outreach');
    ref = await referenceServer();
  }, 2_400_000);

  afterAll(async () => {
    if (ref) {
      try {
        process.kill(-ref.child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await sl?.stop();
    for (const d of [...Object.values(work), ...(ref ? [ref.dir] : [])]) rmSync(d, { recursive: true, force: true });
    if (notes.length) console.log(notes.join('\n'));
  }, 180_000);

  it('both zones went live; before the mount, home answers /outreach itself', async () => {
    expect(live.home!.live).toBe(true);
    expect(live.outreach!.live).toBe(true);
    const before = await home('/outreach');
    expect(before.status).toBe(404);
    expect(before.headers['x-shiplog-deployment']).toBe(live.home!.id);
  });

  it('mounts outreach at /outreach of home with the CLI, which lists it', () => {
    expect(sl.json<{ mounts: Mount[] }>(['mounts', 'add', 'home', '/outreach', 'outreach'])).toEqual({ mounts: [{ prefix: '/outreach', project: 'outreach' }] });
    expect(sl.json<Mount[]>(['mounts', 'home'])).toEqual([{ prefix: '/outreach', project: 'outreach' }]);
    expect(sl.cli(['mounts', 'home']).stdout).toBe('/outreach  → outreach\n');
    const self = sl.cli(['mounts', 'add', 'home', '/me', 'home']);
    expect(self.status).not.toBe(0);
    expect(self.stderr).toContain('project "home" cannot mount itself');
  });

  it("serves home's /outreach routes from outreach's production, as next start of outreach answers them", async () => {
    // The router reads mounts from the projects read model, which folds the change a moment after the CLI returns.
    await expect.poll(async () => (await home('/outreach')).headers['x-shiplog-deployment'], { timeout: 30_000 }).toBe(live.outreach!.id);
    const versionDir = join(sl.dataDir, 'sites', 'outreach', live.outreach!.id);
    const buildIdFile = readdirSync(versionDir, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith('.next/BUILD_ID'));
    const shiplogBuildId = buildIdFile ? readFileSync(join(versionDir, buildIdFile), 'utf8').trim() : undefined;
    let matching = 0;
    for (const route of routes) {
      const ours = await home(route);
      const theirs = await getFrom(ref!.port, 'localhost', route);
      const same = ours.status === theirs.status && type(ours) === type(theirs) && mask(ours.body, shiplogBuildId) === mask(theirs.body, ref!.buildId);
      if (same) matching++;
      notes.push(`home.localhost${route}: shiplog ${ours.status} / next start ${theirs.status}${same ? '' : ' DIFFERS'}`);
      expect.soft(ours.headers['x-shiplog-deployment'], route).toBe(live.outreach!.id);
      expect.soft({ route, status: ours.status, type: type(ours) }).toEqual({ route, status: theirs.status, type: type(theirs) });
      expect.soft(mask(ours.body, shiplogBuildId), `${route} body`).toBe(mask(theirs.body, ref!.buildId));
    }
    notes.push(`multi-zone: ${matching}/${routes.length} outreach routes through home match next start`);
    expect(matching).toBe(routes.length);
    // As under next start, the route handler sees its request's path without the basePath.
    expect(JSON.parse((await home('/outreach/api/ping')).body)).toEqual({ zone: 'outreach', marker: 'outreach v1', path: '/api/ping' });
  }, 120_000);

  it("serves outreach's /_next/static files under its basePath through home, the same bytes as on outreach's own host", async () => {
    const page = (await home('/outreach')).body;
    const assets = [...new Set(page.match(/\/outreach\/_next\/static\/[^"'\s)\\]+\.(?:js|css)/g) ?? [])];
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      const ours = await home(asset);
      expect(ours.status, asset).toBe(200);
      expect(ours.headers['content-type'], asset).toMatch(/javascript|css/);
      expect(ours.headers['cache-control'], asset).toBe('public, max-age=31536000, immutable');
      expect(ours.headers['x-shiplog-deployment'], asset).toBe(live.outreach!.id);
      expect(ours.body, asset).toBe((await getFrom(sl.sitesPort, 'outreach.localhost', asset)).body);
    }
    notes.push(`multi-zone: ${assets.length} /outreach/_next/static assets served through home`);
  });

  it('leaves / and every path outside the prefix to home, /outreachx included', async () => {
    const root = await home('/');
    expect(root.status).toBe(200);
    expect(root.body).toContain('home zone');
    expect(root.headers['x-shiplog-deployment']).toBe(live.home!.id);
    expect((await home('/about')).body).toContain('home zone: about');
    expect((await home('/home.txt')).body).toBe('served by the home zone\n');
    const x = await home('/outreachx');
    expect(x.status).toBe(404);
    expect(x.headers['x-shiplog-deployment']).toBe(live.home!.id);
  });

  it("applies on home's per-deployment URL too", async () => {
    const res = await home('/outreach/campaigns/9', `${live.home!.id.toLowerCase()}-home.localhost`);
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/campaign (<!-- -->)?9/);
    expect(res.headers['x-shiplog-deployment']).toBe(live.outreach!.id);
  });

  it("follows outreach's deploys and rollbacks: home/outreach serves whatever outreach's production is", async () => {
    writeFileSync(join(work.outreach!, 'app/marker.js'), "export const ZONE_MARKER = 'outreach v2';\n");
    gitCommitAll(work.outreach!, 'outreach: second version');
    const second = await deploy('outreach');
    const marker = async () => JSON.parse((await home('/outreach/api/ping')).body).marker as string;
    expect(await marker()).toBe('outreach v2');
    const rolled = sl.json<{ toDeploymentId: string }>(['rollback', 'outreach', '--reason', 'multi-zone e2e']);
    expect(rolled.toDeploymentId).toBe(live.outreach!.id);
    await expect.poll(marker, { timeout: 10_000 }).toBe('outreach v1');
    expect((await home('/outreach')).headers['x-shiplog-deployment']).toBe(live.outreach!.id);
    notes.push(`multi-zone: outreach ${second.id} then rolled back to ${live.outreach!.id}; home/outreach followed`);
  }, 1_000_000);

  it('unmounting gives /outreach back to home', async () => {
    expect(sl.json<{ mounts: Mount[]; removed: Mount }>(['mounts', 'rm', 'home', '/outreach'])).toEqual({ mounts: [], removed: { prefix: '/outreach', project: 'outreach' } });
    await expect.poll(async () => (await home('/outreach')).headers['x-shiplog-deployment'], { timeout: 30_000 }).toBe(live.home!.id);
    expect(sl.json<Mount[]>(['mounts', 'home'])).toEqual([]);
  });
});
