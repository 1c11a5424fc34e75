import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionPool, type FunctionRef } from './function-pool.ts';
import { siteFetch } from './site-fetch.ts';

// A real worker in its sandbox (its own network namespace: the host's loopback is not reachable),
// and a real HTTP server standing for the site router.
const root = mkdtempSync(join(tmpdir(), 'shiplog-site-fetch-'));
const fn = (name: string, body: string): FunctionRef => {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.mjs'), `export const handler = async (event) => { ${body} };\n`);
  return { key: name, dir, env: async () => ({}) };
};
const seen: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string }[] = [];
const router = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    seen.push({ method: req.method, url: req.url, headers: req.headers, body });
    res.setHeader('set-cookie', ['a=1', 'b=2']);
    res.writeHead(201, { 'content-type': 'text/x-component' }).end(`from the router: ${req.method} ${req.headers.host}${req.url} ${body}`);
  });
});
let port = 0;
beforeAll(async () => {
  await new Promise<void>((ok) => router.listen(0, '127.0.0.1', ok));
  port = (router.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((ok) => router.close(() => ok()));
  rmSync(root, { recursive: true, force: true });
});

describe("a function's fetch of a site of its router", () => {
  it('reaches the router through the pool with its method, headers and body, and gets status, headers and body back', async () => {
    const pool = functionPool({ sites: { domain: 'localhost', fetch: siteFetch({ domain: 'localhost', port: () => port }) } });
    try {
      const f = fn('self', `
        const r = await fetch('http://web.localhost:' + event.port + '/done?_rsc=x', { method: 'POST', headers: { rsc: '1', 'accept-encoding': 'gzip' }, body: 'hi' });
        return { statusCode: 200, body: JSON.stringify({ status: r.status, type: r.headers.get('content-type'), cookies: r.headers.getSetCookie(), text: await r.text() }) };`);
      const inv = await pool.invoke(f, { port: 9 });
      if (inv.kind !== 'result') throw new Error('expected a plain result');
      expect(JSON.parse((inv.result as { body: string }).body)).toEqual({
        status: 201,
        type: 'text/x-component',
        cookies: ['a=1', 'b=2'],
        // The host the function named (its port kept), sent to the router's own port.
        text: 'from the router: POST web.localhost:9/done?_rsc=x hi',
      });
      expect(seen.at(-1)).toMatchObject({ method: 'POST', url: '/done?_rsc=x', headers: { rsc: '1', 'x-forwarded-proto': 'http' } });
      expect(seen.at(-1)!.headers['accept-encoding']).toBeUndefined();
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('fails as an unreachable host does for a name that is not a site of the router, and without a router', async () => {
    const withRouter = functionPool({ sites: { domain: 'localhost', fetch: siteFetch({ domain: 'localhost', port: () => port }) } });
    const without = functionPool();
    const probe = fn('probe', `
      try { await fetch(event.url); return { statusCode: 200, body: 'reached' }; }
      catch (e) { return { statusCode: 200, body: e.name + ': ' + e.message + ' / ' + String(e.cause?.message ?? e.cause?.code ?? '') }; }`);
    const bodyOf = async (pool: ReturnType<typeof functionPool>, url: string) => {
      const inv = await pool.invoke(probe, { url });
      if (inv.kind !== 'result') throw new Error('expected a plain result');
      return (inv.result as { body: string }).body;
    };
    try {
      const before = seen.length;
      // Nested labels are no site's host; the router refuses to send them.
      expect(await bodyOf(withRouter, `http://a.b.localhost:${port}/`)).toBe('TypeError: fetch failed / not a site of this router: a.b.localhost:' + port);
      // Without the pool's router the worker leaves fetch alone: the sandbox cannot resolve the name.
      expect(await bodyOf(without, `http://web.localhost:${port}/`)).toMatch(/^TypeError: fetch failed \/ (ENOTFOUND|EAI_AGAIN|getaddrinfo)/);
      expect(seen.length).toBe(before);
    } finally {
      await Promise.all([withRouter.close(), without.close()]);
    }
  }, 60_000);
});
