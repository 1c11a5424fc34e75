import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ASSET_HEADERS_SOURCE } from './asset-headers.ts';
import { loadViewerResponseFunction, viewerRequest } from './runner.ts';
import { configHeaders, nextConfigRules } from '../../local/sites/static-files.ts';
import { ASSET_HEADERS_MAX_BYTES, assetHeaderRules, assetHeadersMeta, settableAtEdge } from '../../../services/deploy/adapters/site-host/asset-headers.ts';

// headers() as `next build` compiles them into routes-manifest.json (regexes as Next writes them).
const manifest = {
  version: 3,
  caseSensitive: false,
  basePath: '',
  headers: [
    { source: '/robots.txt', headers: [{ key: 'X-Robots', value: 'file' }], regex: '^/robots\\.txt(?:/)?$' },
    { source: '/:path*', headers: [{ key: 'x-all', value: 'yes' }, { key: 'X-Robots', value: 'all' }], regex: '^(?:/((?:[^/]+?)(?:/(?:[^/]+?))*))?(?:/)?$' },
    { source: '/robots.txt', has: [{ type: 'cookie', key: 'admin' }], headers: [{ key: 'x-admin', value: 'yes' }], regex: '^/robots\\.txt(?:/)?$' },
    { source: '/robots.txt', has: [{ type: 'query', key: 'v', value: '(?<n>\\d+)' }], headers: [{ key: 'x-v', value: 'number' }], regex: '^/robots\\.txt(?:/)?$' },
    { source: '/robots.txt', missing: [{ type: 'header', key: 'x-quiet' }], headers: [{ key: 'x-loud', value: 'yes' }], regex: '^/robots\\.txt(?:/)?$' },
    { source: '/_next/static/:path*', has: [{ type: 'host', value: 'cdn\\..*' }], headers: [{ key: 'access-control-allow-origin', value: '*' }], regex: '^/_next/static(?:/((?:[^/]+?)(?:/(?:[^/]+?))*))?(?:/)?$' },
  ],
  redirects: [],
};

const rules = assetHeaderRules(JSON.stringify(manifest));
const fn = loadViewerResponseFunction(ASSET_HEADERS_SOURCE);

// What CloudFront sends for a file with this metadata, after the viewer-response function.
const atEdge = async (path: string, request: { host?: string; query?: string; headers?: Record<string, string> } = {}) => {
  const meta = assetHeadersMeta(rules, path);
  if (meta === 'too-large') throw new Error('too large');
  const headers: Record<string, { value: string }> = { 'content-type': { value: 'text/plain' }, 'cache-control': { value: 'public, max-age=0, must-revalidate' } };
  if (meta) headers['x-amz-meta-shiplog-headers'] = { value: meta };
  const viewer = viewerRequest({ host: request.host ?? 'web.apps.example.com', uri: path, query: request.query ?? '', headers: request.headers ?? {} });
  const out = await fn.run({ version: '1.0', context: { eventType: 'viewer-response' }, viewer: { ip: '127.0.0.1' }, request: viewer.request, response: { statusCode: 200, headers } });
  return Object.fromEntries(Object.entries(out.headers).map(([k, v]) => [k, v.value]));
};

