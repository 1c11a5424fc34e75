import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitCommitAll, gitPush, startShiplog, type LocalShiplog, deploymentOfHead } from '../support/local-shiplog.ts';

// The whole product on one machine: a real `shiplog dev`, real `git push`es of a Next.js app,
// real `next build` + OpenNext builds, and HTTP against the sites router.
const fixture = new URL('../fixtures/next-app/', import.meta.url).pathname;
const markerFile = (dir: string) => join(dir, 'app', 'marker.js');
const setMarker = (dir: string, marker: string) =>
  writeFileSync(markerFile(dir), readFileSync(markerFile(dir), 'utf8').replace(/BUILD_MARKER = '[^']*'/, `BUILD_MARKER = '${marker}'`));

interface Row { id: string; status: string; live: boolean; url: string; sha: string }

describe('git push to live, rollback, and a broken push', () => {
  let sl: LocalShiplog;
  let work: string;
  let remote: string;
  const deployments: Row[] = [];

  const pushAndWait = async (message: string) => {
    gitCommitAll(work, message);
    gitPush(work, remote);
    const id = await deploymentOfHead(sl, 'web', work);
    const wait = sl.cli(['deployments', 'wait', id, '--timeout', '480'], 500_000);
    return { id, wait };
  };

  beforeAll(async () => {
    sl = await startShiplog();
    work = mkdtempSync(join(tmpdir(), 'shiplog-app-'));
    cpSync(fixture, work, { recursive: true, filter: (src) => !/node_modules|\.next|\.open-next/.test(src) });
    const created = sl.json<{ gitRemote: string; productionUrl: string; webhookSecret: string }>(['projects', 'create', 'web']);
    remote = created.gitRemote;
    expect(created.productionUrl).toBe(`http://web.localhost:${sl.sitesPort}`);
    expect(sl.cli(['env', 'set', 'web', 'NEXT_PUBLIC_SITE_NAME=Shiplog E2E']).status).toBe(0);
    expect(sl.cli(['env', 'set', 'web', 'SERVER_GREETING=hi-from-the-server', '--secret']).status).toBe(0);
    setMarker(work, 'marker-one');
    expect(spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: work }).status).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await sl?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('makes the first push live, with every kind of page right', async () => {
    const { id, wait } = await pushAndWait('first version');
    expect(wait.status, `${wait.stdout}\n${wait.stderr}\n${sl.output()}`).toBe(0);
    deployments.push(sl.json<Row>(['deployments', 'get', id]));

    const home = await sl.site('web.localhost', '/');
    expect(home.status).toBe(200);
    expect(home.body).toContain('marker-one');
    expect(home.body).toContain('Shiplog E2E'); // NEXT_PUBLIC_ inlined at build time
    const ssr = await sl.site('web.localhost', '/ssr');
    expect(ssr.status).toBe(200);
    expect(ssr.body).toContain('hi-from-the-server'); // a server env var at request time
    const api = await sl.site('web.localhost', '/api/hello');
    expect(JSON.parse(api.body)).toMatchObject({ marker: 'marker-one' });
    const file = await sl.site('web.localhost', '/hello.txt');
    expect(file.status).toBe(200);
    expect(file.body.length).toBeGreaterThan(0);
    const staticPath = /\/_next\/static\/[^"']+\.js/.exec(home.body)?.[0];
    expect(staticPath).toBeDefined();
    const asset = await sl.site('web.localhost', staticPath!);
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    const image = await sl.site('web.localhost', '/_next/image?url=%2Fpixel.png&w=32&q=75');
    expect(image.status).toBe(200);
    expect(String(image.headers['content-type'])).toMatch(/^image\//);
  }, 600_000);

  it('makes a second push live while the first deployment keeps its own URL', async () => {
    setMarker(work, 'marker-two');
    const { id, wait } = await pushAndWait('second version');
    expect(wait.status, wait.stderr).toBe(0);
    deployments.push(sl.json<Row>(['deployments', 'get', id]));
    expect(JSON.parse((await sl.site('web.localhost', '/api/hello')).body).marker).toBe('marker-two');
    const firstHost = `${deployments[0]!.id.toLowerCase()}-web.localhost`;
    expect(JSON.parse((await sl.site(firstHost, '/api/hello')).body).marker).toBe('marker-one');
    const list = sl.json<Row[]>(['deployments', 'list', 'web']);
    expect(list.map((d) => d.id)).toEqual([deployments[1]!.id, deployments[0]!.id]);
  }, 600_000);

  it('rolls back to the first deployment with no rebuild', async () => {
    expect(sl.cli(['rollback', 'web', '--reason', 'e2e']).status).toBe(0);
    await expect.poll(async () => JSON.parse((await sl.site('web.localhost', '/api/hello')).body).marker, { timeout: 30_000, interval: 100 })
      .toBe('marker-one');
    expect(sl.json<{ liveDeploymentId: string }>(['projects', 'get', 'web']).liveDeploymentId).toBe(deployments[0]!.id);
    // No build was started by the rollback.
    expect(sl.json<Row[]>(['deployments', 'list', 'web'])).toHaveLength(2);
  }, 120_000);

  it('fails a broken push with the compiler error in its log, and keeps serving what is live', async () => {
    writeFileSync(markerFile(work), `${readFileSync(markerFile(work), 'utf8')}\nexport const BROKEN = ;\n`);
    const { id, wait } = await pushAndWait('broken');
    expect(wait.status).toBe(1);
    const failed = sl.json<Row & { error: string }>(['deployments', 'get', id]);
    expect(failed.status).toBe('error');
    const log = sl.cli(['logs', id]).stdout;
    expect(log).toMatch(/Expression expected|Failed to compile|Build error occurred/);
    expect(JSON.parse((await sl.site('web.localhost', '/api/hello')).body).marker).toBe('marker-one');
  }, 600_000);
});
