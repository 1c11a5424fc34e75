import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localHealthProbe } from './local.ts';

// A real HTTP server stands in for the site router: the probe's request is what is under test.
describe('localHealthProbe', () => {
  let server: Server;
  let port: number;
  const seen: IncomingMessage[] = [];
  const connections: Socket[] = [];
  // Sockets that have served a request: `/stale-once` is cut on such a socket, once, as a router
  // closing an idle kept connection just as a check is sent on it.
  const served = new WeakSet<Socket>();
  let staleCut = false;
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req);
      if (req.url === '/stale-once' && served.has(req.socket) && !staleCut) {
        staleCut = true;
        return void req.socket.destroy();
      }
      served.add(req.socket);
      if (req.url === '/hang') return; // never answers
      if (req.url === '/big') return void res.writeHead(503).end('x'.repeat(100_000));
      if (req.url === '/endless') return void res.writeHead(200).write('y'.repeat(1000)); // a head and a body that never ends
      res.writeHead(req.url === '/broken' ? 502 : 200, { 'content-type': 'text/plain' }).end(`you asked ${req.url}`);
    });
    server.on('connection', (s: Socket) => connections.push(s));
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  });
  const probe = () => localHealthProbe({ router: async () => ({ port }), maxBodyBytes: 64 });
  const check = (path: string, timeoutMs = 10_000, p = probe()) => p.check({ projectId: 'web', deploymentId: '01JDABC', path, timeoutMs });

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

  it('keeps its connection for the next check, a body longer than it keeps included (read to its end and dropped)', async () => {
    const p = probe();
    const before = connections.length;
    expect(await check('/a', 10_000, p)).toEqual({ kind: 'response', status: 200, bodyStart: 'you asked /a' });
    expect(await check('/big', 10_000, p)).toEqual({ kind: 'response', status: 503, bodyStart: 'x'.repeat(64) });
    // The rest of /big is read behind the answer; the connection is free once it has been.
    await new Promise((r) => setTimeout(r, 50));
    expect(await check('/b', 10_000, p)).toEqual({ kind: 'response', status: 200, bodyStart: 'you asked /b' });
    expect(connections.length - before).toBe(1);
  });

  it('sends a check again, on a new connection, when the kept one was closed as it went out', async () => {
    const p = probe();
    const before = connections.length;
    expect(await check('/first', 10_000, p)).toMatchObject({ status: 200 });
    expect(await check('/stale-once', 10_000, p)).toEqual({ kind: 'response', status: 200, bodyStart: 'you asked /stale-once' });
    expect(staleCut).toBe(true);
    expect(connections.length - before).toBe(2);
  });

  it('answers a body that never ends with its first bytes, and closes that connection', async () => {
    const p = probe();
    const before = connections.length;
    expect(await check('/endless', 10_000, p)).toEqual({ kind: 'response', status: 200, bodyStart: 'y'.repeat(64) });
    expect(await check('/after', 10_000, p)).toEqual({ kind: 'response', status: 200, bodyStart: 'you asked /after' });
    expect(connections.length - before).toBe(2);
  });

  it('answers a check that takes longer than the idle connection time', async () => {
    const slow = createServer((_req, res) => void setTimeout(() => res.writeHead(200).end('late'), 400));
    await new Promise<void>((ok) => slow.listen(0, '127.0.0.1', ok));
    try {
      const p = localHealthProbe({ router: async () => ({ port: (slow.address() as AddressInfo).port }), idleConnectionMs: 100 });
      expect(await p.check({ projectId: 'web', deploymentId: 'd', path: '/', timeoutMs: 5000 })).toEqual({ kind: 'response', status: 200, bodyStart: 'late' });
      await new Promise((r) => setTimeout(r, 300)); // the kept connection has gone idle and been closed
      expect(await p.check({ projectId: 'web', deploymentId: 'd', path: '/', timeoutMs: 5000 })).toEqual({ kind: 'response', status: 200, bodyStart: 'late' });
    } finally {
      slow.closeAllConnections();
      await new Promise((ok) => slow.close(ok));
    }
  });
});
