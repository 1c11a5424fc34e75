import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nextServerPatchSource } from './next-server-patch.ts';

/**
 * The config file the runner hands to `open-next build --config-path`, next to the app's own.
 *
 * @example
 * join(appDir, shiplogConfigFile); // '<app>/open-next.shiplog.config.ts'
 */
export const shiplogConfigFile = 'open-next.shiplog.config.ts';

/**
 * JavaScript for a generated OpenNext config (evaluated by `open-next build` in the app's folder):
 * `shiplogAppSharp`, the version of sharp the app itself depends on (its package.json names it),
 * as installed, else undefined. OpenNext leaves sharp out of every server function (its image
 * function has its own), so an app that calls sharp in a route failed: Turbopack links
 * `.next/node_modules/sharp-<hash>` to the package, the link led nowhere, and the build was
 * refused (locally) or the route could not load it. The configs install that version into the
 * server function, for the machine it runs on.
 *
 * @example
 * `${appSharpSource}\nexport default { default: { install: shiplogAppSharp && { packages: ['sharp@' + shiplogAppSharp] } } };`
 */
export const appSharpSource = `import * as shiplogSharpFs from 'node:fs';
import * as shiplogSharpPath from 'node:path';
const shiplogAppSharp = (() => {
  try {
    const pkg = JSON.parse(shiplogSharpFs.readFileSync('package.json', 'utf8'));
    if (!pkg.dependencies?.sharp && !pkg.optionalDependencies?.sharp) return undefined;
    for (let dir = process.cwd(); ; dir = shiplogSharpPath.dirname(dir)) {
      const file = shiplogSharpPath.join(dir, 'node_modules', 'sharp', 'package.json');
      if (shiplogSharpFs.existsSync(file)) return JSON.parse(shiplogSharpFs.readFileSync(file, 'utf8')).version;
      if (dir === shiplogSharpPath.dirname(dir)) return undefined;
    }
  } catch {
    return undefined;
  }
})();
if (shiplogAppSharp && !globalThis.__shiplogSharpReported) {
  globalThis.__shiplogSharpReported = true;
  console.log('shiplog: the app depends on sharp, which OpenNext leaves out of the server function: sharp@' + shiplogAppSharp + ' is installed into it');
}
`;

/**
 * The pieces every local OpenNext config shares (JavaScript, compiled by `open-next build`):
 * the image loader, the tag cache, and the overrides that bind a function to the local router.
 *
 * The image loader is ours because OpenNext's `fs-dev` loader resolves `../../assets` from the
 * working directory and relies on `globalThis.monorepoPackagePath`, which only the server bundle
 * sets: in the image function it throws. Since a function loader is not `'fs-dev'`, OpenNext
 * would install sharp for Lambda (linux arm64); `install` asks for this machine's build instead.
 *
 * The tag cache is ours because OpenNext's `fs-dev` one reads `dynamodb-provider/dynamodb-cache.json`
 * when its module loads, and `open-next build` writes that file only when some prerendered page
 * or fetch carries a cache tag: a Pages Router app (or an App Router app without tagged
 * prerenders) has none, and every server route answered 502 (ENOENT). Ours reads the file when
 * it exists, starts empty when it does not, and answers as `dynamodb-lite` (the AWS one) does:
 * a `revalidateTag` with a stale profile serves STALE, an immediate one a MISS. Its writes are a
 * journal in the version's `cache/`, so they survive a restart and every function of the
 * version sees them; keys carry the build id like OpenNext's own.
 *
 * The converter and the queue are ours too (see their comments below): `request.url` keeps the
 * router's scheme, a missing local image is a 404, and a STALE page regenerates through the
 * function pool.
 */
