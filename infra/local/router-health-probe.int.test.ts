import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localHealthProbe } from '../../services/deploy/adapters/health-probe/local.ts';
import { localSiteHost } from '../../services/deploy/adapters/site-host/local.ts';
import { startSiteRouter, type SiteRouter } from './router.ts';

// The real site router, with a published version whose function answers: what a rollback's probe reaches.
describe('localHealthProbe through the site router', () => {
  const d1 = '01JD2Z8J6X3Q4R5S6T7V8W9XY3';
  let root: string;
  let router: SiteRouter;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'shiplog-probe-router-'));
    const art = join(root, 'artifact');
    await mkdir(join(art, 'server-functions/default'), { recursive: true });
    await writeFile(
      join(art, 'server-functions/default/index.mjs'),
      'export const handler = async (event) => ({ statusCode: event.rawPath === "/down" ? 503 : 200, headers: { "content-type": "text/plain" }, body: "ok " + event.rawPath + " " + event.headers.host + " " + "z".repeat(2000) });',
    );
    await writeFile(join(art, 'open-next.output.json'), JSON.stringify({
      origins: { s3: { type: 's3' }, default: { type: 'function', handler: 'index.handler', bundle: '.open-next/server-functions/default' } },
      behaviors: [{ pattern: '*', origin: 'default' }],
    }));
    const dataDir = join(root, 'data');
    await localSiteHost({ dataDir, port: 0 }).publish({ projectId: 'web', deploymentId: d1, artifactDir: art });
    router = await startSiteRouter({ port: 0, dataDir, envFor: async () => ({}) });
  });
  afterAll(async () => {
    await router?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('reaches the version by its deployment host, check after check, and sees its failing answer as such', async () => {
    const p = localHealthProbe({ router: async () => ({ port: router.port }), maxBodyBytes: 40 });
    const check = (path: string, deploymentId = d1) => p.check({ projectId: 'web', deploymentId, path, timeoutMs: 20_000 });
    const host = `${d1.toLowerCase()}-web.localhost:${router.port}`;
    expect(await check('/health')).toEqual({ kind: 'response', status: 200, bodyStart: `ok /health ${host} `.padEnd(40, 'z').slice(0, 40) });
    expect(await check('/health')).toMatchObject({ kind: 'response', status: 200 });
    expect(await check('/down')).toMatchObject({ kind: 'response', status: 503, bodyStart: expect.stringMatching(/^ok \/down /) });
    expect(await check('/', '01JD2Z8J6X3Q4R5S6T7V8W9XY4')).toMatchObject({ kind: 'response', status: 404 });
  });
});
