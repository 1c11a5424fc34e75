import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionInvocationError } from '../local/sites/function-pool.ts';
import { startSitesEdge, type SitesEdge } from '../../test/support/sites-edge.ts';

// The front door's HTTP behaviour on the sites edge (test/support/sites-edge.ts): assets as S3
// answers them, streams, function failures and timeouts. Routing itself is in
// front-door-edge.int.test.ts and infra/aws/edge/site-router.unit.test.ts.
const DOMAIN = 'sites.localhost';
let edge: SitesEdge;
let d1: string;

beforeAll(async () => {
  edge = await startSitesEdge({
    // Stand in for a function that runs past its timeout, and for a streaming one, as the Lambda stand-in reports them.
    wrapInvoke: (invoke) => async (fn, event) => {
      const path = (event as { rawPath: string }).rawPath;
      if (path === '/timeout') throw new FunctionInvocationError(504, `${fn.functionName}:${fn.qualifier} timed out`);
      const out = await invoke(fn, event);
      if (path !== '/stream' || out.kind !== 'result') return out;
      const r = out.result as { statusCode: number; body: string };
      return { kind: 'stream', head: { statusCode: r.statusCode, headers: { 'content-type': 'text/plain' } }, body: Readable.from([r.body, ' (streamed)']) };
    },
  });
  d1 = await edge.deploy('web', 'v1');
  await edge.host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: d1 });
}, 120_000);
afterAll(async () => edge?.stop());

describe('front door', () => {
  it('serves the production alias through the server function, with the deployment it resolved', async () => {
    const res = await edge.get(`web.${DOMAIN}`, '/hello?x=1');
    expect([res.status, res.body, res.headers['x-shiplog-deployment'], res.headers['content-type']]).toEqual([200, `v1 /hello web.${DOMAIN} ${d1}`, d1, 'text/plain']);
  });

  it('serves assets from the sites bucket with their stored headers, as S3 answers HEAD, ranges and conditional GETs', async () => {
    const host = `${d1.toLowerCase()}-web.${DOMAIN}`;
    const js = await edge.get(host, '/_next/static/chunks/app-v1.js');
    expect([js.status, js.body, js.headers['content-type'], js.headers['cache-control']])
      .toEqual([200, "console.log('v1')", 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable']);
    const robots = await edge.get(host, '/robots.txt');
    expect([robots.status, robots.body, robots.headers['cache-control']]).toEqual([200, 'User-agent: * (v1)', 'public, max-age=0, must-revalidate']);
    expect((await edge.get(host, '/_next/static/chunks/app-v1.js', { 'if-none-match': js.headers.etag! })).status).toBe(304);
    const part = await edge.get(host, '/robots.txt', { range: 'bytes=0-3' });
    expect([part.status, part.body, part.headers['content-range']]).toEqual([206, 'User', `bytes 0-3/${'User-agent: * (v1)'.length}`]);
    const head = await edge.get(host, '/robots.txt', {}, 'HEAD');
    expect([head.status, head.body, head.headers['content-length']]).toEqual([200, '', String('User-agent: * (v1)'.length)]);
    // Another deployment's hashed file, and a missing one, are not this deployment's: 404, not the function.
    expect((await edge.get(host, '/_next/static/chunks/app-v2.js')).status).toBe(404);
    expect((await edge.get(host, '/robots.txt', {}, 'POST')).status).toBe(405);
  });

  it('writes a streamed response back as it comes', async () => {
    const res = await edge.get(`web.${DOMAIN}`, '/stream');
    expect([res.status, res.body, res.headers['x-shiplog-deployment']]).toEqual([200, `v1 /stream web.${DOMAIN} ${d1} (streamed)`, d1]);
  });

  it('answers 502 when the function throws, and logs it', async () => {
    const broken = await edge.deploy('broken', 'v1', 'export const handler = async () => { throw new Error("boom"); };');
    await edge.host.shiftAlias({ projectId: 'broken', alias: 'production', deploymentId: broken });
    const res = await edge.get(`broken.${DOMAIN}`);
    expect([res.status, res.headers['x-shiplog-deployment']]).toEqual([502, broken]);
    expect(edge.logs.some((l) => l.includes(broken) && l.includes('boom'))).toBe(true);
  });

  it('answers 504 when the function times out', async () => {
    const res = await edge.get(`web.${DOMAIN}`, '/timeout');
    expect([res.status, res.body]).toEqual([504, 'The site function timed out.\n']);
  });

  it('answers 400 for a path that does not decode', async () => {
    expect((await edge.get(`web.${DOMAIN}`, '/%ZZ')).status).toBe(400);
  });

  it("lets a POST's body reach the function only with its SHA-256, which the declared origin-request function adds (Lambda takes no unsigned payload)", async () => {
    const form = 'name=ada&note=%E2%9C%93';
    const posted = await edge.get(`web.${DOMAIN}`, '/submit', { 'content-type': 'application/x-www-form-urlencoded' }, 'POST', form);
    expect([posted.status, posted.body]).toEqual([200, `v1 /submit web.${DOMAIN} ${d1}`]);
    // Without it, as a browser's request reaches Lambda through origin access control: refused before the function.
    edge.bodyHash(false);
    try {
      const refused = await edge.get(`web.${DOMAIN}`, '/submit', { 'content-type': 'application/x-www-form-urlencoded' }, 'POST', form);
      expect([refused.status, refused.headers['x-amzn-errortype']]).toEqual([403, 'InvalidSignatureException']);
      // A read has no body to hash, either way.
      expect((await edge.get(`web.${DOMAIN}`, '/hello')).status).toBe(200);
    } finally {
      edge.bodyHash(true);
    }
  });
});
