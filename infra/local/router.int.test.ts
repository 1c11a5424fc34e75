import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { localSiteHost, siteLayout } from '../../services/deploy/adapters/site-host/local.ts';
import { startSiteRouter, type SiteRouter } from './router.ts';

// Hand-written OpenNext-shaped artifacts: routing, env isolation, crashes and streaming
// without building Next (the real build is covered by test/e2e/serving.e2e.test.ts).
const d1 = '01JD2Z8J6X3Q4R5S6T7V8W9XY1';
const d2 = '01JD2Z8J6X3Q4R5S6T7V8W9XY2';

// `/slow` says it started, then holds its response until the test creates the `slow-gate` file
// in its version's folder (all a sandboxed function can see). `instance` names its process.
const bufferedFn = (label: string) => `
import { existsSync } from 'node:fs';
import { join } from 'node:path';
const instance = Math.random().toString(36).slice(2);
export const handler = async (event) => {
  if (event.rawPath === '/crash') process.exit(3);
  if (event.rawPath === '/throw') throw new Error('boom');
  if (event.rawPath === '/slow') {
    console.log('slow: started');
    while (!existsSync(join(process.cwd(), '..', '..', 'slow-gate'))) await new Promise((r) => setTimeout(r, 10));
  }
  const body = event.body ? Buffer.from(event.body, 'base64').toString('utf8') : null;
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json', 'x-multi': 'a, b' },
    cookies: ['a=1; Path=/', 'b=2; Path=/'],
    body: JSON.stringify({ label: ${JSON.stringify(label)}, path: event.rawPath, query: event.rawQueryString, cookies: event.cookies ?? [],
      method: event.requestContext.http.method, body, greeting: process.env.GREETING ?? null,
      leaked: Object.keys(process.env).filter((k) => k.startsWith('SHIPLOG_') || k.startsWith('AWS_')), instance }),
  };
};`;

const streamingFn = `
export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 201, headers: { 'content-type': 'text/plain', vary: 'x-theme' }, cookies: ['s=1'] });
  stream.write('hello ');
  await new Promise((r) => setTimeout(r, 20));
  stream.end('streamed world');
});`;

const makeArtifact = async (root: string, label: string, fn: string) => {
  const dir = join(root, label);
  await mkdir(join(dir, 'assets/_next/static/chunks'), { recursive: true });
  await mkdir(join(dir, 'server-functions/default'), { recursive: true });
  await writeFile(join(dir, 'assets/_next/static/chunks/app.js'), `console.log(${JSON.stringify(label)})`);
  await writeFile(join(dir, 'assets/hello.txt'), `hello from ${label}\n`);
  await writeFile(join(dir, 'server-functions/default/index.mjs'), fn);
  const output = {
    origins: { s3: { type: 's3' }, default: { type: 'function', bundle: '.open-next/server-functions/default' } },
    behaviors: [{ pattern: '*', origin: 'default' }, { pattern: '_next/*', origin: 's3' }, { pattern: 'hello.txt', origin: 's3' }],
  };
  await writeFile(join(dir, 'open-next.output.json'), JSON.stringify(output));
  return dir;
};

interface Res { status: number; headers: Record<string, string | string[] | undefined>; body: string }
const send = (port: number, host: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
  new Promise<Res>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: { host, ...init.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(init.body);
  });