const localPieces = `import * as shiplogFs from 'node:fs';

const assetTypes = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif',
  '.webp': 'image/webp', '.avif': 'image/avif', '.svg': 'image/svg+xml', '.ico': 'image/x-icon' };

// The file under the version's assets/ that a local image's URL names: undefined when the URL
// leaves assets/ (or is not percent-encoded UTF-8), null when it names nothing there. An app with a
// basePath asks for its images under it (next/image's src names it; so does a static import's
// URL), and assets/ holds them without it: outside the basePath there is no file, as under next
// start. The basePath is read as the router reads it (open-next-output.ts, assetPrefixOf).
let shiplogBasePath;
const localAssetFile = (fs, path, url) => {
  if (shiplogBasePath === undefined) {
    shiplogBasePath = '';
    try {
      const output = JSON.parse(fs.readFileSync(path.join(versionRoot(fs, path), 'open-next.output.json'), 'utf8'));
      const s3 = Object.values(output.origins ?? {}).find((o) => o?.type === 's3');
      const to = s3?.copy?.find((c) => c.from.replace(/\\/+$/, '').endsWith('assets'))?.to;
      const base = s3?.originPath ?? '';
      if (to && to.startsWith(base)) shiplogBasePath = ('/' + to.slice(base.length)).replace(/\\/+/g, '/').replace(/\\/$/, '');
    } catch {
      // no output above the function: no basePath
    }
  }
  const bare = url.split('?')[0];
  if (shiplogBasePath && !bare.startsWith(shiplogBasePath + '/')) return null;
  // __dirname is the function's directory (OpenNext's config banner); assets/ is its sibling.
  const root = path.resolve(__dirname, '..', 'assets');
  let file;
  try {
    file = path.resolve(root, '.' + decodeURIComponent(bare.slice(shiplogBasePath.length)));
  } catch {
    return undefined;
  }
  return file.startsWith(root + path.sep) ? file : undefined;
};

const localAssetsLoader = async () => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  return {
    name: 'shiplog-local-assets',
    load: async (url) => {
      // Not there: as OpenNext's s3 loaders say it, which the image function answers 404 (build-output.ts).
      const none = () => Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
      const file = localAssetFile(fs, path, url);
      if (!file) throw none();
      await fs.promises.access(file).catch(() => {
        throw none();
      });
      return {
        body: fs.createReadStream(file),
        contentType: assetTypes[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
        cacheControl: 'public, max-age=0, must-revalidate',
      };
    },
  };
};

// The version's root (where open-next.output.json sits) is a few levels above the function's cwd.
const versionRoot = (fs, path) => {
  let dir = process.cwd();
  for (let i = 0; i < 8 && !fs.existsSync(path.join(dir, 'open-next.output.json')); i++) dir = path.dirname(dir);
  return dir;
};

// ISR entries in the version's cache/ (writable, kept across restarts), laid out as OpenNext's
// fs-dev cache lays them out (the build's prerenders are already there), but a write lands whole:
// written aside, then renamed, so a request reading while a revalidation writes never sees half
// an entry (fs-dev truncates the file in place, and such a read answered MISS and rendered again).
const localIncrementalCache = async () => {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const base = path.join(versionRoot(await import('node:fs'), path), 'cache');
  const buildId = process.env.OPEN_NEXT_BUILD_ID ?? '';
  const file = (key, type = 'cache') =>
    path.join(base, type === 'fetch' ? '__fetch' : '', buildId, type === 'fetch' ? key : key + '.' + type);
  let n = 0;
  // The build's entries carry no revalidate time (entries written at run time do), and without
  // one OpenNext can only report a tag-stale entry as expired: revalidateTag(tag, 'max') answered
  // REVALIDATED (a blocking render) where next start serves STALE. The prerender manifest has it.
  let manifest;
  const revalidateOf = async (key) => {
    manifest ??= await fs.readFile(path.join(process.cwd(), globalThis.monorepoPackagePath ?? '', '.next', 'prerender-manifest.json'), 'utf8')
      .then((t) => JSON.parse(t), () => ({}));
    const at = key.indexOf('/$/');
    const route = at >= 0 ? key.slice(at + 2) : key;
    return manifest.routes?.[route === '/index' ? '/' : route]?.initialRevalidateSeconds;
  };
  return {
    name: 'shiplog-local-isr',
    get: async (key, type) => {
      const f = file(key, type);
      const [text, info] = await Promise.all([fs.readFile(f, 'utf8'), fs.stat(f)]);
      const value = JSON.parse(text);
      if ((type ?? 'cache') === 'cache' && value && value.revalidate === undefined && (value.type === 'app' || value.type === 'page')) {
        const seconds = await revalidateOf(key);
        if (typeof seconds === 'number') value.revalidate = seconds;
      }
      return { value, lastModified: info.mtime.getTime() };
    },
    set: async (key, value, type) => {
      const f = file(key, type);
      await fs.mkdir(path.dirname(f), { recursive: true });
      const tmp = f + '.' + process.pid + '-' + n++ + '.tmp';
      await fs.writeFile(tmp, JSON.stringify(value));
      await fs.rename(tmp, f);
    },
    delete: async (key) => {
      await fs.rm(file(key), { force: true });
    },
  };
};

const localTagCache = async () => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const dir = versionRoot(fs, path);
  const file = path.join(dir, 'dynamodb-provider', 'dynamodb-cache.json');
  // Revalidations go to the version's cache/ (writable, kept across restarts), one JSON line each:
  // appends from several functions of the version interleave whole, and each reader takes up what was added.
  const journal = path.join(dir, 'cache', 'shiplog-tags.jsonl');
  const entries = new Map();
  const put = (e) => entries.set(e.tag + '\\0' + e.path, e);
  if (fs.existsSync(file)) {
    for (const e of JSON.parse(fs.readFileSync(file, 'utf8'))) {
      put({ tag: e.tag.S, path: e.path.S, revalidatedAt: Number(e.revalidatedAt?.N ?? 1),
        stale: e.stale?.N === undefined ? undefined : Number(e.stale.N), expire: e.expire?.N === undefined ? undefined : Number(e.expire.N) });
    }
  }
  let read = 0;
  const catchUp = () => {
    let size;
    try {
      size = fs.statSync(journal).size;
    } catch {
      return;
    }
    if (size <= read) return;
    const fd = fs.openSync(journal, 'r');
    try {
      const buf = Buffer.alloc(size - read);
      fs.readSync(fd, buf, 0, buf.length, read);
      const text = buf.toString('utf8');
      const complete = text.lastIndexOf('\\n') + 1;
      for (const line of text.slice(0, complete).split('\\n')) if (line) put(JSON.parse(line));
      read += Buffer.byteLength(text.slice(0, complete));
    } finally {
      fs.closeSync(fd);
    }
  };
  const all = () => (catchUp(), [...entries.values()]);
  const buildId = process.env.OPEN_NEXT_BUILD_ID ?? '';
  const key = (k) => path.posix.join(buildId, k);
  const unkey = (k) => (buildId && k.startsWith(buildId + '/') ? k.slice(buildId.length + 1) : k);
  // What dynamodb-lite (the AWS tag cache) finds for a path: its tags revalidated after lastModified.
  const revalidatedSince = (p, lastModified) => all().filter((e) => e.path === key(p) && e.revalidatedAt > (lastModified ?? 0));
  return {
    name: 'shiplog-local-tags',
    mode: 'original',
    getByPath: async (p) => all().filter((e) => e.path === key(p)).map((e) => unkey(e.tag)),
    getByTag: async (t) => all().filter((e) => e.tag === key(t)).map((e) => unkey(e.path)),
    // As dynamodb-lite decides: an expiry that has passed since, or a revalidation that expires
    // at once (expire = revalidatedAt, or none), makes the entry a MISS (-1); a revalidation with
    // a later expiry (a stale profile, revalidateTag(tag, 'max')) leaves it to isStale: STALE.
    getLastModified: async (p, lastModified) => {
      const now = Date.now();
      const since = revalidatedSince(p, lastModified);
      const expired = since.some((e) => e.expire !== undefined && e.expire <= now && e.expire > (lastModified ?? 0));
      const immediate = since.some((e) => e.expire === undefined || e.expire === e.revalidatedAt);
      return expired || immediate ? -1 : (lastModified ?? now);
    },
    isStale: async (p, lastModified) => revalidatedSince(p, lastModified).length > 0,
    writeTags: async (written) => {
      const lines = written.map((w) => {
        const e = { tag: key(w.tag), path: key(w.path), revalidatedAt: w.revalidatedAt ?? Date.now(), stale: w.stale, expire: w.expire };
        put(e);
        return JSON.stringify(e) + '\\n';
      });
      if (lines.length === 0) return;
      fs.mkdirSync(path.dirname(journal), { recursive: true });
      fs.appendFileSync(journal, lines.join(''));
    },
  };
};

// In an edge function (its bundle lists its route in globalThis._ROUTES): the values of the route's
// dynamic segments, added to the query as next start adds them when it runs an edge route (Next's
// edge route reads its params from there; OpenNext's edge handler passes none, and a handler of
// /api/hi/[name] saw no name). A catch-all's segments are a value each.
const decodeSegment = (v) => {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
};
const edgeRouteParams = (rawPath, params) => {
  const routes = globalThis._ROUTES;
  if (!Array.isArray(routes)) return false;
  for (const route of routes) {
    for (const source of route.regex ?? []) {
      let groups;
      try {
        groups = new RegExp(source).exec(rawPath)?.groups;
      } catch {
        continue;
      }
      if (!groups) continue;
      let added = false;
      for (const [key, value] of Object.entries(groups)) {
        if (value === undefined || !key.startsWith('nxtP')) continue;
        const name = key.slice(4);
        const catchAll = String(route.page ?? '').includes('[...' + name + ']');
        params.delete(name);
        for (const v of catchAll ? value.split('/') : [value]) params.append(name, decodeSegment(v));
        added = true;
      }
      return added;
    }
  }
  return false;
};

// API Gateway v2 events in, as OpenNext's aws-apigw-v2 converter reads them, except the URL keeps
// the scheme the router served (x-forwarded-proto: http locally; that converter always says
// https), so request.url is what the browser used. Results out as that converter writes them;
// a /_next/image of a local file that does not exist answers 404 as next start does (OpenNext's
// image function answers every failure 500).
const localConverter = async () => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  // Next's server as next start runs it (next-server-patch.ts): res.revalidate() of a Pages
  // Router API route finds the server's revalidate, and Next's own initURL takes the scheme of
  // x-forwarded-proto (what the converter set; OpenNext runs Next with trustHostHeader, with
  // which Next writes request.url as https://<host>…). Done at the first request, not here:
  // \`open-next build\` calls this factory too (for its name), and loading Next's server there
  // cost the packaging about 0.2 s of CPU.
  let patched = false;
  const patchNextServer = () => {
    if (patched) return;
    patched = true;
    try {
      const require = createRequire(path.join(process.cwd(), globalThis.monorepoPackagePath ?? '', 'index.mjs'));
      (${nextServerPatchSource})(require('next/dist/server/next-server.js').default, { httpFromForwardedProto: true });
    } catch {
      // not a Next server function (the image function): nothing to patch
    }
  };
  const { createRequire } = await import('node:module');
  const missingLocalImage = (event) => {
    if (!event?.rawPath?.endsWith('/_next/image')) return false;
    const url = new URLSearchParams(event.rawQueryString ?? '').get('url') ?? '';
    if (!url.startsWith('/') || url.startsWith('//')) return false;
    const file = localAssetFile(fs, path, url);
    return file === null || (file !== undefined && !fs.existsSync(file));
  };
  // next.config headers() for what the image function answers (next start adds them to every
  // response; the server function applies them itself): from the default function's build manifest.
  let headerRules;
  const configHeaders = (event) => {
    if (headerRules === undefined) {
      headerRules = [];
      try {
        const root = versionRoot(fs, path);
        const bundle = JSON.parse(fs.readFileSync(path.join(root, 'open-next.output.json'), 'utf8')).origins?.default?.bundle;
        const fnDir = path.resolve(root, path.relative('.open-next', bundle));
        const find = (dir, depth) => {
          const f = path.join(dir, '.next', 'routes-manifest.json');
          if (fs.existsSync(f)) return f;
          if (depth === 0) return undefined;
          for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
            if (!e.isDirectory() || e.name === 'node_modules' || e.name.startsWith('.')) continue;
            const found = find(path.join(dir, e.name), depth - 1);
            if (found) return found;
          }
          return undefined;
        };
        const file = find(fnDir, 3);
        const m = file ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
        headerRules = (m.headers ?? []).map((r) => ({ ...r, re: new RegExp(r.regex, m.caseSensitive ? '' : 'i') }));
      } catch {
        // no manifest: no rules
      }
    }
    const headers = event.headers ?? {};
    const query = new URLSearchParams(event.rawQueryString ?? '');
    const cookie = (name) => (event.cookies ?? []).map((c) => c.split('=')).find(([k]) => k === name)?.slice(1).join('=');
    const holds = (c) => {
      const actual = c.type === 'header' ? headers[String(c.key).toLowerCase()] : c.type === 'cookie' ? cookie(c.key)
        : c.type === 'query' ? (query.get(c.key) ?? undefined) : String(headers.host ?? '').replace(/:\\d+$/, '');
      return actual !== undefined && (c.value === undefined || new RegExp('^(?:' + c.value + ')$').test(actual));
    };
    const out = {};
    for (const r of headerRules) {
      if (!r.re.test(event.rawPath) || !(r.has ?? []).every(holds) || (r.missing ?? []).some(holds)) continue;
      for (const h of r.headers) out[h.key.toLowerCase()] = h.value;
    }
    return out;
  };
  return {
    name: 'shiplog-local-apigw-v2',
    convertFrom: async (event) => {
      patchNextServer();
      const headers = {};
      for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
      if (Array.isArray(event.cookies) && event.cookies.length > 0) headers.cookie = event.cookies.join('; ');
      const proto = String(headers['x-forwarded-proto'] ?? '').split(',')[0].trim() === 'http' ? 'http' : 'https';
      const host = headers['x-forwarded-host'] ?? headers.host ?? 'on';
      // The query as Next gets it, taken when it is read: an edge function's bundle lists its route
      // (globalThis._ROUTES) only once its handler module has loaded, after this conversion.
      // Made once, or once more when the bundle has listed its routes since; the same query object
      // is handed out each time it is read.
      let made;
      const queryOf = () => {
        const listed = Array.isArray(globalThis._ROUTES);
        if (made && (made.listed || !listed)) return made;
        const params = new URLSearchParams(event.rawQueryString ?? '');
        // Written again only when an edge route's values were added: any other query reaches Next as it came.
        const qs = edgeRouteParams(event.rawPath, params) ? params.toString() : (event.rawQueryString ?? '');
        const query = {};
        for (const k of new Set(params.keys())) {
          const all = params.getAll(k);
          query[k] = all.length > 1 ? all : all[0];
        }
        made = { qs, query, listed };
        return made;
      };
      const cookies = {};
      for (const c of event.cookies ?? []) {
        const eq = c.indexOf('=');
        if (eq > 0) cookies[c.slice(0, eq)] = c.slice(eq + 1);
      }
      const body = typeof event.body === 'string' ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
      // OpenNext's routing may set either (a rewrite): what it sets is what is read after.
      let url;
      let query;
      return {
        type: 'core', method: event.requestContext.http.method, rawPath: event.rawPath,
        get url() {
          if (url !== undefined) return url;
          const { qs } = queryOf();
          return proto + '://' + host + event.rawPath + (qs ? '?' + qs : '');
        },
        set url(value) {
          url = value;
        },
        get query() {
          return query !== undefined ? query : queryOf().query;
        },
        set query(value) {
          query = value;
        },
        body, headers, remoteAddress: event.requestContext.http.sourceIp, cookies,
      };
    },
    convertTo: async (result, event) => {
      const headers = {};
      let cookies = [];
      for (const [k, v] of Object.entries(result.headers ?? {})) {
        const name = k.toLowerCase();
        if (name === 'set-cookie') cookies = cookies.concat(v ?? []);
        else headers[name] = v === null || v === undefined ? '' : Array.isArray(v) ? v.join(', ') : String(v);
      }
      // As next start: the app's headers() first, then what the image optimizer sets over them
      // (Vary, Cache-Control, Content-Type, Content-Disposition, Content-Security-Policy).
      const image = event?.rawPath?.endsWith('/_next/image');
      if (image) for (const [k, v] of Object.entries(configHeaders(event))) if (!(k in headers)) headers[k] = v;
      if (result.statusCode >= 500 && missingLocalImage(event)) {
        return { statusCode: 404, headers: configHeaders(event), cookies, body: '"url" parameter is valid but internal response is invalid', isBase64Encoded: false };
      }
      const chunks = [];
      if (result.body) for await (const c of result.body) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
      const buf = Buffer.concat(chunks);
      return { statusCode: result.statusCode, headers, cookies, body: buf.toString(result.isBase64Encoded ? 'base64' : 'utf8'), isBase64Encoded: Boolean(result.isBase64Encoded) };
    },
  };
};

// Time-based ISR: a STALE page is regenerated as OpenNext's revalidation function does it on
// AWS (a HEAD with the preview id), but in the function pool: the worker hands the request to
// the pool, which invokes this version's function with it. (OpenNext's 'direct' queue fetched
// http://<project>.localhost/… from inside the function, a name Node does not resolve.)
const localQueue = async () => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  let previewId;
  return {
    name: 'shiplog-local-queue',
    send: async ({ MessageBody: { host, url } }) => {
      previewId ??= JSON.parse(fs.readFileSync(path.join(process.cwd(), globalThis.monorepoPackagePath ?? '', '.next', 'prerender-manifest.json'), 'utf8')).preview.previewModeId;
      if (typeof globalThis.shiplogRevalidate !== 'function') throw new Error('no shiplog function pool to revalidate ' + url + ' in');
      await globalThis.shiplogRevalidate({ host, url, headers: { 'x-prerender-revalidate': previewId, 'x-isr': '1' } });
    },
  };
};

// What binds a function to this machine: the router speaks API Gateway v2 to the streaming
// wrapper (Suspense shells and route-handler streams reach the client as they are produced,
// and after()/waitUntil work runs once the response has ended); ISR lives in the version's
// cache/ (kept across restarts) and regenerates through the function pool. The image function
// stays buffered: it answers whole files.
const localOverride = { wrapper: 'aws-lambda-streaming', converter: localConverter, incrementalCache: localIncrementalCache, tagCache: localTagCache, queue: localQueue };
// Edge runtime routes (\`export const runtime = 'edge'\`): OpenNext leaves them out of its Node
// server function (its copy of Next serves none), so each runs in a function of its own, as
// OpenNext's own edge functions do: bundled with Next's edge runtime, answering whole responses
// (the buffered wrapper: the edge adapter returns its response, it writes no stream). OpenNext
// takes an edge function's wrapper and converter from \`middleware.override\` when it starts.
const localEdgeOverride = { wrapper: 'aws-lambda', converter: localConverter };

// The paths a CloudFront-style behavior sends to an edge route's function: its path (dynamic
// segments as \`*\`; route groups and slots are not in the URL) as next.config's trailingSlash
// writes it (the other form goes to the server function, whose routing redirects it, as next
// start does), an app page's RSC payloads, a Pages Router page's data route, under each locale
// of the Pages Router.
const edgePatterns = (fn, locales, trailingSlash) => {
  const app = fn.name.startsWith('app/');
  const segments = fn.page.split('/').filter((s) => s && !(app && ((s.startsWith('(') && s.endsWith(')')) || s.startsWith('@'))));
  if (app && (segments.at(-1) === 'page' || segments.at(-1) === 'route')) segments.pop();
  const path = segments.map((s) => (s.startsWith('[') ? '*' : s)).join('/');
  const appPage = app && fn.page.endsWith('/page');
  // A route handler is served with or without the slash: OpenNext's routing redirects pages only.
  const handler = !(appPage || (!app && !fn.page.startsWith('/api/') && fn.page !== '/api'));
  const pagesPage = !app && !fn.page.startsWith('/api/') && fn.page !== '/api';
  const under = (prefix) => {
    const p = prefix && path ? prefix + '/' + path : prefix || path;
    const forms = !p ? [p] : handler ? [p, p + '/'] : [trailingSlash ? p + '/' : p];
    return [...forms, ...(appPage ? [(p || 'index') + '.rsc', (p || 'index') + '.segments/*'] : [])];
  };
  const data = (p) => '_next/data/BUILD_ID/' + (p || 'index') + '.json';
  const localized = !app && locales.length > 0 ? locales : [];
  return [...new Set([
    ...under(''), ...localized.flatMap(under),
    ...(pagesPage ? [data(path), ...localized.map((l) => data(path ? l + '/' + path : l))] : []),
  ])];
};

// The build's edge routes, one function each (read while \`open-next build\` loads this file, after
// next build; a deployed function has no use for them). A route that carries assets (next/og's
// font: an \`opengraph-image\` on the edge) is left out: OpenNext's copy of them failed the whole
// build (it copies \`server/edge/assets/…\` into a folder it did not make), and its edge runtime
// would not find them either. Such a route stays in the server function, which answers it 500.
const edgeRoutesLeftOut = [];
const edgeRouteFunctions = () => {
  if (!process.env.SHIPLOG_GIT_COMMIT_SHA) return {};
  const read = (file) => {
    try {
      return JSON.parse(shiplogFs.readFileSync(file, 'utf8'));
    } catch {
      return undefined;
    }
  };
  const manifest = read('.next/server/middleware-manifest.json');
  const locales = read('.next/routes-manifest.json')?.i18n?.locales ?? [];
  const trailingSlash = read('.next/required-server-files.json')?.config?.trailingSlash === true;
  const routes = Object.values(manifest?.functions ?? {});
  for (const fn of routes) if ((fn.assets ?? []).length > 0) edgeRoutesLeftOut.push(fn.name);
  return Object.fromEntries(routes.filter((fn) => (fn.assets ?? []).length === 0).map((fn, i) => ['edge-route-' + i, {
    runtime: 'edge', routes: [fn.name], patterns: edgePatterns(fn, locales, trailingSlash), override: localEdgeOverride,
  }]));
};

const localImageOptimization = {
  loader: localAssetsLoader,
  override: { wrapper: 'aws-lambda', converter: localConverter },
  install: { packages: ['sharp@' + (process.env.SHARP_VERSION ?? '0.35.5')], os: process.platform, arch: process.arch },
};
`;

