import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSiteRouter, type SiteRouter } from '../../infra/local/router.ts';
import { localSiteHost } from '../../services/deploy/adapters/site-host/local.ts';
import { customHostResolver } from '../../services/domains/index.ts';
import { startDomains, type DomainsHarness } from './harness.ts';

const d1 = '01JD2Z8J6X3Q4R5S6T7V8W9XY1';
let h: DomainsHarness;
let router: SiteRouter;

// A hand-made published version with one static file, as in infra/local/router.int.test.ts.
const makeArtifact = async (dir: string) => {
  await mkdir(join(dir, 'assets'), { recursive: true });
  await mkdir(join(dir, 'server-functions/default'), { recursive: true });
  await writeFile(join(dir, 'assets/hello.txt'), 'hello from web\n');
  await writeFile(join(dir, 'server-functions/default/index.mjs'), 'export const handler = async () => ({ statusCode: 200, body: "fn" });');
  await writeFile(join(dir, 'open-next.output.json'), JSON.stringify({
    origins: { s3: { type: 's3' }, default: { type: 'function', bundle: '.open-next/server-functions/default' } },
    behaviors: [{ pattern: '*', origin: 'default' }, { pattern: 'hello.txt', origin: 's3' }],
  }));
  return dir;
};

const get = (host: string, path: string) =>
  new Promise<{ status: number; body: string; deployment: string | undefined }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: router.port, path, headers: { host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), deployment: res.headers['x-shiplog-deployment'] as string | undefined }));
    });
    req.on('error', reject);
    req.end();
  });

beforeAll(async () => {
  h = await startDomains(import.meta.url);
  await h.ingest.createProject({ name: 'web' });
  const dataDir = join(h.dataDir, 'sites-data');
  router = await startSiteRouter({ port: 0, dataDir, envFor: async () => ({}), resolveHost: customHostResolver({ store: h.store, ttlMs: 0 }) });
  const host = localSiteHost({ dataDir, port: router.port });
  await host.publish({ projectId: 'web', deploymentId: d1, artifactDir: await makeArtifact(join(h.dataDir, 'artifact')) });
  await host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: d1 });
});
afterAll(async () => {
  await router?.close();
  await h?.stop();
});

describe('site router with custom domains', () => {
  it('serves an active custom host as its project alias, and stops when it is removed', async () => {
    const host = 'www.custom-example.com';
    expect((await get(`${host}:${router.port}`, '/hello.txt')).status).toBe(404);
    await h.call('POST', '/api/projects/web/domains', { host });
    expect((await get(host, '/hello.txt')).status).toBe(404); // added, not active yet
    await h.deliver();
    expect(await get(`${host.toUpperCase()}:${router.port}`, '/hello.txt')).toEqual({ status: 200, body: 'hello from web\n', deployment: d1 });
    expect(await get(`web.localhost:${router.port}`, '/hello.txt')).toMatchObject({ status: 200, deployment: d1 });

    await h.call('DELETE', `/api/projects/web/domains/${host}`);
    expect((await get(host, '/hello.txt')).status).toBe(404);
  });

  it('does not serve a redirect domain as the app', async () => {
    await h.call('POST', '/api/projects/web/domains', { host: 'custom-example.com', redirectTo: 'www.custom-example.com' });
    await h.deliver();
    expect((await get('custom-example.com', '/hello.txt')).status).toBe(404);
  });
});