describe('site router (hand-made artifacts)', () => {
  let root: string;
  let router: SiteRouter;
  let host: ReturnType<typeof localSiteHost>;
  const web = () => `web.localhost:${router.port}`;
  const functionLogs: string[] = [];
  const gate = () => join(siteLayout(join(root, 'data')).versionDir('web', d1), 'slow-gate');

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'shiplog-router-'));
    process.env.SHIPLOG_SECRET_FOR_TEST = 'must not leak';
    router = await startSiteRouter({
      port: 0, dataDir: join(root, 'data'), envFor: async (_p, d) => ({ GREETING: `hi from ${d}` }),
      onFunctionLog: (key, line) => functionLogs.push(`${key}: ${line}`),
    });
    host = localSiteHost({ dataDir: join(root, 'data'), port: router.port });
    await host.publish({ projectId: 'web', deploymentId: d1, artifactDir: await makeArtifact(root, 'one', bufferedFn('one')) });
    await host.publish({ projectId: 'web', deploymentId: d2, artifactDir: await makeArtifact(root, 'two', bufferedFn('two')) });
    await host.publish({ projectId: 'streamer', deploymentId: d1, artifactDir: await makeArtifact(root, 'stream', streamingFn) });
    await host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: d1 });
    await host.shiftAlias({ projectId: 'streamer', alias: 'production', deploymentId: d1 });
  });

  afterAll(async () => {
    delete process.env.SHIPLOG_SECRET_FOR_TEST;
    await router?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('maps a request to an API Gateway v2 event and the result back, cookies included', async () => {
    const res = await send(router.port, web(), '/api/echo?x=1&x=2', { method: 'POST', headers: { cookie: 'k=v; z=9' }, body: 'payload' });
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(res.headers['x-shiplog-deployment']).toBe(d1);
    expect(JSON.parse(res.body)).toMatchObject({
      label: 'one', path: '/api/echo', query: 'x=1&x=2', cookies: ['k=v', 'z=9'], method: 'POST', body: 'payload', greeting: `hi from ${d1}`, leaked: [],
    });
  });

  it('serves assets with immutable or revalidated caching, and 304 on a matching ETag', async () => {
    const chunk = await send(router.port, web(), '/_next/static/chunks/app.js');
    expect(chunk.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(chunk.headers['content-type']).toMatch(/javascript/);
    const file = await send(router.port, web(), '/hello.txt');
    expect(file.body).toBe('hello from one\n');
    expect(file.headers['cache-control']).toBe('public, max-age=0, must-revalidate');
    const again = await send(router.port, web(), '/hello.txt', { headers: { 'if-none-match': String(file.headers.etag) } });
    expect(again.status).toBe(304);
    expect((await send(router.port, web(), '/_next/static/nope.js')).status).toBe(404);
    expect((await send(router.port, web(), '/_next/static/..%2f..%2fopen-next.output.json')).status).toBe(404);
  });

  it('serves a deployment by its own host, whatever the alias says', async () => {
    const res = await send(router.port, `${d2.toLowerCase()}-web.localhost:${router.port}`, '/');
    expect(JSON.parse(res.body)).toMatchObject({ label: 'two', greeting: `hi from ${d2}` });
  });

  it('shifts the alias between requests, and a request in flight finishes on its version', async () => {
    const inFlight = send(router.port, web(), '/slow');
    await vi.waitFor(() => expect(functionLogs).toContain(`web/${d1}/default: slow: started`));
    await host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: d2 });
    await writeFile(gate(), '');
    expect(JSON.parse((await inFlight).body).label).toBe('one');
    expect(JSON.parse((await send(router.port, web(), '/')).body).label).toBe('two');
    await host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: d1 });
    expect(JSON.parse((await send(router.port, web(), '/')).body).label).toBe('one');
  });

  it('answers clear 404s for unknown hosts, projects and deployments', async () => {
    const unknownHost = await send(router.port, 'example.com', '/');
    expect(unknownHost.status).toBe(404);
    expect(unknownHost.body).toContain('No site here');
    expect((await send(router.port, `nothing.localhost:${router.port}`, '/')).body).toContain('has no production deployment');
    expect((await send(router.port, `01jd2z8j6x3q4r5s6t7v8w9xy9-web.localhost:${router.port}`, '/')).body).toContain('No such deployment');
  });

  it('turns a crash into a 502 and restarts the function on the next request', async () => {
    const before = JSON.parse((await send(router.port, web(), '/')).body).instance as string;
    const crashed = await send(router.port, web(), '/crash');
    expect(crashed.status).toBe(502);
    expect(crashed.body).toContain('exited (code 3)');
    const thrown = await send(router.port, web(), '/throw');
    expect(thrown.status).toBe(502);
    const after = await send(router.port, web(), '/');
    expect(after.status).toBe(200);
    expect(JSON.parse(after.body).instance).not.toBe(before);
  });

  it('passes a streamed response through', async () => {
    const res = await send(router.port, `streamer.localhost:${router.port}`, '/');
    expect(res.status).toBe(201);
    expect(res.headers['set-cookie']).toEqual(['s=1']);
    expect(res.body).toBe('hello streamed world');
    // OpenNext's streaming wrapper encodes a body by the request's Accept-Encoding and does not say so.
    expect(res.headers.vary).toBe('x-theme, Accept-Encoding');
  });

  it('runs one environment per deployment function', () => {
    expect(router.runningFunctions().sort()).toEqual([`streamer/${d1}/default`, `web/${d1}/default`, `web/${d2}/default`]);
  });

  it('stops idle environments, and starts them again on demand', async () => {
    const quick = await startSiteRouter({ port: 0, dataDir: join(root, 'data'), envFor: async () => ({}), idleMs: 1000 });
    try {
      const host = `web.localhost:${quick.port}`;
      expect((await send(quick.port, host, '/')).status).toBe(200);
      expect(quick.runningFunctions()).toEqual([`web/${d1}/default`]);
      await expect.poll(() => quick.runningFunctions(), { timeout: 10_000 }).toEqual([]);
      expect((await send(quick.port, host, '/')).status).toBe(200);
    } finally {
      await quick.close();
    }
  });
});
