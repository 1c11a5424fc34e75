import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextConfigRules, serveAsset } from './static-files.ts';

// A published version as OpenNext lays it out: assets/, and the default function's build
// manifest, whose headers/redirects are what `next build` compiled from this next.config:
//   headers: /hello.txt → x-file: public; /:path* → x-all: yes; /secret.txt when cookie admin → x-admin: yes
//   redirects: /moved.txt → /hello.txt (307); /old/:name → /files/:name (308)
const manifest = {
  version: 3,
  caseSensitive: false,
  basePath: '',
  headers: [
    { source: '/hello.txt', headers: [{ key: 'x-file', value: 'public' }], regex: '^/hello\\.txt(?:/)?$' },
    { source: '/:path*', headers: [{ key: 'x-all', value: 'yes' }], regex: '^(?:/((?:[^/]+?)(?:/(?:[^/]+?))*))?(?:/)?$' },
    { source: '/secret.txt', has: [{ type: 'cookie', key: 'admin' }], headers: [{ key: 'x-admin', value: 'yes' }], regex: '^/secret\\.txt(?:/)?$' },
  ],
  redirects: [
    { source: '/moved.txt', destination: '/hello.txt', statusCode: 307, regex: '^(?!/_next)/moved\\.txt(?:/)?$' },
    { source: '/old/:name', destination: '/files/:name', statusCode: 308, regex: '^(?!/_next)/old(?:/([^/]+?))(?:/)?$' },
  ],
};

/** A published version's directory whose default function holds `routesManifest` (its assets/ are the test's to write). */
const versionWith = (routesManifest: unknown) => {
  const version = mkdtempSync(join(tmpdir(), 'static-files-'));
  writeFileSync(join(version, 'open-next.output.json'), JSON.stringify({ origins: { default: { type: 'function', bundle: '.open-next/server-functions/default' } } }));
  mkdirSync(join(version, 'server-functions', 'default', '.next'), { recursive: true });
  writeFileSync(join(version, 'server-functions', 'default', '.next', 'routes-manifest.json'), JSON.stringify(routesManifest));
  return version;
};

const get = (port: number, path: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject).end();
  });

const getRaw = (port: number, path: string, headers: Record<string, string> = {}, method = 'GET') =>
  new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject).end();
  });

// A build chunk big enough to compress (CloudFront's floor is 1,000 bytes), one under it, and an image.
const bigScript = Array.from({ length: 400 }, (_, i) => `export const value${i} = "chunk line ${i}";`).join('\n');
const smallStyle = 'body { margin: 0 }\n';
const image = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));

