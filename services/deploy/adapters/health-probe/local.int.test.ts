import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localHealthProbe } from './local.ts';

// A real HTTP server stands in for the site router: the probe's request is what is under test.
describe('localHealthProbe', () => {
  let server: Server;
  let port: number;
  const seen: IncomingMessage[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req);
      if (req.url === '/hang') return; // never answers
      if (req.url === '/big') return void res.writeHead(503).end('x'.repeat(100_000));
      res.writeHead(req.url === '/broken' ? 502 : 200, { 'content-type': 'text/plain' }).end(`you asked ${req.url}`);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  });
  const probe = () => localHealthProbe({ router: async () => ({ port }), maxBodyBytes: 64 });
  const check = (path: string, timeoutMs = 10_000) => probe().check({ projectId: 'web', deploymentId: '01JDABC', path, timeoutMs });

  it('asks the deployment\'s own host for the health path and keeps the status and first bytes', async () => {
    expect(await check('/api/health?x=1')).toEqual({ kind: 'response', status: 200, bodyStart: 'you asked /api/health?x=1' });
    expect(seen.at(-1)!.headers.host).toBe(`01jdabc-web.localhost:${port}`);
    expect(await check('/broken')).toEqual({ kind: 'response', status: 502, bodyStart: 'you asked /broken' });
    const big = await check('/big');
    expect(big).toEqual({ kind: 'response', status: 503, bodyStart: 'x'.repeat(64) });
  });

  it('reports no response when nothing answers in time or nothing listens', async () => {
    expect(await check('/hang', 300)).toEqual({ kind: 'no-response', error: 'no response within 300 ms' });
    const closed = localHealthProbe({ router: async () => ({ port: 1 }) });
    expect(await closed.check({ projectId: 'web', deploymentId: 'd', path: '/', timeoutMs: 5000 })).toMatchObject({ kind: 'no-response', error: expect.stringContaining('ECONNREFUSED') });
  });
});