/**
 * The OpenNext config for an app served by the local router, when the app brings none: the
 * `aws-lambda-streaming` wrapper (responses stream through the router as Lambda response
 * streaming does; `after()` callbacks run once the response has ended) with an API Gateway v2
 * converter that keeps the router's scheme (the router speaks that event format), ISR in the
 * version directory's `cache/` (kept across restarts), a tag cache that works for every app
 * shape and answers as `dynamodb-lite` does, revalidation of STALE pages through the function
 * pool, and an image loader reading the version's `assets/` (see `localPieces`).
 *
 * @example
 * await writeFile(join(appDir, shiplogConfigFile), localOpenNextConfig);
 */
export const localOpenNextConfig = `// Written by shiplog's local build runner.
${localPieces}
${appSharpSource}
const edgeRoutes = edgeRouteFunctions();
const edge = Object.keys(edgeRoutes).length > 0;
if ((edge || edgeRoutesLeftOut.length > 0) && !globalThis.__shiplogConfigReported) {
  globalThis.__shiplogConfigReported = true;
  if (edge) {
    console.log('shiplog: edge runtime routes, each in a function of its own (next.config redirects, rewrites and headers and the middleware do not run in front of them): '
      + Object.values(edgeRoutes).map((f) => f.routes[0]).join(', '));
  }
  if (edgeRoutesLeftOut.length > 0) {
    console.log('warning: edge runtime routes with assets (fonts, images), which OpenNext\\'s edge functions cannot carry, stay in the server function and answer 500: '
      + edgeRoutesLeftOut.join(', ') + ". Without export const runtime = 'edge' they run in the server function.");
  }
}

export default {
  buildCommand: 'exit 0',
  default: { override: localOverride, ...(shiplogAppSharp ? { install: { packages: ['sharp@' + shiplogAppSharp], os: process.platform, arch: process.arch } } : {}) },
  ...(edge ? { functions: edgeRoutes } : {}),
  // Read when an edge function starts (deployed, where the build's routes are not listed again); the
  // middleware itself runs inside the server function either way.
  middleware: { external: false, override: localEdgeOverride },
  imageOptimization: localImageOptimization,
  // The local pieces load Node's modules: kept external when OpenNext bundles this file for an edge function.
  edgeExternals: ['node:*'],
};
`;