describe('static files with the app\'s next.config rules', () => {
  let version: string;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    version = versionWith(manifest);
    mkdirSync(join(version, 'assets', '_next', 'static'), { recursive: true });
    for (const f of ['hello.txt', 'moved.txt', 'secret.txt', '_next/static/app.js']) writeFileSync(join(version, 'assets', f), `file ${f}\n`);
    writeFileSync(join(version, 'assets', '_next/static/big.js'), bigScript);
    writeFileSync(join(version, 'assets', 'small.css'), smallStyle);
    writeFileSync(join(version, 'assets', 'logo.png'), image);
    server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      void serveAsset(req, res, join(version, 'assets'), path, { 'x-shiplog-deployment': 'd1' }).then((served) => served || res.writeHead(404).end());
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

  it('reads the rules from the build manifest of the version\'s default function', async () => {
    const rules = await nextConfigRules(version);
    expect([rules.headers.length, rules.redirects.length]).toEqual([3, 2]);
    // A version without a manifest (not a Next build) has none.
    const bare = mkdtempSync(join(tmpdir(), 'static-files-bare-'));
    writeFileSync(join(bare, 'open-next.output.json'), '{}');
    expect(await nextConfigRules(bare)).toEqual({ headers: [], redirects: [] });
  });

  it('adds headers() to public and build files, in order, with has conditions', async () => {
    const hello = await get(port, '/hello.txt');
    expect([hello.status, hello.body, hello.headers['x-file'], hello.headers['x-all'], hello.headers['x-shiplog-deployment']]).toEqual([200, 'file hello.txt\n', 'public', 'yes', 'd1']);
    const chunk = await get(port, '/_next/static/app.js');
    expect([chunk.headers['x-all'], chunk.headers['x-file'], chunk.headers['cache-control']]).toEqual(['yes', undefined, 'public, max-age=31536000, immutable']);
    expect((await get(port, '/secret.txt')).headers['x-admin']).toBeUndefined();
    expect((await get(port, '/secret.txt', { cookie: 'a=1; admin=1' })).headers['x-admin']).toBe('yes');
    // A 304 carries them too.
    const again = await get(port, '/hello.txt', { 'if-none-match': String(hello.headers.etag) });
    expect([again.status, again.headers['x-file']]).toEqual([304, 'public']);
  });

  it('applies redirects() before the file, with parameters and the query kept', async () => {
    const moved = await get(port, '/moved.txt?from=mail');
    expect([moved.status, moved.headers.location, moved.body]).toEqual([307, '/hello.txt?from=mail', '/hello.txt?from=mail']);
    const old = await get(port, '/old/report.pdf');
    expect([old.status, old.headers.location, old.headers.refresh]).toEqual([308, '/files/report.pdf', '0;url=/files/report.pdf']);
    // Build files are not redirected by a source that excludes /_next.
    expect((await get(port, '/_next/static/app.js')).status).toBe(200);
  });

  it('compresses text of 1,000 bytes or more as CloudFront does: Brotli before gzip, by Accept-Encoding', async () => {
    const raw = Buffer.from(bigScript);
    const br = await getRaw(port, '/_next/static/big.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect([br.status, br.headers['content-encoding'], br.headers.vary, Number(br.headers['content-length'])]).toEqual([200, 'br', 'Accept-Encoding', br.body.length]);
    expect(brotliDecompressSync(br.body).equals(raw)).toBe(true);
    expect(br.body.length).toBeLessThan(raw.length / 3);
    const gz = await getRaw(port, '/_next/static/big.js', { 'accept-encoding': 'gzip, br;q=0' });
    expect([gz.headers['content-encoding'], gz.headers.vary]).toEqual(['gzip', 'Accept-Encoding']);
    expect(gunzipSync(gz.body).equals(raw)).toBe(true);
    // No Accept-Encoding: the file as it is, and still `vary`, since another client gets it encoded.
    const plain = await getRaw(port, '/_next/static/big.js');
    expect([plain.headers['content-encoding'], plain.headers.vary, Number(plain.headers['content-length'])]).toEqual([undefined, 'Accept-Encoding', raw.length]);
    expect(plain.body.equals(raw)).toBe(true);
    // The same ETag for each encoding (weak: the same file), the config's headers on each.
    expect(new Set([br.headers.etag, gz.headers.etag, plain.headers.etag]).size).toBe(1);
    expect([br.headers['x-all'], br.headers['cache-control']]).toEqual(['yes', 'public, max-age=31536000, immutable']);
    // HEAD says what GET would send; a 304 carries `vary` too.
    const head = await getRaw(port, '/_next/static/big.js', { 'accept-encoding': 'br' }, 'HEAD');
    expect([head.headers['content-encoding'], head.headers['content-length'], head.body.length]).toEqual(['br', String(br.body.length), 0]);
    const notModified = await getRaw(port, '/_next/static/big.js', { 'accept-encoding': 'br', 'if-none-match': String(br.headers.etag) });
    expect([notModified.status, notModified.headers.vary, notModified.body.length]).toEqual([304, 'Accept-Encoding', 0]);
  });

  it('leaves small files and compressed formats as they are', async () => {
    const small = await getRaw(port, '/small.css', { 'accept-encoding': 'br, gzip' });
    expect([small.headers['content-encoding'], small.headers.vary, small.body.toString()]).toEqual([undefined, undefined, smallStyle]);
    const png = await getRaw(port, '/logo.png', { 'accept-encoding': 'br, gzip' });
    expect([png.headers['content-encoding'], png.headers.vary, png.headers['content-type']]).toEqual([undefined, undefined, 'image/png']);
    expect(png.body.equals(image)).toBe(true);
  });

  it('answers a byte range with those bytes (206), never compressed; an unsatisfiable one 416; several apart, or a stale If-Range, the whole file', async () => {
    const plain = await getRaw(port, '/logo.png');
    expect([plain.status, plain.headers['accept-ranges']]).toEqual([200, 'bytes']);
    const part = async (range: string, extra: Record<string, string> = {}) => {
      const r = await getRaw(port, '/logo.png', { range, ...extra });
      return [r.status, r.headers['content-range'], Number(r.headers['content-length']), r.body.length === Number(r.headers['content-length']) ? r.body : null] as const;
    };
    expect(await part('bytes=0-99')).toEqual([206, 'bytes 0-99/4096', 100, image.subarray(0, 100)]);
    expect(await part('bytes=4000-')).toEqual([206, 'bytes 4000-4095/4096', 96, image.subarray(4000)]);
    expect(await part('bytes=-10')).toEqual([206, 'bytes 4086-4095/4096', 10, image.subarray(4086)]);
    // A last byte past the end is cut to it; a suffix longer than the file is all of it; overlapping parts are one.
    expect(await part('bytes=4090-9999')).toEqual([206, 'bytes 4090-4095/4096', 6, image.subarray(4090)]);
    expect(await part('bytes=-99999')).toEqual([206, 'bytes 0-4095/4096', 4096, image]);
    expect(await part('bytes=0-9, 5-20')).toEqual([206, 'bytes 0-20/4096', 21, image.subarray(0, 21)]);
    expect((await part('bytes=5000-6000')).slice(0, 2)).toEqual([416, 'bytes */4096']);
    expect((await part('bytes=abc')).slice(0, 2)).toEqual([416, 'bytes */4096']);
    expect(await part('bytes=0-9, 100-109')).toEqual([200, undefined, 4096, image]);
    expect(await part('items=0-9')).toEqual([200, undefined, 4096, image]);
    // If-Range: the range only while the file is the one the client has.
    expect((await part('bytes=0-9', { 'if-range': String(plain.headers.etag) }))[0]).toBe(206);
    expect((await part('bytes=0-9', { 'if-range': 'W/"other"' }))[0]).toBe(200);
    expect((await part('bytes=0-9', { 'if-range': String(plain.headers['last-modified']) }))[0]).toBe(206);
    expect((await part('bytes=0-9', { 'if-range': 'Thu, 01 Jan 1970 00:00:00 GMT' }))[0]).toBe(200);
    // A compressible file's range is of its bytes as they are, whatever the client accepts.
    const text = await getRaw(port, '/_next/static/big.js', { range: 'bytes=10-19', 'accept-encoding': 'br, gzip' });
    expect([text.status, text.headers['content-encoding'], text.body.toString()]).toEqual([206, undefined, bigScript.slice(10, 20)]);
  });

  it('answers a conditional GET 304 by If-None-Match (weak, in a list, or *), else by If-Modified-Since', async () => {
    const hello = await get(port, '/hello.txt');
    const etag = String(hello.headers.etag);
    const modified = String(hello.headers['last-modified']);
    const status = async (headers: Record<string, string>) => (await get(port, '/hello.txt', headers)).status;
    expect(await status({ 'if-none-match': etag })).toBe(304);
    expect(await status({ 'if-none-match': etag.replace(/^W\//, '') })).toBe(304);
    expect(await status({ 'if-none-match': `"other", ${etag}` })).toBe(304);
    expect(await status({ 'if-none-match': '*' })).toBe(304);
    expect(await status({ 'if-none-match': '"other"' })).toBe(200);
    expect(await status({ 'if-modified-since': modified })).toBe(304);
    expect(await status({ 'if-modified-since': new Date(Date.parse(modified) + 60_000).toUTCString() })).toBe(304);
    expect(await status({ 'if-modified-since': new Date(Date.parse(modified) - 1_000).toUTCString() })).toBe(200);
    expect(await status({ 'if-modified-since': 'not a date' })).toBe(200);
    // If-None-Match decides when both are sent.
    expect(await status({ 'if-none-match': '"other"', 'if-modified-since': modified })).toBe(200);
    const notModified = await get(port, '/hello.txt', { 'if-modified-since': modified });
    expect([notModified.headers['last-modified'], notModified.headers.etag, notModified.body]).toEqual([modified, etag, '']);
  });
});

describe("static files of an app with a basePath", () => {
  it('matches its headers() and redirects() against the path asked, basePath included, as next start does', async () => {
    // next build compiles the basePath into every source: /robots.txt becomes /docs/robots.txt.
    const based = {
      version: 3, caseSensitive: false, basePath: '/docs',
      headers: [{ source: '/docs/robots.txt', headers: [{ key: 'x-file', value: 'robots' }], regex: '^/docs/robots\\.txt(?:/)?$' }],
      redirects: [{ source: '/docs/old.txt', destination: '/docs/robots.txt', statusCode: 307, regex: '^(?!/_next)/docs/old\\.txt(?:/)?$' }],
    };
    const version = versionWith(based);
    mkdirSync(join(version, 'assets'), { recursive: true });
    for (const f of ['robots.txt', 'old.txt']) writeFileSync(join(version, 'assets', f), `file ${f}\n`);
    // The router hands over the file's path under assets/ and the path asked, as router.ts does.
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const file = path.startsWith('/docs/') ? path.slice('/docs'.length) : undefined;
      void (file ? serveAsset(req, res, join(version, 'assets'), file, {}, path) : Promise.resolve(false)).then((served) => served || res.writeHead(404).end());
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const port = (server.address() as AddressInfo).port;
      const robots = await get(port, '/docs/robots.txt');
      expect([robots.status, robots.body, robots.headers['x-file']]).toEqual([200, 'file robots.txt\n', 'robots']);
      const old = await get(port, '/docs/old.txt');
      expect([old.status, old.headers.location]).toEqual([307, '/docs/robots.txt']);
    } finally {
      await new Promise<void>((ok) => server.close(() => ok()));
    }
  });
});
