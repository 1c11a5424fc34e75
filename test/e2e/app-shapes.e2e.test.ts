import { spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { chooseInstall, installShellCommand, readInstallInputs } from '../../services/build/adapters/runner/install-command.ts';
import { gitCommitAll, gitPush, startShiplog, type LocalShiplog, deploymentOfHead, getFrom, type PlainResponse } from '../support/local-shiplog.ts';
import { buildReference, startNext } from '../support/reference-app.ts';

// Apps of shapes the first fixture did not have, each deployed by a real `shiplog dev` and also
// served by `next start` of the same source; every request's status, key headers (content type,
// location, cache-control, set-cookie names, the proxy's own header, no x-middleware-* leaked)
// and body (timestamps, build ids and hashed asset names masked) must match. Each app is built
// once by shiplog and once by `next build`, and the suite shares one shiplog.

/**
 * One request of a shape. `action`: a server action of the form on `page`, posted as a browser
 * does (`fetch: false`, multipart with the `$ACTION_ID_…` field, no JavaScript) or as the React
 * client does (`fetch: true`, the `next-action` header); the id is read from each server's own
 * page. `body: false` compares status and headers only (images: two builds of sharp).
 */
interface Req {
  path: string;
  name?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | false;
  send?: string;
  action?: { page: string; fields: Record<string, string>; fetch: boolean };
  known?: Known;
  /** A key header that is not deterministic on this route (an ISR page's remaining lifetime), and why. */
  varies?: { header: 'cache-control'; why: string };
}
/**
 * A difference from `next start` that shiplog keeps on purpose, or that only a change outside
 * shiplog's router and deploy code can remove: what shiplog answers instead (those key headers,
 * and `body: false` when the body differs too), and why. The suite holds shiplog to exactly that
 * answer and fails once `next start` answers the same, so a fixed difference is noticed.
 */
interface Known {
  why: string;
  shiplog: Partial<KeyHeaders> & { body?: false };
}
interface Shape {
  project: string;
  fixture: string;
  /** What the build log must say was run for the install. */
  install: string;
  /** How its developer builds it for the reference, when not `npx next build` (its build script does more). */
  build?: string;
  routes: (string | Req)[];
}
const json = { 'content-type': 'application/json' };
// Why shiplog answers some requests otherwise than next start (see `Known`).
const noStore = 'private, no-cache, no-store, max-age=0, must-revalidate';
const errorsUncached: Known = {
  why: "OpenNext makes every 404 and 500 uncacheable (fixCacheControlForError), where next start caches a prerendered one",
  shiplog: { 'cache-control': noStore },
};
const publicFile = (proxy: boolean): Known => ({
  why: 'public files come from the assets origin as S3 behind CloudFront serves them: revalidated (static-files.ts)' + (proxy ? ', and no proxy runs for them' : ''),
  shiplog: { 'cache-control': 'public, max-age=0, must-revalidate', ...(proxy ? { 'x-proxy': undefined } : {}) },
});
const staticPageCdn: Known = {
  why: 'OpenNext answers a prerendered page without data with its CDN caching header; next start sends none',
  shiplog: { 'cache-control': 'public, max-age=0, s-maxage=31536000, must-revalidate' },
};
const isrAge = { header: 'cache-control', why: "an ISR page's s-maxage is what is left of its lifetime when asked" } as const;
const redirectBody: Known = { why: 'OpenNext sends a redirect without a body (next start sends the location as text)', shiplog: { body: false } };
const optimizedImage = (cacheControl: string): Known => ({ why: "OpenNext's image optimizer marks its answers immutable", shiplog: { 'cache-control': cacheControl } });
const imageFailure: Known = { why: "OpenNext's image function lets a failure be kept for a minute (next start sends no cache-control)", shiplog: { 'cache-control': 'public,max-age=60,immutable' } };
const shapes: Shape[] = [
  {
    project: 'pages',
    fixture: 'pages-app',
    install: 'npm ci',
    // Its build script writes a module the about page imports, and builds with webpack (next.config has a webpack config).
    build: 'npm run build',
    routes: [
      { path: '/', varies: isrAge }, '/ssr?name=e2e',
      { path: '/about', known: staticPageCdn },
      { path: '/posts/first', varies: isrAge }, { path: '/posts/second', varies: isrAge }, { path: '/posts/missing', known: errorsUncached },
      '/api/hello?x=1', '/api/status?code=418', { path: '/robots.txt', known: publicFile(false) }, { path: '/read%20me.txt', known: publicFile(false) }, '/nope',
      // fallback: true: the build's page, and the fallback shell for a path it did not generate.
      '/drafts/1', '/drafts/2', '/drafts/gone',
    ],
  },
  {
    project: 'nolock',
    fixture: 'no-lockfile-app',
    install: 'npm install',
    // Without trailingSlash, next start redirects a path with one (308), /api/ paths too.
    routes: ['/', '/legacy', '/api/ping', '/nope', { path: '/legacy/', known: redirectBody }, { path: '/api/ping/?q=1', known: redirectBody }],
  },
  { project: 'pnpm', fixture: 'pnpm-app', install: 'pnpm install --frozen-lockfile', routes: ['/', '/dynamic?q=two', '/api/time?who=e2e', '/nope'] },
  {
    project: 'yarn',
    fixture: 'yarn-app',
    install: 'yarn install --frozen-lockfile',
    // The edge runtime routes run in functions of their own (open-next-config.ts): a dynamic one gets its segment's value.
    routes: ['/', '/dynamic?q=two', '/api/time?who=e2e', '/api/edge/e%C3%A92e?q=1', '/edge?who=e2e', '/nope'],
  },
  // bun is not on this machine: the build brings it from the npm registry (installShellCommand).
  {
    project: 'bun',
    fixture: 'bun-app',
    install: 'bun install --frozen-lockfile',
    // trailingSlash: true: next start redirects a page's path without the slash, /api/ paths too, and a file's path with one.
    routes: [
      { path: '/', known: staticPageCdn }, '/greet/?name=e2e', '/api/ping/?q=1', { path: '/api/ping/', method: 'POST', headers: json, send: '{}' }, '/nope/',
      { path: '/greet?name=e2e', known: redirectBody }, { path: '/api/ping?q=1', known: redirectBody }, { path: '/api/ping', method: 'POST', headers: json, send: '{}', known: redirectBody },
      { path: '/hello.txt', known: publicFile(false) }, { path: '/hello.txt/', known: redirectBody }, { path: '/nope', known: redirectBody },
      // A client navigation's data request: its JSON, never the trailing-slash redirect to the page.
      { path: '/_next/data/<build-id>/greet.json?name=e2e', headers: { 'x-nextjs-data': '1' } },
      // images.unoptimized: the app's server answers /_next/image (no image function), as next start does.
      { path: '/_next/image?url=%2Fhello.txt&w=64&q=75', known: redirectBody }, '/_next/image/?url=%2Fhello.txt&w=64&q=75',
    ],
  },
  {
    project: 'middleware',
    fixture: 'middleware-app',
    install: 'npm ci',
    routes: [
      '/',
      { path: '/old', known: redirectBody },
      { path: '/moved', known: redirectBody },
      {
        path: '/rewrite-me?q=x',
        known: {
          why: 'next start runs the proxy again on the path it rewrote to (the page sees the request header and the response gets x-proxy); OpenNext runs it once per request',
          shiplog: { 'x-proxy': undefined, body: false },
        },
      },
      '/blocked', '/proxy-json', '/with-headers', { path: '/robots.txt', known: publicFile(true) },
      '/api/items?limit=1', '/api/items/2', { path: '/api/items/9', known: errorsUncached },
      { path: '/api/items', method: 'POST', headers: json, send: '{"name":"three"}' },
      { path: '/api/items', name: 'POST /api/items (invalid)', method: 'POST', headers: json, send: '{}' },
      { path: '/api/items/1', method: 'DELETE' },
      { path: '/api/items/1', name: 'HEAD /api/items/1', method: 'HEAD' },
      '/action',
      { path: '/action', name: 'server action (form post)', action: { page: '/action', fields: { name: 'e2e' }, fetch: false } },
      // The action redirects: Next fetches the target's RSC payload from its own origin and sends it with the answer.
      { path: '/action', name: 'server action (fetch)', action: { page: '/action', fields: { name: 'e2e' }, fetch: true } },
      '/action/done?name=e2e',
      { path: '/_next/image?url=%2Fpic.png&w=64&q=75', body: false, known: optimizedImage('public,max-age=14400,immutable') },
      { path: '/_next/image?url=%2Fpic.png&w=64&q=75', name: 'image as webp', headers: { accept: 'image/webp,*/*' }, body: false, known: optimizedImage('public,max-age=14400,immutable') },
      { path: '/_next/image?url=%2Fpic.png&w=13&q=75', name: 'image, width not allowed', known: imageFailure },
      // dangerouslyAllowSVG: the SVG as it is, with a Content-Security-Policy that keeps its script from running.
      { path: '/_next/image?url=%2Flogo.svg&w=64&q=75', known: optimizedImage('public,max-age=14400,immutable') },
      // A public file that is not an image (400), and one that does not exist (404).
      { path: '/_next/image?url=%2Frobots.txt&w=64&q=75', known: imageFailure }, { path: '/_next/image?url=%2Fnope.png&w=64&q=75', known: imageFailure },
      // An image a route handler makes: the image function asks the app for it, as next start asks its own server.
      '/api/pixel', { path: '/_next/image?url=%2Fapi%2Fpixel&w=64&q=75', body: false, known: optimizedImage('public,max-age=14400,immutable') },
      { path: '/pic.png', body: false, known: publicFile(false) },
      { path: '/missing', known: errorsUncached }, '/posts/a', '/posts/b', '/posts/c', { path: '/posts/gone', known: errorsUncached }, '/locked/x', '/locked/z', '/nope',
    ],
  },
  {
    project: 'i18n',
    fixture: 'i18n-app',
    install: 'npm ci',
    routes: [
      '/docs', '/docs/fr', '/docs/de', '/docs/en', '/docs/nl',
      {
        path: '/docs/',
        known: { why: "OpenNext's routing redirects every trailing slash (before the middleware); next start serves the basePath root with one", shiplog: { status: 308, location: '/docs', 'content-type': undefined, 'cache-control': undefined, 'x-proxy': undefined, body: false } },
      },
      // The visitor's language at the basePath's root (OpenNext looked only at '/' until build-output.ts's routingLocales).
      { path: '/docs', name: '/docs (accept-language: fr)', headers: { 'accept-language': 'fr-CH, fr;q=0.9, en;q=0.8' }, known: redirectBody },
      { path: '/docs', name: '/docs (NEXT_LOCALE=de)', headers: { cookie: 'NEXT_LOCALE=de' }, known: redirectBody },
      { path: '/docs', name: '/docs (accept-language: de, NEXT_LOCALE=en)', headers: { 'accept-language': 'de', cookie: 'NEXT_LOCALE=en' } },
      // The middleware (x-proxy), next.config redirects, rewrites and headers, under basePath and locales.
      '/docs/members/x', { path: '/docs/api/hello?x=1', name: '/docs/api/hello?x=1 (accept-language: fr)', headers: { 'accept-language': 'fr' } }, '/docs/api/private', { path: '/docs/api/private', name: '/docs/api/private (signed in)', headers: { authorization: 'Bearer e2e' } },
      { path: '/docs/handbook', known: redirectBody }, { path: '/docs/fr/handbook', known: redirectBody }, '/docs/guide', '/docs/de/guide',
      {
        path: '/docs/fr/members/x',
        known: {
          why: "next start hands the middleware, for a locale other than the default, a nextUrl whose pathname keeps the basePath and the locale (/docs/fr/members/x; Next.js issue 49883), so this app's rewrite does not happen there; OpenNext gives it /members/x, as next start does for the default locale",
          shiplog: { status: 200, 'cache-control': 's-maxage=31536000', 'x-proxy': 'rewrote fr', body: false },
        },
      },
      // next/image of a public file, named under the basePath; outside it there is none.
      '/docs/gallery', { path: '/docs/_next/image?url=%2Fdocs%2Fpic.png&w=64&q=75', body: false, known: optimizedImage('public,max-age=14400,immutable') },
      { path: '/docs/_next/image?url=%2Fpic.png&w=64&q=75', known: imageFailure },
      { path: '/docs/about', name: '/docs/about (accept-language: fr)', headers: { 'accept-language': 'fr' } },
      '/docs/about', '/docs/fr/about', '/docs/de/about',
      '/docs/blog/hello', '/docs/fr/blog/hello', '/docs/de/blog/world', { path: '/docs/blog/missing', known: errorsUncached },
      '/docs/ssr?name=e2e', '/docs/fr/ssr?name=e2e', '/docs/old-guide', '/docs/fr/old-guide',
      '/docs/api/hello?x=1',
      {
        path: '/docs/fr/api/hello',
        known: {
          why: "OpenNext's routing strips a locale from API paths, which Next.js never localizes (so its middleware sees the default locale)",
          shiplog: { status: 200, 'content-type': 'application/json; charset=utf-8', 'cache-control': undefined, 'x-proxy': 'saw en', body: false },
        },
      },
      { path: '/docs/robots.txt', known: publicFile(false) },
      '/', '/about', '/fr', '/api/hello', '/robots.txt', '/docsx',
    ],
  },
];

interface Row { id: string; status: string; live: boolean; url: string }
type Response = PlainResponse;

const fixtures = new URL('../fixtures/', import.meta.url).pathname;
const copyFixture = (name: string, to: string) => cpSync(join(fixtures, name), to, { recursive: true, filter: (src) => !/node_modules|\.next|\.open-next/.test(src) });

const get = getFrom;

/** One request on 127.0.0.1:`port` naming `host`, on a fresh connection (no redirect followed). */
const send = (port: number, host: string, r: { path: string; method: string; headers: Record<string, string>; body?: string }): Promise<Response> =>
  new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: `${host}:${port}`, ...r.headers };
    if (r.body !== undefined) headers['content-length'] = String(Buffer.byteLength(r.body));
    const req = request({ host: '127.0.0.1', port, path: r.path, method: r.method, agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(r.body);
  });

