import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  routingLocales, routingLocalesLine, routingLocalesScript, routingLocalesWarning, edgeRouteEnv, emptyNextConfig, ensureNextConfig, jsNamedGroupsInMiddlewareManifest, nextConfigNames, nextTrailingSlashRedirects, nodeLoadableEdgeFunctions, trailingSlashRedirectsLine,
  pagesFallbackEntries, pagesFallbackEntriesLine, pagesFallbackEntriesScript, trailingSlashRedirectsScript,
  imageHeaders, imageResponseHeaders, imageResponseHeadersLine, imageResponseHeadersScript, imageResponseHeadersWarning, imagesOff, imagesOffLine, imagesOffScript,
} from './build-output.ts';

/** An output fix's buildspec script, written to a file and run as CodeBuild runs it: `node <script> <output dir>`, its stdout. */
const scriptRunner = (name: string, source: string) => {
  const script = join(mkdtempSync(join(tmpdir(), 'output-fix-script-')), name);
  writeFileSync(script, source);
  return (out: string) => execFileSync('node', [script, out], { encoding: 'utf8' });
};

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

describe('nodeLoadableEdgeFunctions', () => {
  it('gives each edge bundle the process itself, which Next\'s edge runtime can set env on, and leaves everything else', async () => {
    const out = mkdtempSync(join(tmpdir(), 'open-next-output-'));
    const fn = (name: string, text: string) => {
      mkdirSync(join(out, 'server-functions', name), { recursive: true });
      writeFileSync(join(out, 'server-functions', name, 'index.mjs'), text);
    };
    // What Next's edge globals do on load, under the banner OpenNext's edge bundles start with.
    const body = 'if (process !== globalThis.process) { process.env = globalThis.process.env; }\nexport const env = process.env === globalThis.process.env;\n';
    fn('edge-route-0', `import * as process from "node:process";\n${body}`);
    fn('default', 'import { createRequire } from "node:module";\nexport const handler = 1;\n');
    const elsewhere = join(mkdtempSync(join(tmpdir(), 'open-next-elsewhere-')), 'index.mjs');
    writeFileSync(elsewhere, `import * as process from "node:process";\n${body}`);
    mkdirSync(join(out, 'server-functions', 'linked'));
    symlinkSync(elsewhere, join(out, 'server-functions', 'linked', 'index.mjs'));

    const loads = (file: string) => spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(file)}); console.log(m.env)`], { encoding: 'utf8' });
    expect(loads(join(out, 'server-functions', 'edge-route-0', 'index.mjs')).stderr).toContain("Cannot assign to read only property 'env'");
    expect(await nodeLoadableEdgeFunctions(out)).toEqual(['edge-route-0']);
    expect(loads(join(out, 'server-functions', 'edge-route-0', 'index.mjs')).stdout.trim()).toBe('true');
    expect(readFileSync(join(out, 'server-functions', 'edge-route-0', 'index.mjs'), 'utf8')).toBe(`import process from "node:process";\n${body}`);
    expect(readFileSync(join(out, 'server-functions', 'default', 'index.mjs'), 'utf8')).toContain('createRequire');
    expect(readFileSync(elsewhere, 'utf8').startsWith('import * as process')).toBe(true);
    // With the build's edge env: set before the bundle's own code runs.
    fn('edge-route-1', 'import * as process from "node:process";\nexport const id = process.env.__NEXT_BUILD_ID;\n');
    expect(await nodeLoadableEdgeFunctions(out, { __NEXT_BUILD_ID: 'b1' })).toEqual(['edge-route-1']);
    const withEnv = spawnSync(process.execPath, ['--input-type=module', '-e', `console.log((await import(${JSON.stringify(join(out, 'server-functions', 'edge-route-1', 'index.mjs'))})).id)`], { encoding: 'utf8' });
    expect(withEnv.stdout.trim()).toBe('b1');
    // Nothing to change: an output without edge functions, or without server functions at all.
    expect(await nodeLoadableEdgeFunctions(out)).toEqual([]);
    expect(await nodeLoadableEdgeFunctions(mkdtempSync(join(tmpdir(), 'open-next-empty-')))).toEqual([]);
  });
});

describe('jsNamedGroupsInMiddlewareManifest', () => {
  it('rewrites the matchers Turbopack writes with (?P<name> into regular expressions JavaScript compiles, and nothing else', async () => {
    const app = mkdtempSync(join(tmpdir(), 'middleware-manifest-'));
    mkdirSync(join(app, '.next', 'server'), { recursive: true });
    const file = join(app, '.next', 'server', 'middleware-manifest.json');
    const rust = '^/api/hi/(?P<nxtPname>[^/]+?)(?:/)?$';
    writeFileSync(file, JSON.stringify({
      version: 3,
      middleware: { '/': { name: 'middleware', matchers: [{ regexp: '^/posts(?:/(.*))?$', originalSource: '/posts/:path*' }] } },
      functions: { '/api/hi/[name]/route': { name: 'app/api/hi/[name]/route', env: { KEY: '(?P<kept>' }, matchers: [{ regexp: rust, originalSource: '/api/hi/[name]' }] } },
    }));
    expect(() => new RegExp(rust)).toThrow(/Invalid group/);
    expect(await jsNamedGroupsInMiddlewareManifest(app)).toBe(1);
    const after = JSON.parse(readFileSync(file, 'utf8'));
    const fixed = after.functions['/api/hi/[name]/route'].matchers[0].regexp as string;
    expect(fixed).toBe('^/api/hi/(?<nxtPname>[^/]+?)(?:/)?$');
    expect(new RegExp(fixed).exec('/api/hi/bob')?.groups).toEqual({ nxtPname: 'bob' });
    expect(after.middleware['/'].matchers[0].regexp).toBe('^/posts(?:/(.*))?$');
    expect(after.functions['/api/hi/[name]/route'].env).toEqual({ KEY: '(?P<kept>' });
    // A manifest reached through a link out of the app is not written.
    const outside = mkdtempSync(join(tmpdir(), 'middleware-manifest-outside-'));
    mkdirSync(join(outside, 'server'));
    writeFileSync(join(outside, 'server', 'middleware-manifest.json'), JSON.stringify({ functions: { f: { matchers: [{ regexp: rust }] } } }));
    const linked = mkdtempSync(join(tmpdir(), 'middleware-manifest-linked-'));
    symlinkSync(outside, join(linked, '.next'));
    await expect(jsNamedGroupsInMiddlewareManifest(linked)).rejects.toThrow(/is not inside/);
    expect(readFileSync(join(outside, 'server', 'middleware-manifest.json'), 'utf8')).toContain('(?P<');
    // Once is enough; no manifest (no middleware, no edge routes) is nothing to do.
    expect(await jsNamedGroupsInMiddlewareManifest(app)).toBe(0);
    expect(await jsNamedGroupsInMiddlewareManifest(mkdtempSync(join(tmpdir(), 'no-manifest-')))).toBe(0);
  });
});

describe("/_next/image when next.config turns Next's optimizer off", () => {
  // open-next.output.json as open-next build 4.1 writes it (origins and behaviours of an app with public files).
  const output = {
    origins: {
      s3: { type: 's3', originPath: '_assets', copy: [{ from: '.open-next/assets', to: '_assets' }] },
      imageOptimizer: { type: 'function', handler: 'index.handler', bundle: '.open-next/image-optimization-function' },
      default: { type: 'function', handler: 'index.handler', bundle: '.open-next/server-functions/default', streaming: true },
    },
    behaviors: [{ pattern: '_next/image*', origin: 'imageOptimizer' }, { pattern: '_next/data/*', origin: 'default' }, { pattern: '*', origin: 'default' }, { pattern: '_next/*', origin: 's3' }],
  };
  /** An output whose server function's build says `images` (as next build writes required-server-files.json), at `at`. */
  const outputWith = (images: Record<string, unknown> | undefined, at = '.next') => {
    const out = mkdtempSync(join(tmpdir(), 'images-off-'));
    writeFileSync(join(out, 'open-next.output.json'), JSON.stringify(output));
    mkdirSync(join(out, 'server-functions', 'default', at), { recursive: true });
    const config = { images: { loader: 'default', loaderFile: '', path: '/_next/image', unoptimized: false, ...images } };
    if (images !== undefined) writeFileSync(join(out, 'server-functions', 'default', at, 'required-server-files.json'), JSON.stringify({ version: 1, config }));
    return out;
  };
  const outputOf = (out: string) => JSON.parse(readFileSync(join(out, 'open-next.output.json'), 'utf8')) as typeof output;
  const served = { ...output, origins: { s3: output.origins.s3, default: output.origins.default }, behaviors: output.behaviors.map((b) => (b.origin === 'imageOptimizer' ? { ...b, origin: 'default' } : b)) };

  it('sends it to the server function, and makes no image origin, for images.unoptimized or a custom loader', async () => {
    const off = outputWith({ unoptimized: true });
    // The image function's bundle stays, unrouted: the image step then neither patches it nor warns.
    mkdirSync(join(off, 'image-optimization-function'));
    writeFileSync(join(off, 'image-optimization-function', 'index.mjs'), 'export const handler = async () => ({});');
    expect(await imageResponseHeaders(off)).toEqual([0, 1]);
    expect(await imagesOff(off)).toBe(1);
    expect(outputOf(off)).toEqual(served);
    expect(await imagesOff(off)).toBe(0);
    expect(await imageResponseHeaders(off)).toEqual([0, 0]);
    // A loader of the app's own (a monorepo app's build sits under its package path).
    const custom = outputWith({ loader: 'custom', loaderFile: './image-loader.js' }, 'apps/web/.next');
    expect(await imagesOff(custom)).toBe(1);
    expect(outputOf(custom)).toEqual(served);
  });

  it("leaves Next's optimizer, and an output it cannot read, as they are", async () => {
    for (const out of [outputWith({}), outputWith({ unoptimized: false, loader: 'default' }), outputWith(undefined)]) {
      expect(await imagesOff(out)).toBe(0);
      expect(outputOf(out)).toEqual(output);
    }
  });

  it("does the same on CodeBuild (the buildspec's script), saying so in the build log", () => {
    const run = scriptRunner('images-off.cjs', imagesOffScript);
    const off = outputWith({ unoptimized: true });
    expect(run(off)).toBe(`${imagesOffLine(1)}\n`);
    expect(outputOf(off)).toEqual(served);
    expect(run(outputWith({}))).toBe('');
  });
});

describe("Next's trailing-slash redirects, handed to OpenNext's routing", () => {
  // As next build 16.4.5 writes them: without trailingSlash (one rule) and with it (two), before the app's own.
  const withoutSlash = [
    { source: '/:path+/', destination: '/:path+', internal: true, priority: true, statusCode: 308, regex: '^(?:/((?:[^/]+?)(?:/(?:[^/]+?))*))/$' },
    { source: '/home', destination: '/', statusCode: 307, regex: '^(?!/_next)/home(?:/)?$' },
  ];
  const withSlash = [
    {
      source: '/:file((?!\\.well-known(?:/.*)?)(?:[^/]+/)*[^/]+\\.\\w+)/', destination: '/:file', internal: true, priority: true,
      missing: [{ type: 'header', key: 'x-nextjs-data' }], statusCode: 308, regex: '^(?:/((?!\\.well-known(?:/.*)?)(?:[^/]+/)*[^/]+\\.\\w+))/$',
    },
    { source: '/:notfile((?!\\.well-known(?:/.*)?)(?:[^/]+/)*[^/\\.]+)', destination: '/:notfile/', internal: true, priority: true, statusCode: 308, regex: '^(?:/((?!\\.well-known(?:/.*)?)(?:[^/]+/)*[^/\\.]+))$' },
  ];
  /** A packaged output whose function `fn` has a routes manifest at `at` (inside the function). */
  const outputWith = (redirects: unknown[], at = '.next', fn = 'default') => {
    const out = mkdtempSync(join(tmpdir(), 'routes-manifest-'));
    mkdirSync(join(out, 'server-functions', fn, at), { recursive: true });
    writeFileSync(join(out, 'server-functions', fn, at, 'routes-manifest.json'), JSON.stringify({ version: 3, basePath: '', redirects, headers: [], rewrites: [] }));
    return out;
  };
  const redirectsOf = (out: string, at = '.next', fn = 'default') => JSON.parse(readFileSync(join(out, 'server-functions', fn, at, 'routes-manifest.json'), 'utf8')).redirects;
  // Handed over, each skips data requests (OpenNext normalizes /_next/data/<id>/a.json to /a before redirects).
  const dataReq = [{ type: 'header', key: 'x-nextjs-data' }, { type: 'query', key: '__nextDataReq' }];
  const handed = (r: object & { missing?: unknown[] }) => ({ ...r, internal: false, missing: r.missing ? [...r.missing, dataReq[1]] : dataReq });

  it("marks them as ordinary redirects in each function's manifest, in their place before the app's, and changes nothing else", async () => {
    const out = outputWith(withoutSlash);
    expect(await nextTrailingSlashRedirects(out)).toBe(1);
    expect(redirectsOf(out)).toEqual([handed(withoutSlash[0]!), withoutSlash[1]]);
    expect(await nextTrailingSlashRedirects(out)).toBe(0);
    // A monorepo app's function keeps its manifest in the app's package folder; node_modules are not looked into.
    const mono = outputWith(withSlash, 'apps/web/.next');
    mkdirSync(join(mono, 'server-functions', 'default', 'node_modules', 'pkg', '.next'), { recursive: true });
    writeFileSync(join(mono, 'server-functions', 'default', 'node_modules', 'pkg', '.next', 'routes-manifest.json'), JSON.stringify({ redirects: withoutSlash }));
    expect(await nextTrailingSlashRedirects(mono)).toBe(2);
    expect(redirectsOf(mono, 'apps/web/.next')).toEqual(withSlash.map(handed));
    expect(redirectsOf(mono, 'node_modules/pkg/.next')).toEqual(withoutSlash);
    // Next's regexes as OpenNext tests them: /api/ paths and files are redirected as next start does.
    const [file, notfile] = withSlash.map((r) => new RegExp(r.regex));
    expect(['/robots.txt/', '/a/b.json/'].map((p) => file!.test(p))).toEqual([true, true]);
    expect(['/api/ping', '/docs/a'].map((p) => notfile!.test(p))).toEqual([true, true]);
    expect(['/.well-known/x', '/robots.txt', '/api/ping/'].map((p) => notfile!.test(p))).toEqual([false, false, false]);
    expect(new RegExp(withoutSlash[0]!.regex).test('/api/ping/')).toBe(true);
    // No functions, or a manifest that is not JSON: nothing to do.
    expect(await nextTrailingSlashRedirects(mkdtempSync(join(tmpdir(), 'no-routes-manifest-')))).toBe(0);
    const broken = outputWith([]);
    writeFileSync(join(broken, 'server-functions', 'default', '.next', 'routes-manifest.json'), '{');
    expect(await nextTrailingSlashRedirects(broken)).toBe(0);
  });

  it('follows no link, and writes nothing through one', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'routes-manifest-outside-'));
    writeFileSync(join(outside, 'routes-manifest.json'), JSON.stringify({ redirects: withoutSlash }));
    const linked = outputWith([]);
    const fn = join(linked, 'server-functions', 'default');
    rmSync(join(fn, '.next'), { recursive: true });
    symlinkSync(outside, join(fn, '.next'));
    expect(await nextTrailingSlashRedirects(linked)).toBe(0);
    const file = join(fn, 'app', '.next', 'routes-manifest.json');
    mkdirSync(dirname(file), { recursive: true });
    symlinkSync(join(outside, 'routes-manifest.json'), file);
    expect(await nextTrailingSlashRedirects(linked)).toBe(0);
    expect(JSON.parse(readFileSync(join(outside, 'routes-manifest.json'), 'utf8')).redirects).toEqual(withoutSlash);
  });

  it("does the same on CodeBuild (the buildspec's script), saying so in the build log", () => {
    const run = scriptRunner('trailing-slash.cjs', trailingSlashRedirectsScript);
    const out = outputWith(withSlash);
    expect(run(out)).toBe(`${trailingSlashRedirectsLine(2)}\n`);
    expect(redirectsOf(out)).toEqual(withSlash.map(handed));
    expect(run(out)).toBe('');
    expect(run(mkdtempSync(join(tmpdir(), 'no-routes-manifest-')))).toBe('');
  });
});

describe('Pages Router fallback shells in the cache open-next build wrote', () => {
  // As open-next build 4.1 writes them for next build 16.4.5 (html shortened): the shell of pages/fb/[id].js
  // with fallback: true, the page the build generated for /fb/1, and an App Router page.
  const key = '/route-cache/PAGES/748e/$/fb/[id]';
  const shell = { type: 'app', meta: { routeCache: { key, owner: { kind: 'PAGES', sourceRoute: '/fb/[id]' }, isFallback: true } }, html: '<p>loading</p>' };
  const page = { type: 'page', html: '<h1>1</h1>', json: { pageProps: { id: '1' } }, revalidate: 60 };
  const appShell = { type: 'app', meta: { routeCache: { key: '/route-cache/APP_PAGE/1a2b/$/blog/[slug]', owner: { kind: 'APP_PAGE', sourceRoute: '/blog/[slug]' }, isFallback: true } }, html: '<p>shell</p>' };
  const outputWith = (files: Record<string, unknown>) => {
    const out = mkdtempSync(join(tmpdir(), 'fallback-cache-'));
    for (const [name, entry] of Object.entries(files)) {
      const file = join(out, 'cache', 'BUILD', name);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, typeof entry === 'string' ? entry : JSON.stringify(entry));
    }
    return out;
  };
  const read = (out: string, name: string) => JSON.parse(readFileSync(join(out, 'cache', 'BUILD', name), 'utf8'));
  const names = {
    shell: 'route-cache/PAGES/748e/$/fb/[id].cache', page: 'route-cache/PAGES/748e/$/fb/1.cache',
    app: 'route-cache/APP_PAGE/1a2b/$/blog/[slug].cache', nested: 'route-cache/PAGES/99ff/$/[lang]/about.cache',
  };

  it("types a Pages fallback shell as a page with the empty data Next's own cache gives it, and leaves every other entry", async () => {
    const nested = { ...shell, meta: { routeCache: { ...shell.meta.routeCache, key: '/route-cache/PAGES/99ff/$/[lang]/about' } } };
    const out = outputWith({ [names.shell]: shell, [names.page]: page, [names.app]: appShell, [names.nested]: nested, 'route-cache/PAGES/0/$/[x]/broken.cache': '{' });
    expect(await pagesFallbackEntries(out)).toBe(2);
    expect(read(out, names.shell)).toEqual({ ...shell, type: 'page', json: {} });
    expect(read(out, names.nested)).toEqual({ ...nested, type: 'page', json: {} });
    expect(read(out, names.page)).toEqual(page);
    expect(read(out, names.app)).toEqual(appShell);
    expect(await pagesFallbackEntries(out)).toBe(0);
    expect(await pagesFallbackEntries(mkdtempSync(join(tmpdir(), 'no-cache-')))).toBe(0);
  });

  it('follows no link, and writes nothing through one', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'fallback-outside-'));
    writeFileSync(join(outside, '[id].cache'), JSON.stringify(shell));
    const out = outputWith({});
    mkdirSync(join(out, 'cache', 'BUILD'), { recursive: true });
    symlinkSync(join(outside, '[id].cache'), join(out, 'cache', 'BUILD', '[id].cache'));
    symlinkSync(outside, join(out, 'cache', 'BUILD', '[dir]'));
    expect(await pagesFallbackEntries(out)).toBe(0);
    expect(JSON.parse(readFileSync(join(outside, '[id].cache'), 'utf8'))).toEqual(shell);
  });

  it("does the same on CodeBuild (the buildspec's script), saying so in the build log", () => {
    const run = scriptRunner('pages-fallback.cjs', pagesFallbackEntriesScript);
    const out = outputWith({ [names.shell]: shell, [names.page]: page });
    expect(run(out)).toBe(`${pagesFallbackEntriesLine(1)}\n`);
    expect(read(out, names.shell)).toEqual({ ...shell, type: 'page', json: {} });
    expect(run(out)).toBe('');
  });
});

describe('edgeRouteEnv', () => {
  it('is the env next build gives its edge routes, once per name; nothing without a manifest', async () => {
    const app = mkdtempSync(join(tmpdir(), 'edge-env-'));
    expect(await edgeRouteEnv(app)).toEqual({});
    mkdirSync(join(app, '.next', 'server'), { recursive: true });
    writeFileSync(join(app, '.next', 'server', 'middleware-manifest.json'), JSON.stringify({
      middleware: { '/': { env: { ONLY_MIDDLEWARE: 'x' } } },
      functions: { '/a/route': { env: { __NEXT_BUILD_ID: 'b1', KEY: 'k' } }, '/b/page': { env: { __NEXT_BUILD_ID: 'b1', OTHER: 'o', N: 1 } } },
    }));
    expect(await edgeRouteEnv(app)).toEqual({ __NEXT_BUILD_ID: 'b1', KEY: 'k', OTHER: 'o' });
  });
});

describe("OpenNext's locale routing, made Next's", () => {
  // The functions as OpenNext 4.1.12's server bundle has them (minified by its esbuild 0.28.2; from
  // a Pages Router app with basePath and i18n built here): isLocalizedPath, localizePath and the
  // head of handleLocaleRedirect. detectLocale (its helpers left out) is a stand-in: the
  // NEXT_LOCALE cookie, else the default locale.
  const bundled = [
    'function Eo(e){return w.i18n?.locales.includes(e.split("/")[1].toLowerCase())??!1}',
    'function B(e){let t=w.i18n;return!t||Eo(e.rawPath)?e.rawPath:`/${Ee(e,t)}${e.rawPath}`}',
    'function $t(e){let t=w.i18n;if(!t||t.localeDetection===!1||e.rawPath!=="/")return!1;return"redirect"}',
  ].join('');
  // For each path: localizePath without a cookie, with NEXT_LOCALE=fr, and whether the locale redirect goes on.
  const routeWith = (code: string, config: object, paths: string[]) =>
    new Function('w', `const Ee=(e,t)=>e.cookies.NEXT_LOCALE??t.defaultLocale;${code};` +
      `const ev=(p,c)=>({rawPath:p,headers:{host:'h'},cookies:c});` +
      `return ${JSON.stringify(paths)}.flatMap((p)=>[B(ev(p,{})),B(ev(p,{NEXT_LOCALE:'fr'})),$t(ev(p,{}))])`)(config) as unknown[];
  const outputWith = (manifest: object | null, bundle = bundled, at = 'server-functions/default') => {
    const out = mkdtempSync(join(tmpdir(), 'routing-locales-'));
    mkdirSync(join(out, at, '.next'), { recursive: true });
    writeFileSync(join(out, at, 'index.mjs'), `import x from 'y';${bundle};export{B};`);
    if (manifest) writeFileSync(join(out, at, '.next', 'routes-manifest.json'), JSON.stringify(manifest));
    return out;
  };
  const i18n = { locales: ['en', 'fr'], defaultLocale: 'en' };
  const docs = { basePath: '/docs', i18n };
  const bundleOf = (out: string, at = 'server-functions/default') => readFileSync(join(out, at, 'index.mjs'), 'utf8').slice("import x from 'y';".length, -';export{B};'.length);

  it('puts the locale after the basePath and localizes a path without one with the default locale, as Next compiles the middleware, redirects, rewrites and headers', async () => {
    const paths = ['/docs', '/docs/old/a', '/docs/fr/old/a', '/outside'];
    // Before: the visitor's locale, in front of the basePath (no rule of Next's matches); the root's locale redirect never.
    expect(routeWith(bundled, docs, paths)).toEqual([
      '/en/docs', '/fr/docs', false, '/en/docs/old/a', '/fr/docs/old/a', false,
      '/en/docs/fr/old/a', '/fr/docs/fr/old/a', false, '/en/outside', '/fr/outside', false,
    ]);
    const out = outputWith({ ...docs, redirects: [] });
    expect(await routingLocales(out)).toEqual([1, 0]);
    expect(routeWith(bundleOf(out), docs, paths)).toEqual([
      '/docs/en', '/docs/en', 'redirect', '/docs/en/old/a', '/docs/en/old/a', false,
      '/docs/fr/old/a', '/docs/fr/old/a', false, '/en/outside', '/en/outside', false,
    ]);
    // Once only.
    expect(await routingLocales(out)).toEqual([0, 0]);
  });

  it('without a basePath: a path without a locale is the default locale\'s, not the visitor\'s', async () => {
    const config = { basePath: '', i18n };
    const out = outputWith(config);
    expect(await routingLocales(out)).toEqual([1, 0]);
    expect(routeWith(bundled, config, ['/', '/about', '/fr/about'])).toEqual(['/en/', '/fr/', 'redirect', '/en/about', '/fr/about', false, '/fr/about', '/fr/about', false]);
    expect(routeWith(bundleOf(out), config, ['/', '/about', '/fr/about'])).toEqual(['/en/', '/en/', 'redirect', '/en/about', '/en/about', false, '/fr/about', '/fr/about', false]);
  });

  it('leaves an app without locales, and counts a bundle it cannot find the functions in', async () => {
    for (const manifest of [{ basePath: '/docs' }, {}, null]) {
      const other = outputWith(manifest);
      expect(await routingLocales(other)).toEqual([0, 0]);
      expect(bundleOf(other)).toBe(bundled);
    }
    const changed = bundled.replace('return!t||', 'return t===void 0||');
    const out = outputWith(docs, changed);
    expect(await routingLocales(out)).toEqual([0, 1]);
    expect(bundleOf(out)).toBe(changed);
  });

  it("does the same on CodeBuild (the buildspec's script), in a monorepo app's package folder, saying so in the build log", () => {
    const run = scriptRunner('routing-locales.cjs', routingLocalesScript);
    const at = 'server-functions/default/apps/web';
    const out = outputWith(docs, bundled, at);
    expect(run(out)).toBe(`${routingLocalesLine(1)}\n`);
    expect(routeWith(bundleOf(out, at), docs, ['/docs/a'])).toEqual(['/docs/en/a', '/docs/en/a', false]);
    expect(run(out)).toBe('');
    expect(run(outputWith(docs, 'function B(e){return e.rawPath}'))).toBe(`${routingLocalesWarning(1)}\n`);
  });
});

describe("the image function answers as next start does: Content-Disposition, Content-Security-Policy, a missing file 404", () => {
  const require = createRequire(import.meta.url);
  // Next's own: the headers its image optimizer sends with an optimized image (what next start answers).
  const nextImage = require('next/dist/server/image-optimizer.js') as { sendResponse: (...args: unknown[]) => void };
  const nextDefaults = (require('next/dist/server/config-shared.js') as { defaultConfig: { images: Record<string, unknown> } }).defaultConfig.images;
  const nextHeaders = (url: string, extension: string, images: Record<string, unknown>) => {
    const headers: Record<string, string> = {};
    nextImage.sendResponse({ headers: {}, method: 'GET' }, { setHeader: (k: string, v: string) => { headers[k] = v; }, end: () => undefined }, url, extension, Buffer.from('x'), 'etag', false, 'MISS', images, 60, false);
    return headers;
  };

  it("names the file and quotes it as Next does, for every type Next's optimizer answers with", () => {
    const extensions = ['avif', 'webp', 'png', 'jpeg', 'gif', 'svg', 'ico', 'icns', 'bmp', 'jxl', 'heic', 'tiff', 'jp2', 'pdf'];
    const urls = ['/pic.png', '/docs/pic.png?v=1', '/a.b.c.png', '/my pic.png', '/my%20pic.png', '/caf\u00e9.png', '/\u2603.png', '/\ud83d\ude00 x.png',
      '/quo"te\\\\.png', "/semi;colon,'x'.png", 'https://cdn.example.com/img/photo.jpg?w=1', '/', '/dir/', '/.png', '/-_~!*()'];
    const configs = [nextDefaults, { ...nextDefaults, contentDispositionType: 'inline', contentSecurityPolicy: "default-src 'self'" }];
    let compared = 0;
    for (const images of configs) {
      for (const ext of extensions) {
        for (const url of urls) {
          const theirs = nextHeaders(url, ext, images);
          const ours = imageHeaders(url, theirs['Content-Type'], images as { contentSecurityPolicy?: string; contentDispositionType?: string });
          expect(ours, `${url} as ${ext}`).toEqual({ 'Content-Disposition': theirs['Content-Disposition'], 'Content-Security-Policy': theirs['Content-Security-Policy'] });
          compared++;
        }
      }
    }
    expect(compared).toBe(configs.length * extensions.length * urls.length);
    expect(imageHeaders('/a.png', undefined, nextDefaults)['Content-Disposition']).toBe('attachment; filename="image.bin"');
  });

  // defaultHandler, buildSuccessResponse, buildFailureResponse and downloadHandler as OpenNext
  // 4.1.12's image function has them (minified by its esbuild 0.28.2, from an App Router app built
  // here; the handler's debug calls and HOST default left out). Next's optimizer (ag), the params
  // check, the loader (fg) and the stream writer are stand-ins: ag fetches the file through the
  // download handler as Next's fetchInternalImage does (an answer not 2xx is an ImageError of its
  // status, a throw an ImageError 500) and refuses a text file (400), as Next does.
  const bundled = [
    'async function ug(e,t){let{headers:r,query:d}=e;try{let a=lg(r,d===null?void 0:d);if("errorMessage"in a)return zs(a.errorMessage,t?.streamCreator,400);let n;if(process.env.OPENNEXT_STATIC_ETAG&&(n=pg(a)),n&&r["if-none-match"]===n)return{statusCode:304,headers:{},body:tg(),isBase64Encoded:!1,type:"core"};let o=await ag(r,a,ii,hg);return dg(o,t?.streamCreator,n)}catch(a){return jt("Failed to optimize image",a),zs("Internal server error",t?.streamCreator)}}',
    'function dg(e,t,r){let d={Vary:"Accept","Content-Type":e.contentType,"Cache-Control":`public,max-age=${e.maxAge},immutable`};if(Le("result",e),r&&(d.ETag=r),t){let a=new oc(()=>{},async()=>{},t);a.writeHead(200,d),a.end(e.buffer)}return{type:"core",statusCode:200,body:sc(e.buffer,!0),isBase64Encoded:!0,headers:d}}',
    'function zs(e,t,r=500){if(Le(e,r),t){let d=new oc(()=>{},async()=>{},t);d.writeHead(r,{Vary:"Accept","Cache-Control":"public,max-age=60,immutable"}),d.end(e)}return{type:"core",isBase64Encoded:!1,statusCode:r,headers:{Vary:"Accept","Cache-Control":"public,max-age=60,immutable"},body:sc(e)}}',
    'async function hg(e,t,r){Le("downloadHandler url",r);let d=(a,n)=>{a.pipe(n).once("close",()=>{n.statusCode=200,n.end()}).once("error",o=>{jt("Failed to get image",o),n.statusCode=400,n.end()})};try{if(r.href.toLowerCase().match(/^https?:\\/\\//))d($m.get(r),t);else{let a=await fg.load(r.href);if(!a.body)throw new Error("Empty response body from the S3 request.");d(a.body,t),a.contentType&&t.setHeader("Content-Type",a.contentType),a.cacheControl&&t.setHeader("Cache-Control",a.cacheControl)}}catch(a){throw jt("Failed to download image",a),a}}',
  ].join('');
  const stand = `const Le=()=>{},sc=(b)=>b,jt=()=>{},pg=()=>'',tg=()=>'',oc=null,$m=null;
    class ImageError extends Error{constructor(c,m){super(m);this.statusCode=c}}
    const lg=(h,q)=>q.url?{href:q.url,width:64}:{errorMessage:'"url" parameter is required'};
    const files={'/logo.svg':['<svg/>','image/svg+xml'],'/docs/pic.png':['png','image/png'],'/notes.txt':['text','text/plain']};
    const fg={load:async(href)=>{if(href==='/broken.png')throw new Error('network down');
      if(!files[href])throw Object.assign(new Error('The specified key does not exist.'),{name:'FatalError'});
      return{body:{pipe:(res)=>{res.body=files[href][0];const once=(ev,f)=>{if(ev==='close')queueMicrotask(f);return{once}};return{once}}},contentType:files[href][1]}}};
    const ag=async(h,params,config,download)=>{
      const res={statusCode:undefined,headers:{},setHeader(k,v){this.headers[k]=v},end(b){this.ended=true;if(b)this.body=String(b)}};
      try{await download({},res,{href:params.href});await new Promise((r)=>setTimeout(r,1))}catch{throw new ImageError(500,'"url" parameter is valid but upstream response is invalid')}
      if(!res.statusCode||res.statusCode<200||res.statusCode>299)throw new ImageError(res.statusCode,'"url" parameter is valid but internal response is invalid');
      const type=res.headers['Content-Type'];
      if(!type.startsWith('image/'))throw new ImageError(400,"The requested resource isn't a valid image.");
      return{buffer:res.body,contentType:type==='image/png'?'image/webp':type,maxAge:60}};`;
  // The handler's answer to ?url=<url>, with the app's `images` config.
  const answer = async (code: string, url: string | undefined, images: object, headers: Record<string, string> = {}) =>
    new Function('images', 'url', 'headers', `const ii={images};${stand}${code};return ug({headers,query:url===undefined?{}:{url}},{})`)(images, url, headers) as
      Promise<{ statusCode: number; headers: Record<string, string>; body: string }>;
  const outputWith = (bundle: string | undefined) => {
    const out = mkdtempSync(join(tmpdir(), 'image-headers-'));
    mkdirSync(join(out, 'server-functions', 'default'), { recursive: true });
    if (bundle !== undefined) {
      mkdirSync(join(out, 'image-optimization-function'));
      writeFileSync(join(out, 'image-optimization-function', 'index.mjs'), `import x from 'y';${bundle};export{ug as handler};`);
    }
    return out;
  };
  const bundleOf = (out: string) => readFileSync(join(out, 'image-optimization-function', 'index.mjs'), 'utf8').slice("import x from 'y';".length, -';export{ug as handler};'.length);
  const images = { contentSecurityPolicy: "script-src 'none'; frame-src 'none'; sandbox;", contentDispositionType: 'attachment' };
  const failure = { Vary: 'Accept', 'Cache-Control': 'public,max-age=60,immutable' };

  it('adds them to an optimized image', async () => {
    const before = await answer(bundled, '/logo.svg', images);
    expect([before.statusCode, before.headers]).toEqual([200, { Vary: 'Accept', 'Content-Type': 'image/svg+xml', 'Cache-Control': 'public,max-age=60,immutable' }]);
    const out = outputWith(bundled);
    expect(await imageResponseHeaders(out)).toEqual([1, 0]);
    const after = await answer(bundleOf(out), '/logo.svg', images);
    expect([after.statusCode, after.headers]).toEqual([200, {
      ...before.headers, 'Content-Security-Policy': images.contentSecurityPolicy, 'Content-Disposition': 'attachment; filename="logo.svg"',
    }]);
    const inline = await answer(bundleOf(out), '/docs/pic.png', { contentDispositionType: 'inline', contentSecurityPolicy: '' });
    expect([inline.statusCode, inline.headers]).toEqual([200, {
      Vary: 'Accept', 'Content-Type': 'image/webp', 'Cache-Control': 'public,max-age=60,immutable', 'Content-Disposition': 'inline; filename="pic.webp"', 'Content-Security-Policy': '',
    }]);
    // Once only.
    expect(await imageResponseHeaders(out)).toEqual([0, 0]);
  });

  it("answers a missing file 404 and an image Next refuses with Next's status and message, where OpenNext answered 500; other failures stay 500", async () => {
    const out = outputWith(bundled);
    expect(await imageResponseHeaders(out)).toEqual([1, 0]);
    const cases: [string | undefined, number, string, number, string][] = [
      // url, then OpenNext's answer (status, body), then next start's
      ['/gone.png', 500, 'Internal server error', 404, '"url" parameter is valid but internal response is invalid'],
      ['/notes.txt', 500, 'Internal server error', 400, "The requested resource isn't a valid image."],
      ['/broken.png', 500, 'Internal server error', 500, 'Internal server error'],
      [undefined, 400, '"url" parameter is required', 400, '"url" parameter is required'],
    ];
    for (const [url, status, body, nextStatus, nextBody] of cases) {
      const before = await answer(bundled, url, images);
      expect([before.statusCode, before.body, before.headers], `${url} before`).toEqual([status, body, failure]);
      const after = await answer(bundleOf(out), url, images);
      expect([after.statusCode, after.body, after.headers], `${url} after`).toEqual([nextStatus, nextBody, failure]);
    }
  });

  it("asks the app, at the viewer's origin, for a local image that is not a file (a route's image), as next start asks its own server", async () => {
    const asked: string[] = [];
    const app = createServer((req, res) => {
      asked.push(`${req.headers.host} ${req.url}`);
      if (req.url === '/icon?v=1') res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'public, max-age=60' }).end('png');
      else if (req.url === '/api/text') res.writeHead(200, { 'content-type': 'text/plain' }).end('text');
      else res.writeHead(404, { 'content-type': 'text/html' }).end('not found');
    });
    await new Promise<void>((ok) => app.listen(0, '127.0.0.1', ok));
    try {
      const origin = { host: 'internal', 'x-forwarded-host': `127.0.0.1:${(app.address() as AddressInfo).port}`, 'x-forwarded-proto': 'http' };
      const out = outputWith(bundled);
      expect(await imageResponseHeaders(out)).toEqual([1, 0]);
      const icon = await answer(bundleOf(out), '/icon?v=1', images, origin);
      expect([icon.statusCode, icon.body, icon.headers['Content-Type'], icon.headers['Content-Disposition']]).toEqual([200, 'png', 'image/webp', 'attachment; filename="icon.webp"']);
      const text = await answer(bundleOf(out), '/api/text', images, origin);
      expect([text.statusCode, text.body]).toEqual([400, "The requested resource isn't a valid image."]);
      const none = await answer(bundleOf(out), '/nothing.png', images, origin);
      expect([none.statusCode, none.body]).toEqual([404, '"url" parameter is valid but internal response is invalid']);
      expect(asked).toEqual([`127.0.0.1:${(app.address() as AddressInfo).port} /icon?v=1`, `127.0.0.1:${(app.address() as AddressInfo).port} /api/text`, `127.0.0.1:${(app.address() as AddressInfo).port} /nothing.png`]);
      // Without a host there is nobody to ask; OpenNext's function (before) answered 500.
      expect((await answer(bundleOf(out), '/icon?v=1', images)).statusCode).toBe(404);
      expect((await answer(bundled, '/icon?v=1', images, origin)).statusCode).toBe(500);
    } finally {
      app.close();
    }
  });

  it('leaves an output without an image function, and counts a bundle it cannot find the functions in', async () => {
    expect(await imageResponseHeaders(outputWith(undefined))).toEqual([0, 0]);
    const changes = [
      bundled.replace('immutable`}', 'immutable`,X:1}'), bundled.replace('return dg(o,', 'return dg2(o,'),
      bundled.replace('"Internal server error",t?.streamCreator)}}', '"Internal server error")}}'), bundled.replace('throw jt("Failed to download image",a),a', 'throw a'),
    ];
    for (const changed of changes) {
      const out = outputWith(changed);
      expect(await imageResponseHeaders(out)).toEqual([0, 1]);
      expect(bundleOf(out)).toBe(changed);
    }
  });

  it("does the same on CodeBuild (the buildspec's script), saying so in the build log", () => {
    const run = scriptRunner('image-headers.cjs', imageResponseHeadersScript);
    const out = outputWith(bundled);
    expect(run(out)).toBe(`${imageResponseHeadersLine(1)}\n`);
    expect(bundleOf(out)).toContain('.shiplogHeaders}');
    expect(run(out)).toBe('');
    expect(run(outputWith(undefined))).toBe('');
    expect(run(outputWith('function ug(){}'))).toBe(`${imageResponseHeadersWarning(1)}\n`);
  });
});
