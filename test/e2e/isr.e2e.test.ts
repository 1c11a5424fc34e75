import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deploymentOfHead, gitCommitAll, gitPush, startShiplog, type LocalShiplog, type PlainResponse } from '../support/local-shiplog.ts';
import { buildReference, startNext } from '../support/reference-app.ts';

// ISR and serving fidelity on the local runtime: a real `shiplog dev` builds the ISR fixture
// with shiplog's OpenNext config, and `next start` of the same source is the reference. Every
// behaviour below is asserted on both servers with the same code. Nothing waits on a clock: the
// fixture's /isr page goes stale 2 s after it was rendered, and the suite polls for what must
// eventually be served (STALE, then a fresh render), never for how long it takes.
const fixture = new URL('../fixtures/isr-app/', import.meta.url).pathname;
const project = 'isr';

interface Row { id: string; status: string; live: boolean }
/** Where a server of the fixture answers: shiplog's site router, or `next start`. */
interface Server { name: string; port: number; host: string }

/** `next build` + `next start` of the fixture, as a developer would run it. */
const referenceServer = async (): Promise<{ port: number; dir: string; child: ChildProcess }> => {
  const dir = mkdtempSync(join(tmpdir(), 'shiplog-ref-isr-'));
  cpSync(fixture, dir, { recursive: true, filter: (src) => !/node_modules|\.next|\.open-next/.test(src) });
  const { port, child } = await startNext(dir, buildReference(dir, 'npm ci'));
  await vi.waitFor(async () => expect((await get({ name: 'next start', port, host: 'localhost' }, '/').catch(() => ({ status: 0 }))).status).toBe(200), { timeout: 60_000, interval: 200 });
  return { port, dir, child };
};

