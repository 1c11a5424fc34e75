import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { getFrom } from '../../test/support/local-shiplog.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mount } from '../../events/index.ts';
import { localSiteHost } from '../../services/deploy/adapters/site-host/local.ts';
import { startSiteRouter, type SiteRouter } from './router.ts';

// Multi-zone on the site router, with hand-written OpenNext-shaped artifacts (the real builds
// are in test/e2e/multi-zone.e2e.test.ts): `web` mounts `outreach` at /outreach.
const w1 = '01JD2Z8J6X3Q4R5S6T7V8W9XW1';
const o1 = '01JD2Z8J6X3Q4R5S6T7V8W9X01';
const o2 = '01JD2Z8J6X3Q4R5S6T7V8W9X02';

const echo = (label: string) => `
export const handler = async (event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ label: ${JSON.stringify(label)}, path: event.rawPath, query: event.rawQueryString }),
});`;

// As OpenNext writes it for an app with `basePath` (behaviors and the S3 copy under the basePath).
const makeArtifact = async (root: string, label: string, basePath = '') => {
  const dir = join(root, label);
  const under = (p: string) => (basePath ? `${basePath.slice(1)}/${p}` : p);
  await mkdir(join(dir, 'assets/_next/static/chunks'), { recursive: true });
  await mkdir(join(dir, 'server-functions/default'), { recursive: true });
  await writeFile(join(dir, 'assets/_next/static/chunks/app.js'), `console.log(${JSON.stringify(label)})`);
  await writeFile(join(dir, 'server-functions/default/index.mjs'), echo(label));
  const output = {
    origins: {
      s3: { type: 's3', originPath: '_assets', copy: [{ from: '.open-next/assets', to: `_assets${basePath}` }] },
      default: { type: 'function', bundle: '.open-next/server-functions/default' },
    },
    behaviors: [{ pattern: '*', origin: 'default' }, { pattern: under('_next/*'), origin: 's3' }],
  };
  await writeFile(join(dir, 'open-next.output.json'), JSON.stringify(output));
  return dir;
};

const get = getFrom;

describe('site router: mounts (multi-zone)', () => {
  let root: string;
  let router: SiteRouter;
  let host: ReturnType<typeof localSiteHost>;
  let mounts: Mount[] = [{ prefix: '/outreach', project: 'outreach' }];
  const at = (path: string, hostName = 'web.localhost') => get(router.port, hostName, path);
  const served = async (path: string, hostName?: string) => {
    const res = await at(path, hostName);
    expect(res.status, res.body).toBe(200);
    return { deployment: res.headers['x-shiplog-deployment'], ...(JSON.parse(res.body) as { label: string; path: string; query: string }) };
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'shiplog-router-mounts-'));
    router = await startSiteRouter({
      port: 0, dataDir: join(root, 'data'), envFor: async () => ({}),
      mountsOf: async (projectId) => (projectId === 'web' ? mounts : []),
      resolveHost: async (h) => (h.startsWith('www.example.com') ? { projectId: 'web', alias: 'production' } : undefined),
    });
    host = localSiteHost({ dataDir: join(root, 'data'), port: router.port });
    await host.publish({ projectId: 'web', deploymentId: w1, artifactDir: await makeArtifact(root, 'web') });
    await host.publish({ projectId: 'outreach', deploymentId: o1, artifactDir: await makeArtifact(root, 'outreach-1', '/outreach') });
    await host.publish({ projectId: 'outreach', deploymentId: o2, artifactDir: await makeArtifact(root, 'outreach-2', '/outreach') });
    await host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: w1 });
    await host.shiftAlias({ projectId: 'outreach', alias: 'production', deploymentId: o2 });
  });

  afterAll(async () => {
    await router?.close();
    await rm(root, { recursive: true, force: true });
  });

  it("serves the prefix and everything under it from the mounted project's production, with the full path", async () => {
    expect(await served('/outreach')).toEqual({ deployment: o2, label: 'outreach-2', path: '/outreach', query: '' });
    expect(await served('/outreach/campaigns/7?tab=sent')).toEqual({ deployment: o2, label: 'outreach-2', path: '/outreach/campaigns/7', query: 'tab=sent' });
  });

  it('leaves every other path to the host project, /outreachx included', async () => {
    expect(await served('/')).toMatchObject({ deployment: w1, label: 'web', path: '/' });
    expect(await served('/outreachx')).toMatchObject({ deployment: w1, label: 'web', path: '/outreachx' });
    expect(await served('/about?from=/outreach')).toMatchObject({ deployment: w1, label: 'web' });
  });

  it("serves the mounted project's static files under its basePath", async () => {
    const chunk = await at('/outreach/_next/static/chunks/app.js');
    expect(chunk.status).toBe(200);
    expect(chunk.body).toBe('console.log("outreach-2")');
    expect(chunk.headers['x-shiplog-deployment']).toBe(o2);
    expect((await at('/_next/static/chunks/app.js')).body).toBe('console.log("web")');
  });

  it("applies on the host project's deployment URL and custom domains", async () => {
    expect(await served('/outreach/a', `${w1.toLowerCase()}-web.localhost`)).toMatchObject({ deployment: o2, path: '/outreach/a' });
    expect(await served('/', `${w1.toLowerCase()}-web.localhost`)).toMatchObject({ deployment: w1 });
    expect(await served('/outreach/a', 'www.example.com')).toMatchObject({ deployment: o2, path: '/outreach/a' });
  });

  it('follows a rollback of the mounted project at once', async () => {
    await host.shiftAlias({ projectId: 'outreach', alias: 'production', deploymentId: o1 });
    expect(await served('/outreach/a')).toMatchObject({ deployment: o1, label: 'outreach-1' });
    await host.shiftAlias({ projectId: 'outreach', alias: 'production', deploymentId: o2 });
    expect(await served('/outreach/a')).toMatchObject({ deployment: o2, label: 'outreach-2' });
  });

  it('says the mounted project is not deployed, and gives the prefix back to the host once unmounted', async () => {
    mounts = [...mounts, { prefix: '/soon', project: 'soon' }];
    const missing = await at('/soon/x');
    expect(missing.status).toBe(404);
    expect(missing.body).toContain('Project &#34;soon&#34; has no production deployment.');
    mounts = [];
    expect(await served('/outreach/a')).toMatchObject({ deployment: w1, label: 'web', path: '/outreach/a' });
  });
});
