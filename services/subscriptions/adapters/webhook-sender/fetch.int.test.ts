import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllowList } from '../../target-policy.ts';
import { fetchWebhookSender } from './fetch.ts';

// A real receiver on loopback: `/ok` answers 204, `/hang` never answers, `/big` streams 1 MiB,
// `/redirect` answers 302. Every request is recorded with its headers.
const seen: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
const hanging = new Set<ServerResponse>();
let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', headers: req.headers, body });
      if (req.url === '/hang') return void hanging.add(res);
      if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 << 10, 1);
        for (let i = 0; i < 16; i++) res.write(chunk);
        return void res.end();
      }
      if (req.url === '/redirect') return void res.writeHead(302, { location: '/ok' }).end();
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const body = JSON.stringify({ hello: 'world' });
const headers = { 'content-type': 'application/json', 'x-test': '1' };

describe('webhook sender: internal targets', () => {
  it('refuses a loopback literal, and a name that resolves to loopback, without sending anything', async () => {
    const sender = fetchWebhookSender();
    const before = seen.length;
    const literal = await sender.send({ url: `http://127.0.0.1:${port}/ok`, body, headers, timeoutMs: 2000 });
    expect(literal).toMatchObject({ statusCode: null, error: `refused: the target 127.0.0.1 is a loopback address; name it in SHIPLOG_WEBHOOK_ALLOW to allow it` });
    const named = await sender.send({ url: `http://localhost:${port}/ok`, body, headers, timeoutMs: 2000 });
    expect(named.statusCode).toBeNull();
    expect(named.error).toMatch(/^refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
    expect(seen.length).toBe(before);
  });

  it('connects to the address it checked, once resolved, and keeps the URL host in Host', async () => {
    // A rebinding resolver: the first answer is the allowed address, any later one the metadata address.
    let lookups = 0;
    const resolve = async () => (lookups++ === 0 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '169.254.169.254', family: 4 }]);
    const sender = fetchWebhookSender({ allow: parseAllowList('127.0.0.1'), resolve });
    const res = await sender.send({ url: `http://hooks.example.test:${port}/ok?x=1`, body, headers, timeoutMs: 2000 });
    expect(res).toMatchObject({ statusCode: 204 });
    expect(res.error).toBeUndefined();
    expect(lookups).toBe(1);
    const got = seen.at(-1)!;
    expect(got).toMatchObject({ path: '/ok?x=1', body, headers: { host: `hooks.example.test:${port}`, 'x-test': '1', 'content-type': 'application/json' } });
  });

  it('refuses a name whose addresses include an internal one, even when another is public', async () => {
    const sender = fetchWebhookSender({ resolve: async () => [{ address: '93.184.216.34', family: 4 }, { address: '::ffff:10.0.0.1', family: 6 }] });
    const res = await sender.send({ url: 'https://hooks.example.test/x', body, headers, timeoutMs: 2000 });
    expect(res).toMatchObject({ statusCode: null, error: 'refused: hooks.example.test resolves to ::ffff:10.0.0.1, a private address; name it in SHIPLOG_WEBHOOK_ALLOW to allow it' });
  });
});

describe('webhook sender: limits (allowed loopback receiver)', () => {
  const sender = fetchWebhookSender({ allow: parseAllowList('127.0.0.1'), maxResponseBytes: 256 << 10 });

  it('gives up on a receiver that never answers, at the request timeout', async () => {
    const res = await sender.send({ url: `http://127.0.0.1:${port}/hang`, body, headers, timeoutMs: 300 });
    expect(res).toMatchObject({ statusCode: null, error: 'no response within 300 ms' });
  });

  it('stops reading a response past the size cap and fails the delivery', async () => {
    const res = await sender.send({ url: `http://127.0.0.1:${port}/big`, body, headers, timeoutMs: 5000 });
    expect(res).toMatchObject({ statusCode: 200, error: `response body larger than ${256 << 10} bytes` });
  });

  it('does not follow redirects', async () => {
    const before = seen.filter((s) => s.path === '/ok').length;
    const res = await sender.send({ url: `http://127.0.0.1:${port}/redirect`, body, headers, timeoutMs: 2000 });
    expect(res).toMatchObject({ statusCode: 302, error: 'Found' });
    expect(seen.filter((s) => s.path === '/ok').length).toBe(before);
  });

  it('reports a refused connection as the error code', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const free = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const res = await sender.send({ url: `http://127.0.0.1:${free}/`, body, headers, timeoutMs: 2000 });
    expect(res).toMatchObject({ statusCode: null, error: 'ECONNREFUSED' });
  });
});