/**
 * The local config when the repository brings its own `open-next.config.ts`: what describes the
 * app is kept (function splitting: `functions` with their `routes`/`patterns`/`placement`,
 * `dangerous`, paths, `edgeExternals`, a function's own `proxyExternalRequest`, a cache or queue
 * override it wrote itself), and what binds it to AWS is replaced with the local pieces
 * (wrapper and converter, the S3/DynamoDB/SQS caches and queue by name, CloudFront
 * invalidation, the image function's loader, an external middleware function); the AWS-only
 * functions (`initializationFunction`, `revalidate`, `warmer`) are dropped. While
 * `open-next build` loads it, it prints one `shiplog: …` line per decision into the build log.
 *
 * @example
 * await writeFile(join(appDir, shiplogConfigFile), localWrappedOpenNextConfig('./open-next.config.ts'));
 */
export const localWrappedOpenNextConfig = (userConfig: string): string => `// Written by shiplog's local build runner.
import app from '${userConfig}';
${localPieces}
const kept = [];
const replaced = [];
// Named overrides that need AWS; anything else the app wrote (a function of its own, dummy) is its choice,
// except OpenNext's local ones that ours stand in for (they fail here: see localPieces).
const ourLocal = new Set(['tagCache:fs-dev', 'incrementalCache:fs-dev', 'queue:direct']);
const awsNamed = new Set(['s3', 's3-lite', 'multi-tier-ddb-s3', 'dynamodb', 'dynamodb-lite', 'dynamodb-nextMode', 'sqs', 'sqs-lite', 'cloudfront']);
const localFunction = (name, fn) => {
  const { override = {}, ...rest } = fn ?? {};
  for (const k of Object.keys(rest)) kept.push(name + '.' + k);
  const out = { ...override };
  const binding = rest.runtime === 'edge' ? { ...localOverride, ...localEdgeOverride } : localOverride;
  for (const [k, v] of Object.entries(binding)) {
    const theirs = override[k];
    const keep = theirs !== undefined && k !== 'wrapper' && k !== 'converter' && (typeof theirs === 'function' || !awsNamed.has(theirs)) && !ourLocal.has(k + ':' + theirs);
    if (keep || (theirs !== undefined && theirs === v)) kept.push(name + '.override.' + k);
    else {
      out[k] = v;
      if (theirs !== undefined) replaced.push(name + '.override.' + k + ' (' + (typeof theirs === 'function' ? 'function' : theirs) + ')');
    }
  }
  if (override.cdnInvalidation !== undefined) {
    out.cdnInvalidation = 'dummy';
    replaced.push(name + '.override.cdnInvalidation');
  }
  for (const k of Object.keys(override)) if (!(k in binding) && k !== 'cdnInvalidation') kept.push(name + '.override.' + k);
  return { ...rest, override: out };
};

const config = { ...app, buildCommand: 'exit 0' };
if (app.buildCommand !== undefined) replaced.push('buildCommand (shiplog ran the build already)');
config.default = localFunction('default', app.default);
if (app.functions) {
  config.functions = Object.fromEntries(Object.entries(app.functions).map(([n, f]) => [n, localFunction('functions.' + n, f)]));
}
if (app.middleware?.external) {
  config.middleware = { external: false };
  replaced.push('middleware.external (the middleware runs inside the server function locally)');
} else if (app.middleware) kept.push('middleware');
if (app.imageOptimization) replaced.push('imageOptimization (loader, wrapper and sharp build for this machine)');
config.imageOptimization = localImageOptimization;
for (const k of ['initializationFunction', 'revalidate', 'warmer']) {
  if (app[k] === undefined) continue;
  delete config[k];
  replaced.push(k + ' (an AWS-only function: dropped)');
}
// An edge function takes its wrapper and converter from middleware.override when it starts (see localEdgeOverride).
if (Object.values(config.functions ?? {}).some((f) => f.runtime === 'edge')) config.middleware = { ...(config.middleware ?? {}), override: localEdgeOverride };
for (const k of ['dangerous', 'appPath', 'buildOutputPath', 'packageJsonPath', 'edgeExternals']) if (app[k] !== undefined) kept.push(k);
config.edgeExternals = [...new Set([...(app.edgeExternals ?? []), 'node:*'])];
// Printed while open-next build loads this file (the build has SHIPLOG_GIT_COMMIT_SHA), never by a deployed function.
if (process.env.SHIPLOG_GIT_COMMIT_SHA && !globalThis.__shiplogConfigReported) {
  globalThis.__shiplogConfigReported = true;
  console.log('shiplog: open-next.config.ts kept: ' + (kept.join(', ') || 'nothing'));
  console.log('shiplog: open-next.config.ts replaced for this machine: ' + (replaced.join(', ') || 'nothing'));
}

export default config;
`;

/**
 * The wrapper the AWS buildspec uses when the repository brings its own `open-next.config.ts`:
 * the app's config, with the build step turned off because the build command has already run.
 *
 * @example
 * await writeFile(join(appDir, shiplogConfigFile), wrappedOpenNextConfig('./open-next.config.ts'));
 */
export const wrappedOpenNextConfig = (userConfig: string): string => `// Written by shiplog's local build runner.
import config from '${userConfig}';

export default { ...config, buildCommand: 'exit 0' };
`;

/**
 * Writes the config `open-next build` gets, and says whether the app had its own.
 *
 * @example
 * const { path, own } = await writeOpenNextConfig(appDir); // own: false → the local default
 */
export const writeOpenNextConfig = async (appDir: string): Promise<{ path: string; own: boolean }> => {
  const own = existsSync(join(appDir, 'open-next.config.ts'));
  const path = join(appDir, shiplogConfigFile);
  // The app's folder was written by user code: never follow a link planted at this name.
  await rm(path, { force: true });
  await writeFile(path, own ? localWrappedOpenNextConfig('./open-next.config.ts') : localOpenNextConfig, { flag: 'wx' });
  return { path, own };
};