/** A GET on a fresh connection, with extra request headers. */
const get = (server: Server, path: string, headers: Record<string, string> = {}): Promise<PlainResponse> =>
  new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, agent: false, headers: { host: `${server.host}:${server.port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });

/** The render time a fixture page prints (`<span id="at">…</span>`). */
const renderedAt = (res: PlainResponse): number => {
  const m = /id="at">(\d+)</.exec(res.body);
  expect(m, res.body.slice(0, 300)).not.toBeNull();
  return Number(m![1]);
};
const cacheState = (res: PlainResponse) => res.headers['x-nextjs-cache'];

/**
 * What is compared between the two servers: the status, the headers users and caches act on,
 * and the body as a reader sees it (HTML: its text without scripts, whose chunk names and build
 * ids differ per build; render times masked).
 */
const comparable = (res: PlainResponse, server: Server, path: string) => {
  const image = path.startsWith('/_next/image');
  const type = String(res.headers['content-type'] ?? '').toLowerCase();
  const text = type.startsWith('text/html')
    ? res.body.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()
    : type.startsWith('image/') ? `${type} body (${res.body.length > 0 ? 'not empty' : 'empty'})`
    : res.body;
  return {
    status: res.status,
    'content-type': type || undefined,
    // next start keeps optimized images in .next/cache/images (MISS, then HIT); OpenNext keeps
    // none (on AWS, CloudFront caches them), so that header is not compared for images.
    'x-nextjs-cache': image ? undefined : res.headers['x-nextjs-cache'],
    'x-fixture-file': res.headers['x-fixture-file'],
    'x-fixture-all': res.headers['x-fixture-all'],
    location: res.headers.location,
    body: text.replace(/\d{13}/g, '<time>').replaceAll(`${server.host}:${server.port}`, '<host>'),
  };
};

/** Routes whose answer does not depend on when they are asked (the ISR page is asserted apart). */
const routes = [
  '/',
  '/tagged',
  '/image',
  '/hello.txt',
  '/moved.txt',
  '/moved.txt?from=old',
  '/api/request',
  '/no-such-page',
  '/legacy/first',
  '/_next/image?url=%2Fpixel.png&w=64&q=75',
  '/_next/image?url=%2Fmissing.png&w=64&q=75',
];

describe('ISR and serving as next start does', () => {
  let sl: LocalShiplog;
  let work: string;
  let deployment: Row;
  let ref: Awaited<ReturnType<typeof referenceServer>> | undefined;
  /** `shiplog dev` started again on the same data dir (the restart test). */
  let restarted: ChildProcess | undefined;
  const shiplog = (): Server => ({ name: 'shiplog', port: sl.sitesPort, host: `${project}.localhost` });
  const nextStart = (): Server => ({ name: 'next start', port: ref!.port, host: 'localhost' });
  const both = () => [shiplog(), nextStart()];

  beforeAll(async () => {
    sl = await startShiplog();
    await vi.waitFor(() => expect(existsSync(join(sl.dataDir, 'runtime.json'))).toBe(true), { timeout: 60_000, interval: 100 });
    work = mkdtempSync(join(tmpdir(), 'shiplog-app-isr-'));
    cpSync(fixture, work, { recursive: true, filter: (src) => !/node_modules|\.next|\.open-next/.test(src) });
    expect(spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: work }).status).toBe(0);
    const remote = sl.json<{ gitRemote: string }>(['projects', 'create', project]).gitRemote;
    gitCommitAll(work, 'isr app');
    gitPush(work, remote);
    // shiplog builds the push while the reference build runs here.
    ref = await referenceServer();
    const id = await deploymentOfHead(sl, project, work);
    const wait = sl.cli(['deployments', 'wait', id, '--timeout', '900'], 950_000);
    expect(wait.status, `${wait.stdout}\n${wait.stderr}\n${sl.cli(['logs', id]).stdout}`).toBe(0);
    deployment = sl.json<Row>(['deployments', 'get', id]);
  }, 1_500_000);

  afterAll(async () => {
    if (ref) {
      try {
        process.kill(-ref.child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      rmSync(ref.dir, { recursive: true, force: true });
    }
    if (restarted && restarted.exitCode === null && restarted.signalCode === null) {
      const exited = new Promise((r) => restarted!.once('exit', r));
      restarted.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 90_000))]);
      if (restarted.exitCode === null && restarted.signalCode === null) restarted.kill('SIGKILL');
    }
    await sl?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 180_000);

  it('went live', () => {
    expect(deployment.live).toBe(true);
  });

  it('every route answers as under next start: status, key headers, body (render times masked)', async () => {
    const table: string[] = [];
    let same = 0;
    for (const path of routes) {
      const [a, b] = [await get(shiplog(), path), await get(nextStart(), path)];
      const [x, y] = [comparable(a, shiplog(), path), comparable(b, nextStart(), path)];
      const ok = JSON.stringify(x) === JSON.stringify(y);
      if (ok) same++;
      table.push(`${ok ? 'same' : 'DIFF'} ${path}${ok ? '' : `\n  shiplog:    ${JSON.stringify(x)}\n  next start: ${JSON.stringify(y)}`}`);
    }
    console.log(`routes as next start serves them: ${same}/${routes.length}\n${table.join('\n')}`);
    expect(table.filter((row) => row.startsWith('DIFF'))).toEqual([]);
  });

  it('request.url and x-forwarded-proto carry the scheme the server was reached with (http)', async () => {
    for (const server of both()) {
      const seen = JSON.parse((await get(server, '/api/request')).body) as Record<string, string>;
      expect(seen, server.name).toEqual({ url: `http://${server.host}:${server.port}/api/request`, protocol: 'http:', forwardedProto: 'http', host: `${server.host}:${server.port}` });
    }
  });

  it('time-based ISR: a page past its revalidate time is served STALE, then regenerated in the background and served fresh', { timeout: 120_000 }, async () => {
    for (const server of both()) {
      let stale: PlainResponse | undefined;
      // The page is stale 2 s after its render: every request until then is a HIT of the same render.
      await expect.poll(async () => cacheState((stale = await get(server, '/isr'))), { timeout: 30_000, interval: 250 }).toBe('STALE');
      const old = renderedAt(stale!);
      let fresh: PlainResponse | undefined;
      await expect.poll(async () => renderedAt((fresh = await get(server, '/isr'))) > old, { timeout: 30_000, interval: 100 }).toBe(true);
      // The request that finds the new render gets it from the cache (next start answers HIT; it may be STALE again already).
      expect(['HIT', 'STALE'], server.name).toContain(cacheState(fresh!));
    }
  });

  it('a conditional GET of an ISR page whose ETag matches answers 304, as next start does', async () => {
    for (const server of both()) {
      const first = await get(server, '/tagged');
      const etag = String(first.headers.etag);
      expect(etag, server.name).toMatch(/^"/);
      const again = await get(server, '/tagged', { 'if-none-match': etag });
      expect([again.status, again.body], server.name).toEqual([304, '']);
    }
  });

  it('revalidateTag with a stale profile (max): the page is served STALE, then fresh', { timeout: 120_000 }, async () => {
    for (const server of both()) {
      const before = renderedAt(await get(server, '/tagged'));
      expect((await get(server, '/api/revalidate?tag=posts&profile=max')).status).toBe(200);
      const stale = await get(server, '/tagged');
      expect([cacheState(stale), renderedAt(stale)], server.name).toEqual(['STALE', before]);
      let fresh: PlainResponse | undefined;
      await expect.poll(async () => renderedAt((fresh = await get(server, '/tagged'))) > before, { timeout: 30_000, interval: 100 }).toBe(true);
      expect(cacheState(fresh!), server.name).toBe('HIT');
    }
  });

  it('revalidateTag with expire 0 and revalidatePath: the next request renders afresh (MISS)', { timeout: 120_000 }, async () => {
    for (const server of both()) {
      for (const query of ['tag=posts&expire=0', 'path=/tagged']) {
        const before = renderedAt(await get(server, '/tagged'));
        expect((await get(server, `/api/revalidate?${query}`)).status).toBe(200);
        const next = await get(server, '/tagged');
        expect(cacheState(next), `${server.name} ${query}`).toBe('MISS');
        expect(renderedAt(next)).toBeGreaterThan(before);
        // That render is stored as the response goes out (on shiplog, a file written beside it): then it is a HIT.
        await expect.poll(async () => cacheState(await get(server, '/tagged')), { timeout: 20_000, interval: 100 }).toBe('HIT');
      }
    }
  });

  it('res.revalidate() in a Pages Router API route regenerates the page at once, as under next start', async () => {
    for (const server of both()) {
      for (const path of ['/legacy/first', '/legacy/later']) {
        // /legacy/first was generated by the build, /legacy/later on its first request (fallback: 'blocking').
        const before = renderedAt(await get(server, path));
        const r = await get(server, `/api/revalidate-page?path=${path}`);
        expect([r.status, r.body], `${server.name} ${path}`).toEqual([200, JSON.stringify({ revalidated: path })]);
        const after = await get(server, path);
        expect(renderedAt(after), `${server.name} ${path}`).toBeGreaterThan(before);
        expect(cacheState(after), `${server.name} ${path}`).toBe('HIT');
      }
    }
  });

  it('the ISR cache and the tag revalidations survive a restart of shiplog dev', async () => {
    const server = shiplog();
    // A render of this run (not the build's), then a tag revalidation left pending: both must outlive the restart.
    const kept = renderedAt(await get(server, '/tagged'));
    expect((await get(server, '/api/revalidate?tag=posts&profile=max')).status).toBe(200);
    process.kill(sl.pid, 'SIGINT');
    await vi.waitFor(() => expect(() => process.kill(sl.pid, 0)).toThrow(), { timeout: 30_000, interval: 100 });
    restarted = spawn(process.execPath, ['cli/shiplog.mjs', 'dev'], { env: sl.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    for (const s of [restarted.stdout!, restarted.stderr!]) s.on('data', (c: Buffer) => (output += c.toString()));
    await vi.waitFor(async () => {
      expect(restarted!.exitCode, output).toBeNull();
      expect((await fetch(`http://127.0.0.1:${sl.port}/healthz`).catch(() => undefined))?.ok).toBe(true);
    }, { timeout: 90_000, interval: 250 });
    await vi.waitFor(async () => expect((await get(server, '/').catch(() => ({ status: 0 }))).status).toBe(200), { timeout: 60_000, interval: 250 });
    const after = await get(server, '/tagged');
    expect([cacheState(after), renderedAt(after)]).toEqual(['STALE', kept]);
    await expect.poll(async () => renderedAt(await get(server, '/tagged')) > kept, { timeout: 30_000, interval: 100 }).toBe(true);
  }, 240_000);
});