describe("the app's headers() on files served from S3", () => {
  it('puts the rules matching a file in its metadata, in order, conditions kept; none when no rule matches', () => {
    const robots = JSON.parse(assetHeadersMeta(rules, '/robots.txt') as string) as unknown[];
    expect(robots).toEqual([
      { s: [['x-robots', 'file']] },
      { s: [['x-all', 'yes'], ['x-robots', 'all']] },
      { h: [{ type: 'cookie', key: 'admin' }], s: [['x-admin', 'yes']] },
      { h: [{ type: 'query', key: 'v', value: '(?<n>\\d+)' }], s: [['x-v', 'number']] },
      { m: [{ type: 'header', key: 'x-quiet' }], s: [['x-loud', 'yes']] },
    ]);
    expect(JSON.parse(assetHeadersMeta(rules, '/_next/static/chunks/a.js') as string)).toHaveLength(2);
    expect(assetHeadersMeta(assetHeaderRules(JSON.stringify({ ...manifest, headers: manifest.headers.slice(0, 1) })), '/hello.txt')).toBeUndefined();
    expect(assetHeaderRules(JSON.stringify({ version: 3 }))).toEqual([]);
  });

  it('matches the source with the basePath the manifest carries, and case-insensitively unless the app says otherwise', () => {
    const based = { ...manifest, basePath: '/docs', headers: [{ source: '/docs/robots.txt', headers: [{ key: 'x-b', value: '1' }], regex: '^/docs/robots\\.txt(?:/)?$' }] };
    expect(assetHeadersMeta(assetHeaderRules(JSON.stringify(based)), '/docs/robots.txt')).toBe('[{"s":[["x-b","1"]]}]');
    expect(assetHeadersMeta(assetHeaderRules(JSON.stringify(based)), '/robots.txt')).toBeUndefined();
    expect(assetHeadersMeta(assetHeaderRules(JSON.stringify(based)), '/DOCS/Robots.TXT')).toBeDefined();
    expect(assetHeadersMeta(assetHeaderRules(JSON.stringify({ ...based, caseSensitive: true })), '/DOCS/Robots.TXT')).toBeUndefined();
  });

  it('leaves out headers CloudFront lets no function set (it would answer 502), and escapes what is not ASCII', () => {
    expect(['content-length', 'Via', 'transfer-encoding', 'x-amz-cf-id', 'X-Amzn-Trace-Id', 'x-edge-location', 'connection', 'bad name'].filter(settableAtEdge)).toEqual([]);
    expect(['strict-transport-security', 'content-security-policy', 'access-control-allow-origin', 'cache-control', 'x-frame-options'].every(settableAtEdge)).toBe(true);
    const odd = assetHeaderRules(JSON.stringify({ headers: [{ source: '/a', regex: '^/a$', headers: [{ key: 'Via', value: 'x' }, { key: 'x-name', value: 'café' }] }] }));
    const meta = assetHeadersMeta(odd, '/a') as string;
    expect(meta).toBe('[{"s":[["x-name","caf\\u00e9"]]}]');
    expect(/^[\x20-\x7e]*$/.test(meta)).toBe(true);
    // A rule left with no header is no rule.
    expect(assetHeadersMeta(assetHeaderRules(JSON.stringify({ headers: [{ source: '/a', regex: '^/a$', headers: [{ key: 'via', value: 'x' }] }] })), '/a')).toBeUndefined();
  });

  it('says when the rules do not fit the 2 KB S3 keeps per object', () => {
    const big = assetHeaderRules(JSON.stringify({ headers: [{ source: '/a', regex: '^/a$', headers: [{ key: 'content-security-policy', value: 'x'.repeat(ASSET_HEADERS_MAX_BYTES) }] }] }));
    expect(assetHeadersMeta(big, '/a')).toBe('too-large');
  });

  it('the viewer-response function applies them as next start does: conditions on the viewer request, a later rule over an earlier one, the metadata dropped', async () => {
    expect(await atEdge('/robots.txt')).toEqual({
      'content-type': 'text/plain', 'cache-control': 'public, max-age=0, must-revalidate', 'x-robots': 'all', 'x-all': 'yes', 'x-loud': 'yes',
    });
    const all = await atEdge('/robots.txt', { query: 'v=12', headers: { cookie: 'a=1; admin=1', 'x-quiet': '1' } });
    expect([all['x-admin'], all['x-v'], all['x-loud'], all['x-amz-meta-shiplog-headers']]).toEqual(['yes', 'number', undefined, undefined]);
    expect((await atEdge('/robots.txt', { query: 'v=x' }))['x-v']).toBeUndefined();
    expect((await atEdge('/_next/static/chunks/a.js', { host: 'cdn.example.com' }))['access-control-allow-origin']).toBe('*');
    expect((await atEdge('/_next/static/chunks/a.js'))['access-control-allow-origin']).toBeUndefined();
    // A response without the metadata (a server function's) passes as it is; metadata that is not JSON is dropped.
    const plain = { version: '1.0' as const, context: { eventType: 'viewer-response' as const }, viewer: { ip: '127.0.0.1' }, request: viewerRequest({ host: 'h', uri: '/' }).request };
    expect((await fn.run({ ...plain, response: { statusCode: 200, headers: { 'x-a': { value: '1' } } } })).headers).toEqual({ 'x-a': { value: '1' } });
    expect((await fn.run({ ...plain, response: { statusCode: 200, headers: { 'x-amz-meta-shiplog-headers': { value: '[{' } } } })).headers).toEqual({});
  });

  it('gives a file on AWS the headers the local router gives it, request by request', async () => {
    const version = mkdtempSync(join(tmpdir(), 'asset-headers-'));
    writeFileSync(join(version, 'open-next.output.json'), JSON.stringify({ origins: { default: { type: 'function', bundle: '.open-next/server-functions/default' } } }));
    mkdirSync(join(version, 'server-functions', 'default', '.next'), { recursive: true });
    writeFileSync(join(version, 'server-functions', 'default', '.next', 'routes-manifest.json'), JSON.stringify(manifest));
    const local = await nextConfigRules(version);
    const requests: { path: string; host?: string; query?: string; headers?: Record<string, string> }[] = [
      { path: '/robots.txt' }, { path: '/robots.txt', query: 'v=7', headers: { cookie: 'admin=yes' } }, { path: '/robots.txt', headers: { 'x-quiet': 'y' } },
      { path: '/robots.txt', query: 'v=seven' }, { path: '/_next/static/chunks/a.js', host: 'cdn.example.com' }, { path: '/_next/static/chunks/a.js' },
      { path: '/fonts/a.woff2', host: 'web.apps.example.com:443' },
    ];
    for (const r of requests) {
      const req = { url: `${r.path}${r.query ? `?${r.query}` : ''}`, headers: { host: r.host ?? 'web.apps.example.com', ...(r.headers ?? {}) } } as unknown as IncomingMessage;
      const edge = await atEdge(r.path, r);
      delete edge['content-type'];
      delete edge['cache-control'];
      expect(edge, JSON.stringify(r)).toEqual(configHeaders(local, req, r.path));
    }
  });
});
