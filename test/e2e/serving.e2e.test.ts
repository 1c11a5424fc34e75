import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSiteRouter, type SiteRouter } from '../../infra/local/router.ts';
import { localBuildRunner } from '../../services/build/adapters/runner/local.ts';
import type { BuildJob, BuildOutcome } from '../../services/build/ports.ts';
import { localSiteHost } from '../../services/deploy/adapters/site-host/local.ts';

// Push-to-live on one machine with real builds: the fixture app is committed to a scratch git
// repository, built by the local runner (npm ci, next build, open-next build), published by the
// local site host and served by the local router, over HTTP.
const fixture = fileURLToPath(new URL('../fixtures/next-app', import.meta.url));
const project = 'fixture';
const d1 = ulid();
const d2 = ulid();

let root: string;
let repo: string;
let router: SiteRouter;
let host: ReturnType<typeof localSiteHost>;
let firstLines: string[];

interface Res { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; text: string }
const get = (hostname: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
  new Promise<Res>((resolve, reject) => {
    const headers = { host: `${hostname}:${router.port}`, ...init.headers };
    const req = request({ host: '127.0.0.1', port: router.port, path, method: init.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
const production = `${project}.localhost`;
const deploymentHost = (id: string) => `${id.toLowerCase()}-${project}.localhost`;
const markerOf = (html: string) => /id="marker">([^<]*)</.exec(html)?.[1];

const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.email=e2e@shiplog.dev', '-c', 'user.name=e2e', ...args], { cwd: repo, encoding: 'utf8' }).trim();

const build = async (deploymentId: string, sha: string): Promise<BuildOutcome & { ok: true; lines: string[] }> => {
  const job: BuildJob = {
    deploymentId, projectId: project, repo, sha, rootDir: '.', installCommand: 'npm ci', buildCommand: 'npx next build',
    env: { NEXT_PUBLIC_SITE_NAME: 'Fixture Site' }, timeoutMs: 5 * 60_000,
  };
  const started = Date.now();
  const lines: string[] = [];
  const outcome = await localBuildRunner({ workRoot: join(root, 'builds') }).start(job, (line) => lines.push(line)).outcome;
  if (!outcome.ok) throw new Error(`build failed: ${outcome.reason} ${outcome.message}\n${outcome.logTail.join('\n')}`);
  console.log(`build ${deploymentId}: ${JSON.stringify(outcome.durationsMs)}, total ${Date.now() - started} ms`);
  console.log(lines.filter((l) => l.startsWith('open-next cache:')).join('\n'));
  return { ...outcome, lines };
};

const publish = async (deploymentId: string, artifactDir: string) => {
  const started = Date.now();
  const published = await host.publish({ projectId: project, deploymentId, artifactDir });
  console.log(`publish ${deploymentId}: ${JSON.stringify(published)} in ${Date.now() - started} ms`);
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'shiplog-e2e-'));
  repo = join(root, 'repo');
  const skip = new Set(['node_modules', '.next', '.open-next']);
  await cp(fixture, repo, { recursive: true, filter: (src) => !skip.has(basename(src)) });
  execFileSync('git', ['init', '--quiet', repo]);
  git('add', '-A');
  git('commit', '--quiet', '-m', 'initial');
  const first = await build(d1, git('rev-parse', 'HEAD'));
  firstLines = first.lines;
  router = await startSiteRouter({ port: 0, dataDir: join(root, 'data'), envFor: async (_p, d) => ({ SERVER_GREETING: `greetings from ${d}` }) });
  host = localSiteHost({ dataDir: join(root, 'data'), port: router.port });
  await publish(d1, first.artifactDir);
  await host.shiftAlias({ projectId: project, alias: 'production', deploymentId: d1 });
}, 6 * 60_000);

afterAll(async () => {
  await router?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('push to live on one machine', () => {
  it('serves the static page with the build marker, the public env var and an optimized image', async () => {
    const res = await get(production, '/');
    expect(res.status).toBe(200);
    expect(res.headers['x-shiplog-deployment']).toBe(d1);
    expect(markerOf(res.text)).toBe('marker-initial');
    expect(res.text).toContain('Fixture Site');
    expect(res.text).toContain('/_next/image?url=%2Fpixel.png&amp;w=32&amp;q=75');
    const image = await get(production, '/_next/image?url=%2Fpixel.png&w=32&q=75', { headers: { accept: 'image/webp,*/*' } });
    expect(image.status).toBe(200);
    expect(image.headers['content-type']).toBe('image/webp');
    expect(image.body.subarray(0, 4).toString('latin1')).toBe('RIFF');
  });

  it('renders the SSR page per request with the deployment\'s server-only env var', async () => {
    const a = await get(production, '/ssr');
    expect(a.status).toBe(200);
    expect(a.text).toContain(`greetings from ${d1}`);
    // The next request comes in a later millisecond than the first was rendered in.
    const renderedA = Date.parse(/id="rendered-at">([^<]*)</.exec(a.text)?.[1] ?? '');
    await expect.poll(() => Date.now(), { interval: 1 }).toBeGreaterThan(renderedA);
    const b = await get(production, '/ssr');
    expect(/id="rendered-at">([^<]*)</.exec(b.text)?.[1]).not.toBe(/id="rendered-at">([^<]*)</.exec(a.text)?.[1]);
  });

  it('answers the API route with JSON, query, cookies and a body', async () => {
    const res = await get(production, '/api/hello?name=shiplog', { headers: { cookie: 'session=abc; theme=dark' } });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ hello: 'shiplog', marker: 'marker-initial', cookie: 'session=abc; theme=dark' });
    expect(res.headers['set-cookie']).toEqual(['first=1; Path=/', 'second=2; Path=/']);
    const post = await get(production, '/api/hello', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'ping' });
    expect(JSON.parse(post.text)).toEqual({ echo: 'ping', marker: 'marker-initial' });
  });

  it('serves public files revalidated and build assets immutable', async () => {
    const file = await get(production, '/hello.txt');
    expect(file.text).toBe('hello from the shiplog fixture\n');
    expect(file.headers['cache-control']).toBe('public, max-age=0, must-revalidate');
    expect((await get(production, '/hello.txt', { headers: { 'if-none-match': String(file.headers.etag) } })).status).toBe(304);
    const chunk = /src="(\/_next\/static\/[^"]+\.js)"/.exec((await get(production, '/')).text)?.[1];
    expect(chunk).toBeDefined();
    const js = await get(production, chunk!);
    expect(js.status).toBe(200);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['content-type']).toMatch(/javascript/);
  });

  it('serves a deployment by its own URL, and 404s unknown sites', async () => {
    expect(host.urls({ projectId: project, deploymentId: d1 }).deployment).toBe(`http://${deploymentHost(d1)}:${router.port}`);
    expect(markerOf((await get(deploymentHost(d1), '/')).text)).toBe('marker-initial');
    expect((await get('nothing.localhost', '/')).status).toBe(404);
    expect((await get(`${ulid().toLowerCase()}-${project}.localhost`, '/')).status).toBe(404);
  });

  it('ships a second build without failing a request, keeps the first URL, and rolls back', async () => {
    await writeFile(join(repo, 'app/marker.js'), "export const BUILD_MARKER = 'marker-second';\n");
    git('commit', '--quiet', '-am', 'second');
    const second = await build(d2, git('rev-parse', 'HEAD'));
    // OpenNext's packaging reuses the first build's code patches (all but the changed app's) and its sharp install.
    const reused = (lines: string[]) => lines.map((l) => /^open-next cache: code patches of (\d+) of (\d+) files reused/.exec(l)).find(Boolean);
    expect(Number(reused(firstLines)?.[1])).toBe(0);
    expect(firstLines).toContain('open-next cache: sharp@0.35.5 for image-optimization-function installed and stored');
    const [, hits, files] = reused(second.lines)!.map(Number);
    expect(hits).toBeGreaterThan(files! / 2);
    expect(second.lines).toContain('open-next cache: sharp@0.35.5 for image-optimization-function reused');

    // Two request loops run while the second build is published and the alias shifts, until
    // each has seen the new build a few times.
    let shifted = false;
    const deadline = Date.now() + 120_000;
    const loop = async (path: string, read: (r: Res) => string | undefined, seen: { status: number; marker: string | undefined }[]) => {
      while (!(shifted && seen.filter((s) => s.marker === 'marker-second').length >= 3) && Date.now() < deadline) {
        const r = await get(production, path);
        seen.push({ status: r.status, marker: r.status === 200 ? read(r) : r.text.slice(0, 200) });
      }
      return seen;
    };
    const seenByLoop = [[], []] as { status: number; marker: string | undefined }[][];
    const loops = [
      loop('/', (r) => markerOf(r.text), seenByLoop[0]!),
      loop('/api/hello', (r) => (JSON.parse(r.text) as { marker: string }).marker, seenByLoop[1]!),
    ];
    await expect.poll(() => seenByLoop.every((seen) => seen.length > 0), { timeout: 30_000 }).toBe(true);
    await publish(d2, second.artifactDir);
    await host.shiftAlias({ projectId: project, alias: 'production', deploymentId: d2 });
    shifted = true;
    for (const seen of await Promise.all(loops)) {
      expect(seen.filter((s) => s.status !== 200)).toEqual([]);
      const markers = seen.map((s) => s.marker);
      const firstNew = markers.indexOf('marker-second');
      expect(firstNew).toBeGreaterThan(0);
      expect(markers.slice(0, firstNew).every((m) => m === 'marker-initial')).toBe(true);
      expect(markers.slice(firstNew).every((m) => m === 'marker-second')).toBe(true);
      console.log(`${seen.length} requests during the shift, none failed`);
    }

    expect(markerOf((await get(deploymentHost(d1), '/')).text)).toBe('marker-initial');
    expect(markerOf((await get(deploymentHost(d2), '/')).text)).toBe('marker-second');
    const image = await get(deploymentHost(d2), '/_next/image?url=%2Fpixel.png&w=32&q=75', { headers: { accept: 'image/webp,*/*' } });
    expect(image.status).toBe(200);
    expect(image.body.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect((await get(production, '/ssr')).text).toContain(`greetings from ${d2}`);

    await host.shiftAlias({ projectId: project, alias: 'production', deploymentId: d1 });
    const rolledBack = await get(production, '/');
    expect(markerOf(rolledBack.text)).toBe('marker-initial');
    expect(rolledBack.headers['x-shiplog-deployment']).toBe(d1);
  }, 6 * 60_000);
});
