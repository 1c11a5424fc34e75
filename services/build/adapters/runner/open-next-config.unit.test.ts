import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyNextConfig, ensureNextConfig, localOpenNextConfig, localWrappedOpenNextConfig, nextConfigNames } from './open-next-config.ts';

// The generated configs are JavaScript that `open-next build` loads: load them in a real Node.
const load = (files: Record<string, string>, entry: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'open-next-config-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const script = `const c = (await import(${JSON.stringify(join(dir, entry))})).default;
    const show = (v) => typeof v === 'function' ? 'fn:' + v.name : v;
    const fns = (f) => f && { ...f, override: Object.fromEntries(Object.entries(f.override ?? {}).map(([k, v]) => [k, show(v)])) };
    console.log(JSON.stringify({ ...c, default: fns(c.default), functions: c.functions && Object.fromEntries(Object.entries(c.functions).map(([n, f]) => [n, fns(f)])),
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
      out.present = (await conv.convertTo({ ...failed, body: new Blob(['Internal server error']).stream() }, img('/pixel.png'))).statusCode;`);
    expect(out.http).toBe('http://web.localhost:3001/api/x?a=1&a=2&b=3');
    expect(out.https).toBe('https://shop.example.com/api/x?a=1&a=2&b=3');
    expect([out.query, out.cookies, out.cookie]).toEqual([{ a: ['1', '2'], b: '3' }, { s: 'a=b' }, 's=a=b']);
    // As next start answers it: the status and message of Next's image error, the app's headers(), no content type.
    expect(out.missing).toMatchObject({ statusCode: 404, headers: { 'x-all': 'yes' }, body: '"url" parameter is valid but internal response is invalid' });
    expect(out.present).toBe(500);
  });
});

describe('ensureNextConfig', () => {
  const dirWith = (files: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'next-config-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };

  it('writes an empty next.config.mjs for an app without one, which Node loads as the defaults', async () => {
    const dir = dirWith({ 'package.json': '{}' });
    expect(await ensureNextConfig(dir)).toBe(true);
    expect(readFileSync(join(dir, 'next.config.mjs'), 'utf8')).toBe(emptyNextConfig);
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `console.log(JSON.stringify((await import(${JSON.stringify(join(dir, 'next.config.mjs'))})).default))`], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('{}');
  });

  it.each(nextConfigNames)('leaves an app with %s as it is', async (name) => {
    const dir = dirWith({ [name]: 'export default { poweredByHeader: false };' });
    expect(await ensureNextConfig(dir)).toBe(false);
    expect(readdirSync(dir)).toEqual([name]);
  });

  it('counts a link at one of the names as the app\'s config, and writes nothing through it', async () => {
    const dir = dirWith({});
    const outside = join(mkdtempSync(join(tmpdir(), 'next-config-outside-')), 'target.mjs');
    symlinkSync(outside, join(dir, 'next.config.js'));
    expect(await ensureNextConfig(dir)).toBe(false);
    expect(existsSync(outside)).toBe(false);
    expect(readdirSync(dir)).toEqual(['next.config.js']);
  });
});
