import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSiteHost } from '../../services/deploy/adapters/site-host/local.ts';
import { startSiteRouter, type SiteRouter } from './router.ts';

// Malformed site requests answer 400 from the router, before any function runs; a hand-made
// OpenNext-shaped artifact whose function and image optimizer echo what they were asked.
const d1 = '01JD2Z8J6X3Q4R5S6T7V8W9XY1';
const echo = (label: string) => `export const handler = async (event) => ({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: ${JSON.stringify(label)} + ' ' + event.rawPath });`;

const send = (port: number, host: string, path: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });

let root: string;
let router: SiteRouter;
const web = () => `web.localhost:${router.port}`;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'shiplog-router-paths-'));
  const art = join(root, 'artifact');
  await mkdir(join(art, 'assets'), { recursive: true });
  await writeFile(join(art, 'assets/hello.txt'), 'hello\n');
  for (const fn of ['default', 'image']) {
    await mkdir(join(art, `server-functions/${fn}`), { recursive: true });
    await writeFile(join(art, `server-functions/${fn}/index.mjs`), echo(fn));
  }
  await writeFile(join(art, 'open-next.output.json'), JSON.stringify({
    origins: { s3: { type: 's3' }, default: { type: 'function', bundle: '.open-next/server-functions/default' }, imageOptimizer: { type: 'function', bundle: '.open-next/server-functions/image' } },
    behaviors: [{ pattern: '*', origin: 'default' }, { pattern: '_next/image*', origin: 'imageOptimizer' }, { pattern: 'hello.txt', origin: 's3' }],
  }));
  const dataDir = join(root, 'data');
  const host = localSiteHost({ dataDir, port: 0 });
  await host.publish({ projectId: 'web', deploymentId: d1, artifactDir: art });
  await host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: d1 });
  router = await startSiteRouter({ port: 0, dataDir, envFor: async () => ({}), resolveHost: async (h) => (h.startsWith('bad.example') ? { projectId: 'Bad_Name', alias: 'production' } : undefined) });
});
afterAll(async () => {
  await router?.close();
  await rm(root, { recursive: true, force: true });
});

describe('site router: malformed requests', () => {
  it('answers 400 for a path that does not percent-decode, on assets and functions alike', async () => {
    expect(await send(router.port, web(), '/%ZZ')).toMatchObject({ status: 400, body: expect.stringContaining('not valid percent-encoding') });
    expect((await send(router.port, web(), '/hello%ZZ.txt')).status).toBe(400);
    expect((await send(router.port, `${d1.toLowerCase()}-web.localhost:${router.port}`, '/a/%E0%A4%A')).status).toBe(400);
    expect(await send(router.port, web(), '/page')).toEqual({ status: 200, body: 'default /page' });
    expect(await send(router.port, web(), '/hello.txt')).toEqual({ status: 200, body: 'hello\n' });
  });

  it('answers 400 for /_next/image with a bad url, w or q, and serves a good one', async () => {
    for (const q of ['', '?w=64&q=75', '?url=%ZZ&w=64&q=75', '?url=%2F%2Fevil.example%2Fa.png&w=64&q=75', '?url=%2Fa.png&w=x&q=75', '?url=%2Fa.png&w=64&q=500']) {
      expect((await send(router.port, web(), `/_next/image${q}`)).status, q).toBe(400);
    }
    expect(await send(router.port, web(), '/_next/image?url=%2Fa.png&w=64&q=75')).toEqual({ status: 200, body: 'image /_next/image' });
  });

  it('answers 400, not 500, when a custom domain names an invalid project', async () => {
    expect(await send(router.port, 'bad.example.com', '/')).toMatchObject({ status: 400, body: expect.stringContaining('not a valid project name') });
  });
});
