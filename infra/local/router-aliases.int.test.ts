import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { getFrom } from '../../test/support/local-shiplog.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSiteHost } from '../../services/deploy/adapters/site-host/local.ts';
import { startSiteRouter, type SiteRouter } from './router.ts';

// Preview branch URLs and basePath assets, on hand-made OpenNext-shaped artifacts that hold only
// static files (no function runs): which version answered is in x-shiplog-deployment.
const d1 = '01JD2Z8J6X3Q4R5S6T7V8W9XY1';
const d2 = '01JD2Z8J6X3Q4R5S6T7V8W9XY2';
const d3 = '01JD2Z8J6X3Q4R5S6T7V8W9XY3';

/** An artifact whose `hello.txt` says `label`; with `basePath`, laid out as OpenNext does for one. */
const makeArtifact = async (root: string, label: string, basePath = '') => {
  const dir = join(root, label);
  await mkdir(join(dir, 'assets/_next/static/chunks'), { recursive: true });
  await writeFile(join(dir, 'assets/_next/static/chunks/app.js'), `console.log(${JSON.stringify(label)})`);
  await writeFile(join(dir, 'assets/hello.txt'), `hello from ${label}\n`);
  const prefix = basePath ? `${basePath.slice(1)}/` : '';
  const output = {
    origins: {
      s3: { type: 's3', originPath: '_assets', copy: [{ from: '.open-next/assets', to: `_assets${basePath}`, cached: true }, { from: '.open-next/cache', to: '_cache', cached: false }] },
      default: { type: 'function', bundle: '.open-next/server-functions/default' },
    },
    behaviors: [{ pattern: '*', origin: 'default' }, { pattern: `${prefix}_next/*`, origin: 's3' }, { pattern: `${prefix}hello.txt`, origin: 's3' }, { pattern: 'hello.txt', origin: 's3' }],
  };
  await writeFile(join(dir, 'open-next.output.json'), JSON.stringify(output));
  return dir;
};

const get = getFrom;

describe('site router: preview branch URLs and basePath assets', () => {
  let root: string;
  let router: SiteRouter;
  let host: ReturnType<typeof localSiteHost>;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'shiplog-router-aliases-'));
    router = await startSiteRouter({ port: 0, dataDir: join(root, 'data'), envFor: async () => ({}) });
    host = localSiteHost({ dataDir: join(root, 'data'), port: router.port });
    await host.publish({ projectId: 'web', deploymentId: d1, artifactDir: await makeArtifact(root, 'main') });
    await host.publish({ projectId: 'web', deploymentId: d2, artifactDir: await makeArtifact(root, 'login-one') });
    await host.publish({ projectId: 'web', deploymentId: d3, artifactDir: await makeArtifact(root, 'login-two') });
    await host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: d1 });
    await host.shiftAlias({ projectId: 'web', alias: 'preview-feature-login', deploymentId: d2 });
    // A project whose own name looks like a branch URL of `web`.
    await host.publish({ projectId: 'fix--web', deploymentId: d1, artifactDir: await makeArtifact(root, 'fix-project') });
    await host.shiftAlias({ projectId: 'fix--web', alias: 'production', deploymentId: d1 });
    await host.publish({ projectId: 'docs', deploymentId: d1, artifactDir: await makeArtifact(root, 'docs', '/docs') });
    await host.shiftAlias({ projectId: 'docs', alias: 'production', deploymentId: d1 });
  });

  afterAll(async () => {
    await router?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('serves a branch URL from the branch preview alias, and follows it when it moves', async () => {
    const before = await get(router.port, 'feature-login--web.localhost', '/hello.txt');
    expect({ status: before.status, body: before.body, deployment: before.headers['x-shiplog-deployment'] }).toEqual({ status: 200, body: 'hello from login-one\n', deployment: d2 });
    await host.shiftAlias({ projectId: 'web', alias: 'preview-feature-login', deploymentId: d3 });
    const after = await get(router.port, 'Feature-Login--Web.localhost', '/hello.txt');
    expect({ body: after.body, deployment: after.headers['x-shiplog-deployment'] }).toEqual({ body: 'hello from login-two\n', deployment: d3 });
    const production = await get(router.port, 'web.localhost', '/hello.txt');
    expect(production.body).toBe('hello from main\n');
  });

  it('answers 404 for a branch that has no live preview', async () => {
    const res = await get(router.port, 'never-pushed--web.localhost', '/hello.txt');
    expect(res.status).toBe(404);
    expect(res.body).toContain('has no preview-never-pushed deployment');
  });

  it('serves a project whose own name holds -- as that project, not as a branch URL', async () => {
    const res = await get(router.port, 'fix--web.localhost', '/hello.txt');
    expect({ body: res.body, deployment: res.headers['x-shiplog-deployment'] }).toEqual({ body: 'hello from fix-project\n', deployment: d1 });
  });

  it("serves a basePath app's files under its basePath, as CloudFront finds them in S3", async () => {
    const file = await get(router.port, 'docs.localhost', '/docs/hello.txt');
    expect({ status: file.status, body: file.body }).toEqual({ status: 200, body: 'hello from docs\n' });
    const chunk = await get(router.port, 'docs.localhost', '/docs/_next/static/chunks/app.js');
    expect({ status: chunk.status, cache: chunk.headers['cache-control'] }).toEqual({ status: 200, cache: 'public, max-age=31536000, immutable' });
    // Outside the basePath there is nothing, though `assets/hello.txt` exists.
    expect((await get(router.port, 'docs.localhost', '/hello.txt')).status).toBe(404);
    // Without a basePath, files answer at the root.
    expect((await get(router.port, 'web.localhost', '/hello.txt')).status).toBe(200);
  });
});