/** A multipart/form-data body, as a browser (or React's encodeReply) sends a form. */
const multipart = (fields: Record<string, string>) => {
  const boundary = '----shiplogFormBoundary7MA4YWxkTrZu0gW';
  const body = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('') + `--${boundary}--\r\n`;
  return { body, type: `multipart/form-data; boundary=${boundary}` };
};

/**
 * What a request of `route` is on one server. A server action's id is read from that server's
 * own page (the two builds may hash it differently).
 */
const requestOf = async (route: Req, port: number, host: string) => {
  const base = { path: route.path, method: route.method ?? (route.send !== undefined ? 'POST' : 'GET'), headers: route.headers ?? {}, body: route.send };
  if (!route.action) return base;
  const page = await get(port, host, route.action.page);
  const id = /\$ACTION_ID_([0-9a-f]+)/.exec(page.body)?.[1];
  if (!id) throw new Error(`no server action on ${route.action.page} (${page.status}): ${page.body.slice(0, 300)}`);
  if (!route.action.fetch) {
    const form = multipart({ [`$ACTION_ID_${id}`]: '', ...route.action.fields });
    return { ...base, method: 'POST', headers: { ...base.headers, 'content-type': form.type }, body: form.body };
  }
  // React's encodeReply of one FormData argument: its fields prefixed with the part id, then the args.
  const args = Object.fromEntries(Object.entries(route.action.fields).map(([k, v]) => [`1_${k}`, v]));
  const form = multipart({ ...args, 0: '["$K1"]' });
  return { ...base, method: 'POST', headers: { ...base.headers, 'content-type': form.type, accept: 'text/x-component', 'next-action': id }, body: form.body };
};

