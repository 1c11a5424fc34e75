import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSiteHost } from '../../services/deploy/adapters/site-host/local.ts';
import { getFrom } from '../../test/support/local-shiplog.ts';
import { startSiteRouter, type SiteRouter } from './router.ts';

// An app that splits functions (open-next.config.ts `functions.api` with `patterns: ['/api/*']`):
// `open-next build` writes that pattern with its leading slash, beside its own slash-less ones,
// exactly as in this artifact's open-next.output.json (OpenNext's examples/app-pages-router).
// Each function echoes its name, so the test sees which one answered.
const d1 = '01JD2Z8J6X3Q4R5S6T7V8W9XY2';
const echo = (label: string) => `export const handler = async (event) => ({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: ${JSON.stringify(label)} + ' ' + event.rawPath });`;

let root: string;
let router: SiteRouter;
const get = (path: string) => getFrom(router.port, 'split.localhost', path);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'shiplog-router-functions-'));
  const art = join(root, 'artifact');
  await mkdir(join(art, 'assets/static'), { recursive: true });
  await writeFile(join(art, 'assets/static/a.txt'), 'asset\n');
  for (const fn of ['default', 'api', 'image']) {
    await mkdir(join(art, `server-functions/${fn}`), { recursive: true });
    await writeFile(join(art, `server-functions/${fn}/index.mjs`), echo(fn));
  }
  const fn = (name: string) => ({ type: 'function', handler: 'index.handler', bundle: `.open-next/server-functions/${name}` });
  await writeFile(join(art, 'open-next.output.json'), JSON.stringify({
    origins: { s3: { type: 's3' }, imageOptimizer: fn('image'), default: fn('default'), api: fn('api') },
    behaviors: [
      { pattern: '_next/image*', origin: 'imageOptimizer' }, { pattern: '/api/*', origin: 'api' }, { pattern: '_next/data/*', origin: 'default' },
      { pattern: '*', origin: 'default' }, { pattern: 'BUILD_ID', origin: 's3' }, { pattern: '_next/*', origin: 's3' }, { pattern: 'static/*', origin: 's3' },
    ],
  }));
  const dataDir = join(root, 'data');
  const host = localSiteHost({ dataDir, port: 0 });
  await host.publish({ projectId: 'split', deploymentId: d1, artifactDir: art });
  await host.shiftAlias({ projectId: 'split', alias: 'production', deploymentId: d1 });
  router = await startSiteRouter({ port: 0, dataDir, envFor: async () => ({}) });
});
afterAll(async () => {
  await router?.close();
  await rm(root, { recursive: true, force: true });
});

describe('site router: split functions', () => {
  it('sends a path under a split function\'s `/api/*` pattern to that function, as CloudFront does', async () => {
    expect(await get('/api/client')).toMatchObject({ status: 200, body: 'api /api/client' });
    expect(await get('/api/hello?x=1')).toMatchObject({ status: 200, body: 'api /api/hello' });
  });

  it('leaves everything else where it was: the default function, the image function and assets', async () => {
    expect(await get('/apiary')).toMatchObject({ status: 200, body: 'default /apiary' });
    expect(await get('/api')).toMatchObject({ status: 200, body: 'default /api' });
    expect(await get('/_next/data/b/index.json')).toMatchObject({ status: 200, body: 'default /_next/data/b/index.json' });
    expect(await get('/_next/image?url=%2Fa.png&w=64&q=75')).toMatchObject({ status: 200, body: 'image /_next/image' });
    expect(await get('/static/a.txt')).toMatchObject({ status: 200, body: 'asset\n' });
  });
});
