import { request, type IncomingHttpHeaders } from 'node:http';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deploymentOfHead, getFrom, gitCommitAll, gitPush, startShiplog, type LocalShiplog } from '../support/local-shiplog.ts';
import { buildReference, startNext } from '../support/reference-app.ts';
import { openStreaming } from '../support/streaming.ts';

// Responses stream on the local runtime: a real `shiplog dev` builds the streaming fixture with
// shiplog's OpenNext config (the streaming wrapper) and the site router serves it. Nothing here
// measures time: the slow parts wait for a signal the test sends (the fixture's /api/release),
// so "before" and "after" are orderings the responses must show. `next start` of the same source
// is held to the same orderings, as the reference.
const fixture = new URL('../fixtures/streaming-app/', import.meta.url).pathname;
const project = 'streams';

interface Row { id: string; status: string; live: boolean }

/** Where a server of the fixture answers: shiplog's site router, or `next start`. */
interface Server { port: number; host: string }

/** `next build` + `next start` of the fixture, as a developer would run it. */
const referenceServer = async (): Promise<{ port: number; dir: string; child: ChildProcess }> => {
  const dir = mkdtempSync(join(tmpdir(), 'shiplog-ref-streams-'));
  cpSync(fixture, dir, { recursive: true, filter: (src) => !/node_modules|\.next|\.open-next/.test(src) });
  const { port, child } = await startNext(dir, buildReference(dir, 'npm ci'));
  await vi.waitFor(async () => expect((await getFrom(port, 'localhost', '/').catch(() => ({ status: 0 }))).status).toBe(200), { timeout: 60_000, interval: 200 });
  return { port, dir, child };
};

const json = async <T>(server: Server, path: string): Promise<T> => {
  const res = await getFrom(server.port, server.host, path);
  expect(res.status, res.body).toBe(200);
  return JSON.parse(res.body) as T;
};

/** The orderings every server of the fixture must show (shiplog's router and `next start` alike). */
const suspenseStreams = async (server: Server, headers: Record<string, string>) => {
  const id = ulid();
  const page = await openStreaming(server, `/suspense?id=${id}`, headers);
  expect(page.status).toBe(200);
  expect(page.headers['content-type']).toMatch(/^text\/html/);
  expect(page.headers['content-encoding']).toBe(headers['accept-encoding']);
  const shell = await page.until((t) => t.includes('id="fallback"'));
  expect(shell).toContain('streaming shell');
  expect(shell).not.toContain('id="slow"');
  expect(page.ended()).toBe(false);
  // The slow part is waiting for this request, which the server answers while the page is open.
  expect(await json(server, `/api/release?name=suspense:${id}`)).toEqual({ released: `suspense:${id}` });
  const whole = await page.end();
  expect(whole.startsWith(shell)).toBe(true);
  expect(whole.slice(shell.length)).toMatch(/id="slow">slow part (<!-- -->)?released/);
};

const eventsStream = async (server: Server) => {
  const id = ulid();
  const events = await openStreaming(server, `/api/events?id=${id}`);
  expect(events.status).toBe(200);
  expect(events.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  expect(events.headers['content-encoding']).toBeUndefined();
  const two = await events.until((t) => t.split('\n\n').length > 2);
  expect(two.startsWith('id: 1\nevent: tick\ndata: {"n":1}\n\nid: 2\nevent: tick\ndata: {"n":2}\n\n')).toBe(true);
  expect(events.ended()).toBe(false);
  expect(await json(server, `/api/after-state?id=events:${id}`)).toEqual({ id: `events:${id}`, marker: 'streaming' });
  events.close();
  // The server heard the client leave: Next cancelled the route's stream.
  await expect.poll(async () => (await json<{ marker: string }>(server, `/api/after-state?id=events:${id}`)).marker, { timeout: 20_000 }).toBe('cancelled');
  expect((await getFrom(server.port, server.host, '/')).status).toBe(200);
};

const afterRunsAfterTheResponse = async (server: Server) => {
  const id = ulid();
  // The callback waits for a release that only comes once this response is complete: a
  // response held until its after() work finished would never complete here.
  const res = await openStreaming(server, `/api/after?id=${id}`);
  expect(res.status).toBe(200);
  expect(JSON.parse(await res.end())).toEqual({ accepted: id });
  expect(await json(server, `/api/after-state?id=${id}`)).toEqual({ id, marker: 'pending' });
  expect(await json(server, `/api/release?name=after:${id}`)).toEqual({ released: `after:${id}` });
  await expect.poll(async () => (await json<{ marker: string }>(server, `/api/after-state?id=${id}`)).marker, { timeout: 20_000 }).toBe('done (released)');
};

const compressions: [string, Record<string, string>][] = [
  ['uncompressed', {}],
  ['gzip, flushed block by block', { 'accept-encoding': 'gzip' }],
];

describe('responses stream as they are produced', () => {
  let sl: LocalShiplog;
  let work: string;
  let deployment: Row;
  let ref: Awaited<ReturnType<typeof referenceServer>> | undefined;
  const shiplog = (): Server => ({ port: sl.sitesPort, host: `${project}.localhost` });
  const nextStart = (): Server => ({ port: ref!.port, host: 'localhost' });

  beforeAll(async () => {
    sl = await startShiplog();
    await vi.waitFor(() => expect(existsSync(join(sl.dataDir, 'runtime.json'))).toBe(true), { timeout: 60_000, interval: 100 });
    work = mkdtempSync(join(tmpdir(), 'shiplog-app-streams-'));
    cpSync(fixture, work, { recursive: true, filter: (src) => !/node_modules|\.next|\.open-next/.test(src) });
    expect(spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: work }).status).toBe(0);
    const remote = sl.json<{ gitRemote: string }>(['projects', 'create', project]).gitRemote;
    gitCommitAll(work, 'streaming app');
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
    await sl?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('went live', () => {
    expect(deployment.live).toBe(true);
  });

  it.each(compressions)('a Suspense page sends its shell and fallback first, the slow part later in the same response (%s)', async (_, headers) => {
    await suspenseStreams(shiplog(), headers);
  });

  it('an endless event stream delivers its events as they come; leaving it cancels the stream in the function', async () => {
    await eventsStream(shiplog());
  });

  it('after() runs once the response has ended, and its effect shows afterwards', async () => {
    await afterRunsAfterTheResponse(shiplog());
  });

  it('a plain page keeps the headers of a whole response, and HEAD answers the same without a body', async () => {
    const home = await getFrom(sl.sitesPort, `${project}.localhost`, '/');
    expect(home.status).toBe(200);
    expect(home.body).toContain('streaming fixture');
    expect(home.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(home.headers['content-encoding']).toBeUndefined();
    expect(home.headers['x-shiplog-deployment']).toBe(deployment.id);
    const head = await new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: sl.sitesPort, path: '/', method: 'HEAD', agent: false, headers: { host: `${project}.localhost:${sl.sitesPort}` } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    const key = (h: IncomingHttpHeaders) => ({ type: h['content-type'], cache: h['cache-control'], etag: h.etag, vary: h.vary, deployment: h['x-shiplog-deployment'] });
    expect(key(head.headers)).toEqual(key(home.headers));
  });

  it('next start of the same source shows the same orderings (the reference)', async () => {
    for (const [, headers] of compressions) await suspenseStreams(nextStart(), headers);
    await eventsStream(nextStart());
    await afterRunsAfterTheResponse(nextStart());
  });
});