/**
 * The headers a user (or a CDN) sees the difference of. `location` is made relative to the host
 * asked (the two servers have different host names); set-cookie is compared by cookie name and
 * attributes other than expiry; x-middleware-* must not reach the client.
 */
type KeyHeaders = ReturnType<typeof keyHeaders>;
const keyHeaders = (r: Response, origin: string) => {
  const h = r.headers;
  const one = (name: string) => (h[name] === undefined ? undefined : String(h[name]));
  const cookies = ([] as string[]).concat(h['set-cookie'] ?? []).map((c) => c.replace(/=[^;]*/, '=…').replace(/;\s*(expires|max-age)=[^;]*/gi, '')).sort();
  return {
    status: r.status,
    'content-type': one('content-type')?.toLowerCase(),
    location: one('location')?.split(origin).join(''),
    'cache-control': one('cache-control'),
    'content-disposition': one('content-disposition'),
    'content-security-policy': one('content-security-policy'),
    'set-cookie': cookies,
    'x-proxy': one('x-proxy'),
    // next.config headers() (pages-app sets these on every path, and one on a public file)
    'strict-transport-security': one('strict-transport-security'),
    'x-robots-rule': one('x-robots-rule'),
    'x-action-redirect': one('x-action-redirect'),
    'x-middleware-*': Object.keys(h).filter((k) => k.startsWith('x-middleware-')),
  };
};

