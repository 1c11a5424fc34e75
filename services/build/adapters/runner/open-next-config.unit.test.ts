import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { awsOpenNextConfig } from '../scheduler/buildspec.ts';
import { localOpenNextConfig, localWrappedOpenNextConfig } from './open-next-config.ts';

// The generated configs are JavaScript that `open-next build` loads: load them in a real Node.
const load = (files: Record<string, string>, entry: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'open-next-config-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const script = `const c = (await import(${JSON.stringify(join(dir, entry))})).default;
    const show = (v) => typeof v === 'function' ? 'fn:' + v.name : v;
    const fns = (f) => f && (f.override ? { ...f, override: Object.fromEntries(Object.entries(f.override).map(([k, v]) => [k, show(v)])) } : f);
    console.log(JSON.stringify({ ...c, default: fns(c.default), middleware: c.middleware && fns(c.middleware), functions: c.functions && Object.fromEntries(Object.entries(c.functions).map(([n, f]) => [n, fns(f)])),
      imageOptimization: { loader: show(c.imageOptimization.loader), override: fns(c.imageOptimization).override } }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8', env: { ...process.env, SHIPLOG_GIT_COMMIT_SHA: 'a'.repeat(40) } });
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  return { config: JSON.parse(lines.at(-1)!), log: lines.slice(0, -1) };
};

describe('local OpenNext config', () => {
  it('without an app config: the streaming wrapper, local caches and a tag cache that needs no build-time tag file', () => {
    const { config, log } = load({ 'c.mjs': localOpenNextConfig }, 'c.mjs');
    expect(config.default.override).toEqual({ wrapper: 'aws-lambda-streaming', converter: 'fn:localConverter', incrementalCache: 'fn:localIncrementalCache', tagCache: 'fn:localTagCache', queue: 'fn:localQueue' });
    // The image function answers whole files: it stays buffered.
    expect(config.imageOptimization.override).toEqual({ wrapper: 'aws-lambda', converter: 'fn:localConverter' });
    expect(config.buildCommand).toBe('exit 0');
    expect(log).toEqual([]);
  });

  it('with the app\'s own config: keeps function splitting and its own choices, replaces what binds it to AWS, and says which', () => {
    const app = `export default {
      default: { override: { wrapper: 'aws-lambda-streaming', incrementalCache: 's3-lite', tagCache: 'dynamodb-lite', queue: 'sqs-lite', proxyExternalRequest: 'fetch' } },
      functions: {
        api: { routes: ['app/api/route'], patterns: ['api/*'], override: { incrementalCache: 'dummy', wrapper: 'aws-lambda' } },
        dev: { routes: ['app/dev/page'], patterns: ['dev/*'], override: { incrementalCache: 'fs-dev', tagCache: 'fs-dev', queue: 'direct' } },
      },
      middleware: { external: true },
      imageOptimization: { loader: 's3' },
      initializationFunction: { tagCache: 'dynamodb-lite' },
      dangerous: { enableCacheInterception: true },
      buildCommand: 'npm run build',
    };`;
    const { config, log } = load({ 'app.mjs': app, 'c.mjs': localWrappedOpenNextConfig('./app.mjs') }, 'c.mjs');
    expect(config.default.override).toEqual({ wrapper: 'aws-lambda-streaming', converter: 'fn:localConverter', incrementalCache: 'fn:localIncrementalCache', tagCache: 'fn:localTagCache', queue: 'fn:localQueue', proxyExternalRequest: 'fetch' });
    expect(config.functions.api).toMatchObject({ routes: ['app/api/route'], patterns: ['api/*'], override: { incrementalCache: 'dummy', wrapper: 'aws-lambda-streaming', queue: 'fn:localQueue' } });
    // OpenNext's own local pieces fail here (the direct queue fetches <project>.localhost): ours stand in.
    expect(config.functions.dev.override).toMatchObject({ incrementalCache: 'fn:localIncrementalCache', tagCache: 'fn:localTagCache', queue: 'fn:localQueue' });
    expect(config.middleware).toEqual({ external: false });
    expect(config.initializationFunction).toBeUndefined();
    expect(config.dangerous).toEqual({ enableCacheInterception: true });
    expect(config.imageOptimization.loader).toBe('fn:localAssetsLoader');
    expect(config.buildCommand).toBe('exit 0');
    expect(log[0]).toBe('shiplog: open-next.config.ts kept: default.override.wrapper, default.override.proxyExternalRequest, functions.api.routes, functions.api.patterns, functions.api.override.incrementalCache, functions.dev.routes, functions.dev.patterns, dangerous');
    expect(log[1]).toContain('replaced for this machine: buildCommand');
    for (const r of ['functions.api.override.wrapper (aws-lambda)', 'default.override.incrementalCache (s3-lite)', 'default.override.tagCache (dynamodb-lite)', 'functions.dev.override.queue (direct)', 'middleware.external', 'imageOptimization', 'initializationFunction']) {
      expect(log[1]).toContain(r);
    }
  });

  // Edge runtime routes as next build lists them in .next/server/middleware-manifest.json (the fields the config reads).
  const edgeManifest = (functions: { name: string; page: string }[]) => JSON.stringify({ version: 3, middleware: {}, functions: Object.fromEntries(functions.map((f) => [f.page, f])) });

  it('without an app config: each edge runtime route gets a function of its own, routed by its paths, and the build log says so', () => {
    const { config, log } = load({
      'c.mjs': localOpenNextConfig,
      '.next/server/middleware-manifest.json': edgeManifest([
        { name: 'app/api/edge/route', page: '/api/edge/route' },
        { name: 'app/(shop)/items/[id]/page', page: '/(shop)/items/[id]/page' },
        { name: 'pages/ssr', page: '/ssr' },
        { name: 'pages/api/hello', page: '/api/hello' },
      ]),
      '.next/routes-manifest.json': JSON.stringify({ i18n: { locales: ['en', 'fr'], defaultLocale: 'en' } }),
    }, 'c.mjs');
    const edge = { wrapper: 'aws-lambda', converter: 'fn:localConverter' };
    expect(config.functions).toEqual({
      'edge-route-0': { runtime: 'edge', routes: ['app/api/edge/route'], patterns: ['api/edge', 'api/edge/'], override: edge },
      'edge-route-1': { runtime: 'edge', routes: ['app/(shop)/items/[id]/page'], patterns: ['items/*', 'items/*.rsc', 'items/*.segments/*'], override: edge },
      'edge-route-2': {
        runtime: 'edge', routes: ['pages/ssr'],
        patterns: ['ssr', 'en/ssr', 'fr/ssr', '_next/data/BUILD_ID/ssr.json', '_next/data/BUILD_ID/en/ssr.json', '_next/data/BUILD_ID/fr/ssr.json'],
        override: edge,
      },
      'edge-route-3': { runtime: 'edge', routes: ['pages/api/hello'], patterns: ['api/hello', 'api/hello/', 'en/api/hello', 'en/api/hello/', 'fr/api/hello', 'fr/api/hello/'], override: edge },
    });
    // OpenNext starts an edge function with the middleware's wrapper and converter; the server function keeps streaming.
    expect(config.middleware).toEqual({ external: false, override: edge });
    expect(config.default.override.wrapper).toBe('aws-lambda-streaming');
    expect(config.edgeExternals).toEqual(['node:*']);
    expect(log).toEqual(['shiplog: edge runtime routes, each in a function of its own (next.config redirects, rewrites and headers and the middleware do not run in front of them): app/api/edge/route, app/(shop)/items/[id]/page, pages/ssr, pages/api/hello']);
  });

  it('with trailingSlash, an edge page\'s path with its slash (without it, the server function redirects as next start does); a route handler\'s both', () => {
    const { config } = load({
      'c.mjs': localOpenNextConfig,
      '.next/server/middleware-manifest.json': edgeManifest([{ name: 'app/api/edge/route', page: '/api/edge/route' }, { name: 'app/page', page: '/page' }, { name: 'app/about/page', page: '/about/page' }]),
      '.next/required-server-files.json': JSON.stringify({ config: { trailingSlash: true } }),
    }, 'c.mjs');
    expect(config.functions['edge-route-0'].patterns).toEqual(['api/edge', 'api/edge/']);
    expect(config.functions['edge-route-1'].patterns).toEqual(['', 'index.rsc', 'index.segments/*']);
    expect(config.functions['edge-route-2'].patterns).toEqual(['about/', 'about.rsc', 'about.segments/*']);
  });

  it('leaves an edge route that carries assets in the server function, and warns (OpenNext could not copy them)', () => {
    const { config, log } = load({
      'c.mjs': localOpenNextConfig,
      '.next/server/middleware-manifest.json': JSON.stringify({ functions: {
        '/blog/[slug]/opengraph-image/route': { name: 'app/blog/[slug]/opengraph-image/route', page: '/blog/[slug]/opengraph-image/route', assets: [{ name: 'server/edge/assets/Geist-Regular.ttf', filePath: 'server/edge/assets/Geist-Regular.ttf' }] },
        '/api/edge/route': { name: 'app/api/edge/route', page: '/api/edge/route', assets: [], wasm: [{ name: 'w', filePath: 'server/w.wasm' }] },
      } }),
    }, 'c.mjs');
    expect(Object.values(config.functions).map((f) => (f as { routes: string[] }).routes[0])).toEqual(['app/api/edge/route']);
    expect(log).toEqual([
      'shiplog: edge runtime routes, each in a function of its own (next.config redirects, rewrites and headers and the middleware do not run in front of them): app/api/edge/route',
      "warning: edge runtime routes with assets (fonts, images), which OpenNext's edge functions cannot carry, stay in the server function and answer 500: app/blog/[slug]/opengraph-image/route. Without export const runtime = 'edge' they run in the server function.",
    ]);
  });

  it("installs the app's own sharp into the server function (OpenNext leaves it out), at the version installed, for this machine", () => {
    const sharp = { 'node_modules/sharp/package.json': JSON.stringify({ name: 'sharp', version: '0.34.4' }) };
    const withSharp = load({ 'c.mjs': localOpenNextConfig, 'package.json': JSON.stringify({ dependencies: { sharp: '^0.34.0', next: '16.4.5' } }), ...sharp }, 'c.mjs');
    expect(withSharp.config.default.install).toEqual({ packages: ['sharp@0.34.4'], os: process.platform, arch: process.arch });
    expect(withSharp.log).toEqual(['shiplog: the app depends on sharp, which OpenNext leaves out of the server function: sharp@0.34.4 is installed into it']);
    // sharp in node_modules only as another package's dependency (Next's own, for images): nothing installed.
    const transitive = load({ 'c.mjs': localOpenNextConfig, 'package.json': JSON.stringify({ dependencies: { next: '16.4.5' } }), ...sharp }, 'c.mjs');
    expect(transitive.config.default.install).toBeUndefined();
    expect(transitive.log).toEqual([]);
    // On AWS: the site functions' platform (x86_64 Linux).
    const aws = load({ 'c.mjs': awsOpenNextConfig, 'package.json': JSON.stringify({ dependencies: { sharp: '0.34.4' } }), ...sharp }, 'c.mjs');
    expect(aws.config.default.install).toEqual({ packages: ['sharp@0.34.4'], os: 'linux', arch: 'x64', libc: 'glibc', nodeVersion: '22' });
  });

  it('without an app config and without edge routes: no functions, nothing said', () => {
    const { config, log } = load({ 'c.mjs': localOpenNextConfig, '.next/server/middleware-manifest.json': edgeManifest([]) }, 'c.mjs');
    expect(config.functions).toBeUndefined();
    // A deployed edge function loads this file without the build's routes: it still finds its wrapper and converter.
    expect(config.middleware).toEqual({ external: false, override: { wrapper: 'aws-lambda', converter: 'fn:localConverter' } });
    expect(log).toEqual([]);
  });

  it('with the app\'s own config: its edge functions answer whole responses through the local converter', () => {
    const app = `export default { default: {}, edgeExternals: ['some-pkg'], functions: { e: { runtime: 'edge', routes: ['app/api/e/route'], patterns: ['api/e'], override: { wrapper: 'cloudflare-edge' } } } };`;
    const { config } = load({ 'app.mjs': app, 'c.mjs': localWrappedOpenNextConfig('./app.mjs') }, 'c.mjs');
    expect(config.functions.e).toMatchObject({ runtime: 'edge', routes: ['app/api/e/route'], patterns: ['api/e'], override: { wrapper: 'aws-lambda', converter: 'fn:localConverter' } });
    expect(config.middleware).toEqual({ override: { wrapper: 'aws-lambda', converter: 'fn:localConverter' } });
    expect(config.edgeExternals).toEqual(['some-pkg', 'node:*']);
  });

  // A version directory as the router publishes it, with the config's pieces run from its default function.
  const version = (withTagFile: boolean) => {
    const dir = mkdtempSync(join(tmpdir(), 'open-next-version-'));
    writeFileSync(join(dir, 'c.mjs'), localOpenNextConfig);
    writeFileSync(join(dir, 'open-next.output.json'), '{}');
    mkdirSync(join(dir, 'server-functions', 'default', '.next'), { recursive: true });
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'assets', 'pixel.png'), 'png');
    if (withTagFile) {
      mkdirSync(join(dir, 'dynamodb-provider'));
      writeFileSync(join(dir, 'dynamodb-provider', 'dynamodb-cache.json'), JSON.stringify([{ tag: { S: 'B1/posts' }, path: { S: 'B1/blog' }, revalidatedAt: { N: '1' } }]));
    }
    return dir;
  };
  const run = (dir: string, body: string) => {
    const script = `const c = (await import(${JSON.stringify(join(dir, 'c.mjs'))})).default; const out = {};\n${body}\nconsole.log(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: join(dir, 'server-functions', 'default'), encoding: 'utf8', env: { ...process.env, OPEN_NEXT_BUILD_ID: 'B1' } });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  };

  it('tag cache: reads the build\'s tag file when there is one, starts empty when there is none', () => {
    const body = `const t = await c.default.override.tagCache();
      Object.assign(out, { byTag: await t.getByTag('posts'), byPath: await t.getByPath('blog'), fresh: await t.getLastModified('blog', 1000) });`;
    expect(run(version(true), body)).toEqual({ byTag: ['blog'], byPath: ['posts'], fresh: 1000 });
    expect(run(version(false), body)).toEqual({ byTag: [], byPath: [], fresh: 1000 });
  });

  it('tag cache: answers as dynamodb-lite does (a stale profile is STALE, an immediate revalidation a MISS) and keeps its writes across a restart', () => {
    const dir = version(true);
    const ask = `const t = await c.default.override.tagCache();
      const state = async (p, since) => (await t.getLastModified(p, since)) === -1 ? 'MISS' : (await t.isStale(p, since)) ? 'STALE' : 'HIT';
      out.blog = await state('blog', 1000); out.now = await state('now', 1000); out.old = await state('old', 1000); out.regenerated = await state('blog', 7000);`;
    const first = run(dir, `const w = await c.default.override.tagCache();
      // revalidateTag('posts', 'max'); revalidateTag('x', { expire: 0 }); one from before Next 16 (no expiry); one that expired since
      await w.writeTags([{ tag: 'posts', path: 'blog', revalidatedAt: 5000, stale: 5000, expire: 9e15 }, { tag: 'x', path: 'now', revalidatedAt: 6000, stale: 6000, expire: 6000 }]);
      await w.writeTags([{ tag: 'y', path: 'old', revalidatedAt: 6000 }]);
      ${ask}`);
    expect(first).toEqual({ blog: 'STALE', now: 'MISS', old: 'MISS', regenerated: 'HIT' });
    // Another process (a restart, or another function of the version) reads the same answers from cache/.
    expect(run(dir, ask)).toEqual(first);
    expect(readFileSync(join(dir, 'cache', 'shiplog-tags.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('incremental cache: the fs-dev layout in the version\'s cache/, whole writes, and the build\'s entries get their revalidate time', () => {
    const dir = version(false);
    writeFileSync(join(dir, 'server-functions', 'default', '.next', 'prerender-manifest.json'), JSON.stringify({ routes: { '/isr': { initialRevalidateSeconds: 2 } } }));
    const entry = join(dir, 'cache', 'B1', 'route-cache', 'APP_PAGE', 'h', '$');
    mkdirSync(entry, { recursive: true });
    writeFileSync(join(entry, 'isr.cache'), JSON.stringify({ type: 'app', html: 'built' }));
    const out = run(dir, `const ic = await c.default.override.incrementalCache();
      out.built = (await ic.get('route-cache/APP_PAGE/h/$/isr', 'cache')).value;
      await ic.set('route-cache/APP_PAGE/h/$/isr', { type: 'app', html: 'regenerated', revalidate: 2 }, 'cache');
      await ic.set('k1', { kind: 'FETCH', data: 1 }, 'fetch');
      out.regenerated = (await ic.get('route-cache/APP_PAGE/h/$/isr', 'cache')).value.html;
      out.fetch = (await ic.get('k1', 'fetch')).value;
      out.files = (await import('node:fs')).readdirSync(${JSON.stringify(entry)});`);
    expect(out).toEqual({ built: { type: 'app', html: 'built', revalidate: 2 }, regenerated: 'regenerated', fetch: { kind: 'FETCH', data: 1 }, files: ['isr.cache'] });
    expect(existsSync(join(dir, 'cache', '__fetch', 'B1', 'k1'))).toBe(true);
  });

  it('converter: in an edge function, the route\'s dynamic segments reach the query as next start puts them there', () => {
    const dir = version(false);
    const event = (rawPath: string, rawQueryString: string) =>
      JSON.stringify({ rawPath, rawQueryString, headers: { host: 'web.localhost:3001', 'x-forwarded-proto': 'http' }, requestContext: { http: { method: 'GET', sourceIp: '127.0.0.1' } } });
    const out = run(dir, `const conv = await c.default.override.converter();
      const server = await conv.convertFrom(${event('/api/hi/bob', 'q=1')});
      out.server = server.url;
      out.serverSameQuery = server.query === server.query;
      // Converted before the bundle has listed its route (its handler module loads after the conversion), read after.
      const early = await conv.convertFrom(${event('/api/hi/early', '')});
      // What an edge function's bundle sets (the matchers as jsNamedGroupsInMiddlewareManifest leaves them).
      globalThis._ROUTES = [
        { name: 'app/api/hi/[name]/route', page: '/api/hi/[name]/route', regex: ['^/api/hi/(?<nxtPname>[^/]+?)(?:/)?$'] },
        { name: 'app/docs/[...slug]/page', page: '/docs/[...slug]/page', regex: ['^/docs/(?<nxtPslug>.+?)(?:/)?$'] },
      ];
      out.early = [early.url, early.query];
      // Read again, the query is the same object (a change made to it stays).
      out.sameQuery = early.query === early.query;
      early.url = 'http://web.localhost:3001/rewritten'; early.query = { r: '1' };
      out.rewritten = [early.url, early.query, JSON.parse(JSON.stringify(early)).url, { ...early }.query];
      const one = await conv.convertFrom(${event('/api/hi/b%C3%B6b', 'q=1&name=spoofed')});
      out.one = [one.url, one.query];
      const all = await conv.convertFrom(${event('/docs/a/b', '')});
      out.all = [all.url, all.query];
      out.none = (await conv.convertFrom(${event('/other', 'x=1&y&z=a+b')})).url;
      out.static = (await conv.convertFrom(${event('/api/hi/', 'y&z=a+b')})).url;`);
    expect(out.server).toBe('http://web.localhost:3001/api/hi/bob?q=1');
    expect(out.early).toEqual(['http://web.localhost:3001/api/hi/early?name=early', { name: 'early' }]);
    expect(out.sameQuery).toBe(true);
    expect(out.serverSameQuery).toBe(true);
    // OpenNext's routing may set them (a rewrite); copies and JSON see what was set.
    expect(out.rewritten).toEqual(['http://web.localhost:3001/rewritten', { r: '1' }, 'http://web.localhost:3001/rewritten', { r: '1' }]);
    expect(out.one).toEqual(['http://web.localhost:3001/api/hi/b%C3%B6b?q=1&name=b%C3%B6b', { q: '1', name: 'böb' }]);
    expect(out.all).toEqual(['http://web.localhost:3001/docs/a/b?slug=a&slug=b', { slug: ['a', 'b'] }]);
    // A path no dynamic route matches keeps its query exactly as it came.
    expect(out.none).toBe('http://web.localhost:3001/other?x=1&y&z=a+b');
    expect(out.static).toBe('http://web.localhost:3001/api/hi/?y&z=a+b');
  });

  it('converter: request.url keeps the router\'s scheme; a missing local image is a 404, an existing one keeps its answer', () => {
    const dir = version(false);
    mkdirSync(join(dir, 'image-optimization-function'));
    writeFileSync(join(dir, 'open-next.output.json'), JSON.stringify({ origins: { default: { type: 'function', bundle: '.open-next/server-functions/default' } } }));
    // next.config headers(): { source: '/:path*', headers: [{ key: 'x-all', value: 'yes' }] }
    writeFileSync(join(dir, 'server-functions', 'default', '.next', 'routes-manifest.json'), JSON.stringify({ headers: [{ source: '/:path*', headers: [{ key: 'x-all', value: 'yes' }], regex: '^(?:/((?:[^/]+?)(?:/(?:[^/]+?))*))?(?:/)?$' }] }));
    const event = (headers: Record<string, string>, rawPath = '/api/x', rawQueryString = 'a=1&a=2&b=3') =>
      JSON.stringify({ rawPath, rawQueryString, headers, cookies: ['s=a=b'], requestContext: { http: { method: 'GET', sourceIp: '127.0.0.1' } } });
    const out = run(dir, `const conv = await c.default.override.converter();
      const plain = await conv.convertFrom(${event({ host: 'web.localhost:3001', 'x-forwarded-proto': 'http' })});
      out.http = plain.url; out.query = plain.query; out.cookies = plain.cookies; out.cookie = plain.headers.cookie;
      out.https = (await conv.convertFrom(${event({ host: 'shop.example.com', 'x-forwarded-proto': 'https' })})).url;
      // convertTo runs in the image function: __dirname is its directory there.
      globalThis.__dirname = ${JSON.stringify(join(dir, 'image-optimization-function'))};
      const failed = { statusCode: 500, headers: { vary: 'Accept' }, body: new Blob(['Internal server error']).stream(), isBase64Encoded: false };
      const img = (url) => ({ ...${event({ host: 'web.localhost' }, '/_next/image', '')}, rawQueryString: 'url=' + encodeURIComponent(url) + '&w=64&q=75' });
      out.missing = await conv.convertTo({ ...failed }, img('/missing.png'));
      out.present = (await conv.convertTo({ ...failed, body: new Blob(['Internal server error']).stream() }, img('/pixel.png'))).statusCode;
      const optimized = { statusCode: 200, headers: { 'Content-Type': 'image/png', 'x-all': 'optimizer' }, body: new Blob(['png']).stream(), isBase64Encoded: false };
      out.optimized = (await conv.convertTo(optimized, img('/pixel.png'))).headers;
      out.plain = (await conv.convertTo({ ...optimized, headers: { 'Content-Type': 'image/png' }, body: new Blob(['png']).stream() }, img('/pixel.png'))).headers;`);
    expect(out.http).toBe('http://web.localhost:3001/api/x?a=1&a=2&b=3');
    expect(out.https).toBe('https://shop.example.com/api/x?a=1&a=2&b=3');
    expect([out.query, out.cookies, out.cookie]).toEqual([{ a: ['1', '2'], b: '3' }, { s: 'a=b' }, 's=a=b']);
    // As next start answers it: the status and message of Next's image error, the app's headers(), no content type.
    expect(out.missing).toMatchObject({ statusCode: 404, headers: { 'x-all': 'yes' }, body: '"url" parameter is valid but internal response is invalid' });
    expect(out.present).toBe(500);
    // The image optimizer's own headers win over the app's, as under next start (it sets them after the router did).
    expect([out.optimized, out.plain]).toEqual([{ 'content-type': 'image/png', 'x-all': 'optimizer' }, { 'content-type': 'image/png', 'x-all': 'yes' }]);
  });

  it('image loader: an app with a basePath names its images under it (assets/ has them without it); outside it there is none', () => {
    const dir = version(false);
    mkdirSync(join(dir, 'image-optimization-function'));
    // How open-next build describes a basePath app's assets (open-next-output.ts, assetPrefixOf).
    writeFileSync(join(dir, 'open-next.output.json'), JSON.stringify({ origins: {
      s3: { type: 's3', originPath: '_assets', copy: [{ from: '.open-next/assets', to: '_assets/docs', cached: true }] },
      default: { type: 'function', bundle: '.open-next/server-functions/default' },
    } }));
    const out = run(dir, `globalThis.__dirname = ${JSON.stringify(join(dir, 'image-optimization-function'))};
      const loader = await c.imageOptimization.loader();
      const read = async (url) => {
        try {
          const r = await loader.load(url);
          const chunks = [];
          for await (const ch of r.body) chunks.push(ch);
          return Buffer.concat(chunks).toString() + ' ' + r.contentType;
        } catch {
          return 'none';
        }
      };
      out.under = await read('/docs/pixel.png');
      out.outside = await read('/pixel.png');
      out.lookalike = await read('/docsx/pixel.png');
      out.escaping = await read('/docs/../c.mjs');
      const conv = await c.default.override.converter();
      const img = (url) => ({ rawPath: '/docs/_next/image', rawQueryString: 'url=' + encodeURIComponent(url) + '&w=64&q=75', headers: { host: 'web.localhost' }, cookies: [], requestContext: { http: { method: 'GET', sourceIp: '127.0.0.1' } } });
      const failed = () => ({ statusCode: 500, headers: {}, body: new Blob(['Internal server error']).stream(), isBase64Encoded: false });
      out.statusOutside = (await conv.convertTo(failed(), img('/pixel.png'))).statusCode;
      out.statusMissingUnder = (await conv.convertTo(failed(), img('/docs/gone.png'))).statusCode;
      out.statusPresentUnder = (await conv.convertTo(failed(), img('/docs/pixel.png'))).statusCode;`);
    expect(out).toEqual({
      under: 'png image/png', outside: 'none', lookalike: 'none', escaping: 'none',
      // As next start answers a local image it has no file for; a failure on a file it has stays a failure.
      statusOutside: 404, statusMissingUnder: 404, statusPresentUnder: 500,
    });
  });
});
