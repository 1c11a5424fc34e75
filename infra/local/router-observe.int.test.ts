import { request } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSiteHost } from '../../services/deploy/adapters/site-host/local.ts';
import { getFrom } from '../../test/support/local-shiplog.ts';
import { startSiteRouter, type SiteRouter } from './router.ts';
import { maxEventBodyBytes } from './sites/apigw.ts';

// The router as the runtime starts it, with each served request observed (the runtime log's
// request lines): a request whose body is refused while it is still being sent must end with a
// 413 and an observed outcome, and the router must go on serving.
const d1 = '01JD2Z8J6X3Q4R5S6T7V8W9XY3';
let root: string;
let router: SiteRouter;
const outcomes: { path: string; status: number }[] = [];

/** A POST of `bytes` zero bytes; resolves with the status, or the error that ended the request. */
const post = (bytes: number) => new Promise<string>((resolve) => {
  const req = request({ host: '127.0.0.1', port: router.port, path: '/upload', method: 'POST', headers: { host: 'obs.localhost', 'content-length': String(bytes) } }, (res) => {
    res.resume();
    res.on('end', () => resolve(String(res.statusCode)));
  });
  req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  req.end(Buffer.alloc(bytes));
});

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'shiplog-router-observe-'));
  const art = join(root, 'artifact');
  await mkdir(join(art, 'server-functions/default'), { recursive: true });
  await writeFile(join(art, 'server-functions/default/index.mjs'),
    "export const handler = async (event) => ({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'got ' + (event.body ?? '').length });");
  await writeFile(join(art, 'open-next.output.json'), JSON.stringify({
    origins: { default: { type: 'function', handler: 'index.handler', bundle: '.open-next/server-functions/default' } },
    behaviors: [{ pattern: '*', origin: 'default' }],
  }));
  const dataDir = join(root, 'data');
  const host = localSiteHost({ dataDir, port: 0 });
  await host.publish({ projectId: 'obs', deploymentId: d1, artifactDir: art });
  await host.shiftAlias({ projectId: 'obs', alias: 'production', deploymentId: d1 });
  router = await startSiteRouter({
    port: 0, dataDir, envFor: async () => ({}),
    observe: (served) => (outcome) => outcomes.push({ path: served.path, status: outcome.status }),
  });
});
afterAll(async () => {
  await router?.close();
  await rm(root, { recursive: true, force: true });
});

describe('site router: observed requests', () => {
  it('goes on serving after request bodies over the limit, each observed', async () => {
    expect(await post(1000)).toBe('200');
    for (const bytes of [maxEventBodyBytes + 1, 2 * maxEventBodyBytes]) {
      // Refused with 413, or the connection reset while the client still sends (as a server that stops reading does).
      expect(['413', 'ECONNRESET', 'EPIPE']).toContain(await post(bytes));
      expect(await getFrom(router.port, 'obs.localhost', '/after')).toMatchObject({ status: 200, body: 'got 0' });
    }
    await expect.poll(() => outcomes.filter((o) => o.path === '/upload').map((o) => o.status)).toEqual([200, 413, 413]);
  });
});