/** What differs between two builds of one source and is not behaviour: times, build ids, hashed file names. */
const mask = (body: string, buildId: string | undefined) => {
  let b = body;
  if (buildId) b = b.split(buildId).join('<build-id>');
  return b
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g, '<time>')
    .replace(/\/_next\/static\/[^"'\s)\\]+/g, '/_next/static/<asset>')
    .replace(/"buildId":"[^"]*"/g, '"buildId":"<build-id>"')
    // Server action ids are hashed with a key of their build.
    .replace(/\$ACTION_ID_[0-9a-f]+/g, '$ACTION_ID_<id>')
    // A dynamic render's request id (a nanoid per request) keys the viewport and metadata of an RSC payload.
    .replace(/"[A-Za-z0-9_-]{21}([vm])"/g, '"<request-id>$1"')
    .replace(/\b[0-9a-f]{42}\b/g, '<action-id>');
};

/** Where two bodies part, for the route table: a little of each from the first difference. */
const bodyDiff = (a: string, b: string) => {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const at = Math.max(0, i - 40);
  return `at ${i}: shiplog ${JSON.stringify(a.slice(at, i + 120))} / next start ${JSON.stringify(b.slice(at, i + 120))}`;
};

/** `next build` + `next start` of a fixture, as a developer would run it. */
const referenceServer = async (shape: Shape, log: (s: string) => void): Promise<{ port: number; buildId: string; dir: string; child: ChildProcess }> => {
  const dir = mkdtempSync(join(tmpdir(), `shiplog-ref-${shape.project}-`));
  copyFixture(shape.fixture, dir);
  const env = buildReference(dir, installShellCommand(chooseInstall(readInstallInputs(dir, dir))), (s) => log(`[ref ${shape.project}] ${s}`), shape.build);
  const { port, child } = await startNext(dir, env);
  await vi.waitFor(async () => expect((await get(port, 'localhost', '/api/__ready').catch(() => ({ status: 0 }))).status).toBeGreaterThan(0), { timeout: 60_000, interval: 200 });
  return { port, buildId: readFileSync(join(dir, '.next', 'BUILD_ID'), 'utf8').trim(), dir, child };
};

describe('every app shape deploys and answers as next start does', () => {
  let sl: LocalShiplog;
  const work: Record<string, string> = {};
  const remotes: Record<string, string> = {};
  const live: Record<string, Row> = {};
  const refs: Record<string, Awaited<ReturnType<typeof referenceServer>>> = {};
  const waits: Record<string, ReturnType<LocalShiplog['cli']>> = {};
  const notes: string[] = [];


  beforeAll(async () => {
    sl = await startShiplog();
    // /healthz answers before the runtime file the CLI looks for is written.
    await vi.waitFor(() => expect(existsSync(join(sl.dataDir, 'runtime.json'))).toBe(true), { timeout: 60_000, interval: 100 });
    for (const shape of shapes) {
      const dir = mkdtempSync(join(tmpdir(), `shiplog-app-${shape.project}-`));
      copyFixture(shape.fixture, dir);
      expect(spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: dir }).status).toBe(0);
      work[shape.project] = dir;
      remotes[shape.project] = sl.json<{ gitRemote: string }>(['projects', 'create', shape.project]).gitRemote;
      gitCommitAll(dir, `${shape.project}: first version`);
      gitPush(dir, remotes[shape.project]!);
    }
    // shiplog builds the pushes while the reference builds run here, one after another.
    for (const shape of shapes) refs[shape.project] = await referenceServer(shape, (s) => notes.push(s));
    for (const shape of shapes) {
      const id = await deploymentOfHead(sl, shape.project, work[shape.project]!);
      waits[shape.project] = sl.cli(['deployments', 'wait', id, '--timeout', '900'], 950_000);
      // `wait` follows the events; `get` reads the read models, which may apply the last one a moment later.
      for (let i = 0; i < 50; i++) {
        live[shape.project] = sl.json<Row>(['deployments', 'get', id]);
        if (live[shape.project]!.live || waits[shape.project]!.status !== 0) break;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }, 1_800_000);

  afterAll(async () => {
    for (const r of Object.values(refs)) {
      try {
        process.kill(-r.child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await sl?.stop();
    for (const d of [...Object.values(work), ...Object.values(refs).map((r) => r.dir)]) rmSync(d, { recursive: true, force: true });
    if (notes.length) console.log(notes.join('\n'));
  });

  it.each(shapes)('$project: goes live with the install command detected from the repository, and says so in the log', (shape) => {
    const wait = waits[shape.project]!;
    expect(wait.status, `${wait.stdout}\n${wait.stderr}\n${sl.cli(['logs', live[shape.project]!.id]).stdout}`).toBe(0);
    expect(live[shape.project]!.live).toBe(true);
    const log = sl.cli(['logs', live[shape.project]!.id]).stdout;
    expect(log).toMatch(new RegExp(`install: \\w+, detected from [^:]+: ${shape.install.replace(/[-]/g, '\\-')}`));
    // The shell line run is the one the repository calls for (corepack for pnpm/yarn, bun from npm when missing).
    expect(log).toContain(`$ ${installShellCommand(chooseInstall(readInstallInputs(work[shape.project]!, work[shape.project]!)))}`);
    // No project sets a build command: the app's build script runs with its package manager.
    const plan = chooseInstall(readInstallInputs(work[shape.project]!, work[shape.project]!));
    const script = JSON.parse(readFileSync(join(fixtures, shape.fixture, 'package.json'), 'utf8')).scripts.build as string;
    expect(log).toContain(`build: the build script of package.json (${JSON.stringify(script)}), run with ${plan.manager}: ${plan.runBuild}`);
    expect(log).toContain(`$ ${plan.runBuild}`);
    expect(log).toContain("no open-next.config.ts: using shiplog's local config");
    // Only the app without a next.config gets an empty one for open-next build (next build needs none).
    const emptyConfig = 'no next.config in the app: an empty next.config.mjs';
    if (existsSync(join(fixtures, shape.fixture, 'next.config.mjs'))) expect(log).not.toContain(emptyConfig);
    else expect(log).toContain(emptyConfig);
    // No fixture names a Node version: the build asks for the project's Node.js setting (20.x unless set).
    expect(log).toMatch(/node: v\d+\.\d+\.\d+ \("20\.x" from the project's Node\.js setting\)/);
  });

  it.each(shapes)('$project: every route answers as under next start (status, key headers, masked body)', async (shape) => {
    const ref = refs[shape.project]!;
    const versionDir = join(sl.dataDir, 'sites', shape.project, live[shape.project]!.id);
    const buildIdFile = readdirSync(versionDir, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith('.next/BUILD_ID'));
    const shiplogBuildId = buildIdFile ? readFileSync(join(versionDir, buildIdFile), 'utf8').trim() : undefined;
    const host = `${shape.project}.localhost`;
    let matching = 0;
    let known = 0;
    const rows: string[] = [];
    for (const r of shape.routes) {
      const route: Req = typeof r === 'string' ? { path: r } : r;
      const name = route.name ?? (route.method && route.method !== 'GET' ? `${route.method} ${route.path}` : route.path);
      // A path may name the build (`/_next/data/<build-id>/…`): each server's own.
      const built = (id: string | undefined) => ({ ...route, path: route.path.split('<build-id>').join(id ?? '') });
      const ours = await send(sl.sitesPort, host, await requestOf(built(shiplogBuildId), sl.sitesPort, host));
      const theirs = await send(ref.port, 'localhost', await requestOf(built(ref.buildId), ref.port, 'localhost'));
      const oursKey = keyHeaders(ours, `http://${host}:${sl.sitesPort}`);
      const theirsKey = keyHeaders(theirs, `http://localhost:${ref.port}`);
      // The proxy's own headers must never reach a client of shiplog (next start leaks x-middleware-rewrite).
      expect.soft(oursKey['x-middleware-*'], `${name}: x-middleware-* headers`).toEqual([]);
      oursKey['x-middleware-*'] = theirsKey['x-middleware-*'] = [];
      const oursBody = mask(ours.body.split(`http://${host}:${sl.sitesPort}`).join('<origin>'), shiplogBuildId);
      const theirsBody = mask(theirs.body.split(`http://localhost:${ref.port}`).join('<origin>'), ref.buildId);
      // A known difference: shiplog answers exactly what is recorded, next start still answers otherwise.
      const { body: knownBody, ...knownKeys } = route.known?.shiplog ?? {};
      if (route.varies) {
        rows.push(`${shape.project} ${name}: ${route.varies.header} not compared (${route.varies.why}): shiplog ${JSON.stringify(oursKey[route.varies.header])} / next start ${JSON.stringify(theirsKey[route.varies.header])}`);
        oursKey[route.varies.header] = theirsKey[route.varies.header] = '<varies>';
      }
      for (const [k, v] of Object.entries(knownKeys)) {
        const key = k as keyof KeyHeaders;
        expect.soft(oursKey[key], `${name}: ${key} (known: ${route.known!.why})`).toEqual(v);
        expect.soft(theirsKey[key], `${name}: next start now answers ${key} as shiplog does; drop the known difference`).not.toEqual(v);
        (oursKey as Record<string, unknown>)[key] = (theirsKey as Record<string, unknown>)[key] = '<known>';
      }
      const compareBody = route.body !== false && knownBody !== false;
      const sameHeaders = JSON.stringify(oursKey) === JSON.stringify(theirsKey);
      const sameBody = !compareBody || oursBody === theirsBody;
      if (sameHeaders && sameBody) {
        if (route.known) known++;
        else matching++;
      }
      const differing = Object.keys(theirsKey).filter((k) => JSON.stringify(oursKey[k as keyof KeyHeaders]) !== JSON.stringify(theirsKey[k as keyof KeyHeaders]));
      rows.push(`${shape.project} ${name}: shiplog ${ours.status} / next start ${theirs.status}${differing.map((k) => ` ${k} ${JSON.stringify(oursKey[k as keyof KeyHeaders])} vs ${JSON.stringify(theirsKey[k as keyof KeyHeaders])}`).join('')}${sameBody ? '' : ` BODY DIFFERS ${bodyDiff(oursBody, theirsBody)}`}${route.known ? ` (known: ${route.known.why})` : ''}`);
      expect.soft({ route: name, ...oursKey }).toEqual({ route: name, ...theirsKey });
      if (compareBody) expect.soft(oursBody, `${name} body`).toBe(theirsBody);
    }
    notes.push(...rows, `${shape.project}: ${matching}/${shape.routes.length} routes match next start, ${known} more differ only as recorded`);
    expect(matching + known).toBe(shape.routes.length);
  }, 300_000);

  it('a preview branch has a stable URL that follows its latest live deployment; production is untouched', async () => {
    const dir = work.pages!;
    const production = live.pages!.id;
    const about = join(dir, 'pages', 'about.js');
    const original = readFileSync(about, 'utf8');
    const pushPreview = async (text: string) => {
      writeFileSync(about, original.replace('A static page of a Pages Router app.', text));
      gitCommitAll(dir, text);
      gitPush(dir, remotes.pages!, 'feature/Two_Step');
      const id = await deploymentOfHead(sl, 'pages', dir);
      const wait = sl.cli(['deployments', 'wait', id, '--timeout', '900'], 950_000);
      expect(wait.status, `${wait.stdout}\n${wait.stderr}\n${sl.cli(['logs', id]).stdout}`).toBe(0);
      return id;
    };
    const first = await pushPreview('Preview one.');
    const branchUrl = `http://feature-two-step--pages.localhost:${sl.sitesPort}`;
    // The read models fold the alias a moment after `wait` returns.
    await expect.poll(() => sl.json<{ aliasUrls: string[]; target: string }>(['deployments', 'get', first]), { timeout: 30_000 }).toMatchObject({ target: 'preview', aliasUrls: [branchUrl] });
    const second = await pushPreview('Preview two.');
    const page = await get(sl.sitesPort, 'feature-two-step--pages.localhost', '/about');
    expect({ status: page.status, deployment: page.headers['x-shiplog-deployment'] }).toEqual({ status: 200, deployment: second });
    expect(page.body).toContain('Preview two.');
    // The branch URL is shown where the deployment's URLs are: the API (CLI) while it is current, the Aliases field (its live event).
    await expect.poll(() => sl.json<{ aliasUrls: string[]; current: string[] }>(['deployments', 'get', second]), { timeout: 30_000 }).toMatchObject({ aliasUrls: [branchUrl], current: ['preview-feature-two-step'] });
    await expect.poll(() => sl.json<{ aliasUrls: string[] }>(['deployments', 'get', first]).aliasUrls, { timeout: 30_000 }).toEqual([]);
    expect(sl.cli(['deployments', 'get', second]).stdout).toContain(branchUrl);
    // Each deployment keeps its own URL; production still serves the main branch.
    const one = await get(sl.sitesPort, `${first.toLowerCase()}-pages.localhost`, '/about');
    expect(one.body).toContain('Preview one.');
    const prod = await get(sl.sitesPort, 'pages.localhost', '/about');
    expect({ status: prod.status, deployment: prod.headers['x-shiplog-deployment'] }).toEqual({ status: 200, deployment: production });
    expect(prod.body).toContain('A static page of a Pages Router app.');
    // A branch that never deployed has no URL.
    expect((await get(sl.sitesPort, 'nothing-here--pages.localhost', '/')).status).toBe(404);
    writeFileSync(about, original);
  }, 2_000_000);

  it('a deploy whose server crashes at start fails at the health gate; production keeps serving', async () => {
    const dir = work.pages!;
    const before = live.pages!.id;
    // Crashes the function at start (never during shiplog's build: the build has SHIPLOG_DEPLOYMENT_ID).
    writeFileSync(join(dir, 'instrumentation.js'), "export function register() {\n  if (!process.env.SHIPLOG_DEPLOYMENT_ID) process.exit(1);\n}\n");
    writeFileSync(join(dir, 'pages', 'about.js'), readFileSync(join(dir, 'pages', 'about.js'), 'utf8').replace('A static page', 'A crashing version'));
    gitCommitAll(dir, 'crash at start');
    gitPush(dir, remotes.pages!);
    const id = await deploymentOfHead(sl, 'pages', dir);
    expect(id).not.toBe(before);
    const wait = sl.cli(['deployments', 'wait', id, '--timeout', '900'], 950_000);
    expect(wait.status, `${wait.stdout}\n${wait.stderr}`).toBe(1);
    const failed = sl.json<Row & { error?: unknown; failure?: unknown }>(['deployments', 'get', id]);
    expect(failed.status).toBe('error');
    expect(JSON.stringify(failed)).toMatch(/health check failed, production not moved: GET \/ (answered 5\d\d|got no answer)/);
    // The new version was built and published: it failed only at the gate.
    const log = sl.cli(['logs', id]).stdout;
    expect(log).toContain('build succeeded');
    const home = await get(sl.sitesPort, 'pages.localhost', '/about');
    expect(home.status).toBe(200);
    expect(home.headers['x-shiplog-deployment']).toBe(before);
    expect(home.body).toContain('A static page');
  }, 1_000_000);
});
