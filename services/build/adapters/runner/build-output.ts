import { lstat, readdir, readFile, realpath, rename, writeFile } from 'node:fs/promises';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { basename, dirname, join } from 'node:path';
import { isInside } from './artifact-links.ts';

// What the runners do to next build's output around `open-next build`: a next.config for an app
// without one, a static export refused, and the fixes OpenNext's edge functions need to answer in
// Node as next start does (decisions: "Edge runtime routes get functions of their own, locally").

// A regular file at `p` (not a link, a folder or nothing): the files user code wrote are read only so.
const isRegularFile = (p: string): Promise<boolean> => lstat(p).then((st) => st.isFile(), () => false);

// The build's folders were written by user code, and shiplog's own user changes files in them:
// a file is replaced whole (written aside, then renamed over it, so a link planted at its name is
// replaced, not followed) and only in a folder whose real path is inside `root`.
const replaceInside = async (root: string, file: string, text: string): Promise<void> => {
  const [realRoot, dir] = await Promise.all([realpath(root), realpath(dirname(file))]);
  if (!isInside(realRoot, dir)) throw new Error(`${file} is not inside ${root}`);
  const aside = join(dir, `.${basename(file)}.shiplog-${process.pid}`);
  await writeFile(aside, text, { flag: 'wx' });
  await rename(aside, join(dir, basename(file)));
};

/**
 * The names `open-next build` looks for a Next.js config under (it refuses to package an app
 * without one, though `next build` builds it with the defaults).
 */
export const nextConfigNames = ['next.config.ts', 'next.config.mts', 'next.config.cts', 'next.config.js', 'next.config.mjs', 'next.config.cjs'];

/**
 * What an app without a Next.js config gets before `open-next build`: an empty one, the defaults
 * `next build` has just used. Written after the build, so the build saw the app as it is.
 */
export const emptyNextConfig = '// Written by shiplog: the app has no next.config, and open-next build needs one. Next\'s defaults, as next build used them.\nexport default {};\n';

/** What the build log says when {@link emptyNextConfig} was written (both runners). */
export const emptyNextConfigLine = "no next.config in the app: an empty next.config.mjs (Next's defaults, as next build used them) for open-next build, which needs one";

/**
 * Writes {@link emptyNextConfig} as `next.config.mjs` when the app has none of
 * {@link nextConfigNames} (anything at one of those names, a link included, counts as one);
 * returns whether it wrote it.
 *
 * @example
 * if (await ensureNextConfig(appDir)) log('no next.config: an empty next.config.mjs for open-next build');
 */
export const ensureNextConfig = async (appDir: string): Promise<boolean> => {
  for (const name of nextConfigNames) {
    if (await lstat(join(appDir, name)).then(() => true, () => false)) return false;
  }
  // `wx`: never through a link planted meanwhile at this name.
  await writeFile(join(appDir, 'next.config.mjs'), emptyNextConfig, { flag: 'wx' });
  return true;
};

/**
 * Why a static export cannot be packaged, as the build log and the deployment's error say it.
 * `next build` of an app with `output: 'export'` writes `.next/export-detail.json` (a build without
 * it removes that file first) and the site to `out/`, with no server for OpenNext to package:
 * `open-next build` failed on a missing `pages-manifest.json`.
 */
export const staticExportMessage = "next.config sets output: 'export' (a static export, written to out/): shiplog deploys a Next.js server with OpenNext, which cannot package a static export. Remove output: 'export' from next.config and push again: the pages it exported are prerendered and served as they are now";

/**
 * Whether `next build` just made a static export of the app (see {@link staticExportMessage}).
 *
 * @example
 * if (await isStaticExport(appDir)) return fail('build-failed', null, staticExportMessage);
 */
export const isStaticExport = (appDir: string): Promise<boolean> => isRegularFile(join(appDir, '.next', 'export-detail.json'));

/**
 * Why a build that succeeded left nothing to package, as the build log and the deployment's error
 * say it: `next build` wrote its output to a custom `distDir` (`<distDir>` in the text, the folder
 * with `BUILD_ID` and `required-server-files.json`), which OpenNext does not read (it packages
 * `.next` only; `open-next build` failed on a missing `middleware-manifest.json`), or the build
 * command ran no `next build` at all.
 */
export const customDistDirMessage = "next.config sets distDir: '<distDir>' (the build went to <distDir>/): OpenNext, which packages the app for shiplog, reads only .next. Remove distDir from next.config (or set it only outside production builds) and push again";
export const noNextBuildMessage = 'the build command succeeded but left no Next.js build in .next (no .next/BUILD_ID): it must run next build (the app\'s build script does, or the project\'s build command)';

/**
 * What is wrong with a build's output before `open-next build` (see {@link customDistDirMessage}),
 * or undefined when `.next` holds a build. Looks for a custom `distDir` among the app's folders.
 *
 * @example
 * const problem = await missingNextBuild(appDir); // "next.config sets distDir: 'build' …"
 */
export const missingNextBuild = async (appDir: string): Promise<string | undefined> => {
  if (await isRegularFile(join(appDir, '.next', 'BUILD_ID'))) return undefined;
  for (const e of await readdir(appDir, { withFileTypes: true }).catch(() => [])) {
    if (!e.isDirectory() || e.name === 'node_modules' || e.name === '.git') continue;
    if ((await isRegularFile(join(appDir, e.name, 'BUILD_ID'))) && (await isRegularFile(join(appDir, e.name, 'required-server-files.json')))) {
      return customDistDirMessage.replaceAll('<distDir>', e.name);
    }
  }
  return noNextBuildMessage;
};

/**
 * The first line of an edge function OpenNext bundles, and the same import as Node can run it.
 * OpenNext imports `process` as a module namespace, and Next's edge runtime, finding that object
 * is not `globalThis.process`, assigns its `env`: in Node a namespace is read-only, and every
 * request failed ("Cannot assign to read only property 'env'"). The default import is the process itself.
 */
const edgeBanner = 'import * as process from "node:process";';
const nodeEdgeBanner = 'import process from "node:process";';

// What next build writes of its middleware and edge routes, as far as shiplog reads it.
interface ManifestEntry {
  env?: Record<string, unknown>;
  matchers?: { regexp?: unknown }[];
}
interface MiddlewareManifest {
  middleware?: Record<string, ManifestEntry>;
  functions?: Record<string, ManifestEntry>;
}

// `.next/server/middleware-manifest.json` of the app, when it is a regular file that parses.
const readMiddlewareManifest = async (appDir: string): Promise<{ file: string; manifest: MiddlewareManifest } | undefined> => {
  const file = join(appDir, '.next', 'server', 'middleware-manifest.json');
  if (!(await isRegularFile(file))) return undefined;
  try {
    return { file, manifest: JSON.parse(await readFile(file, 'utf8')) as MiddlewareManifest };
  } catch {
    return undefined;
  }
};

/**
 * The environment next build gives its edge routes (`env` of each entry of
 * `.next/server/middleware-manifest.json`: the build id, the server actions' key, the preview
 * keys; the same for every route of a build), which Next's edge sandbox sets under next start and
 * OpenNext's edge functions do not: a page rendered there named no build id. Empty without a manifest.
 *
 * @example
 * await edgeRouteEnv(appDir); // { __NEXT_BUILD_ID: 'kcZc…', … }
 */
export const edgeRouteEnv = async (appDir: string): Promise<Record<string, string>> => {
  const env: Record<string, string> = {};
  for (const entry of Object.values((await readMiddlewareManifest(appDir))?.manifest.functions ?? {})) {
    for (const [k, v] of Object.entries(entry?.env ?? {})) if (typeof v === 'string' && !(k in env)) env[k] = v;
  }
  return env;
};

/**
 * Makes the edge functions of a packaged output run in Node as under next start (see
 * {@link edgeBanner} and {@link edgeRouteEnv}): each `server-functions/<name>/index.mjs` that
 * starts with OpenNext's edge banner gets the default import instead, and sets `env` before
 * anything else runs. Only regular files are touched. Returns the names of the functions changed.
 *
 * @example
 * await nodeLoadableEdgeFunctions(artifactDir, await edgeRouteEnv(appDir)); // ['edge-route-0']
 */
export const nodeLoadableEdgeFunctions = async (outputDir: string, env: Record<string, string> = {}): Promise<string[]> => {
  const root = join(outputDir, 'server-functions');
  const names = await readdir(root).catch(() => [] as string[]);
  const changed: string[] = [];
  for (const name of names.sort()) {
    const file = join(root, name, 'index.mjs');
    if (!(await isRegularFile(file))) continue;
    const text = await readFile(file, 'utf8');
    if (!text.startsWith(`${edgeBanner}\n`)) continue;
    const setEnv = Object.keys(env).length > 0 ? `\nObject.assign(process.env, ${JSON.stringify(env)});` : '';
    await replaceInside(outputDir, file, nodeEdgeBanner + setEnv + text.slice(edgeBanner.length));
    changed.push(name);
  }
  return changed;
};

/**
 * Rewrites the route matchers of `.next/server/middleware-manifest.json` from the named groups
 * Turbopack writes for dynamic segments (`(?P<name>…)`, as Rust's regex reads them) to
 * JavaScript's (`(?<name>…)`): OpenNext compiles them with `new RegExp` in the edge function
 * of such a route, and every request to it failed ("Invalid group"). Nothing else of the manifest
 * changes, and a file that is not a regular file is left alone. Returns how many it rewrote.
 *
 * @example
 * await jsNamedGroupsInMiddlewareManifest(appDir); // 1 for app/api/hi/[name]/route
 */
export const jsNamedGroupsInMiddlewareManifest = async (appDir: string): Promise<number> => {
  const read = await readMiddlewareManifest(appDir);
  if (!read) return 0;
  const { file, manifest } = read;
  let rewritten = 0;
  for (const entry of [...Object.values(manifest.middleware ?? {}), ...Object.values(manifest.functions ?? {})]) {
    for (const m of entry?.matchers ?? []) {
      if (typeof m.regexp !== 'string' || !m.regexp.includes('(?P<')) continue;
      m.regexp = m.regexp.replaceAll('(?P<', '(?<');
      rewritten++;
    }
  }
  if (rewritten > 0) await replaceInside(appDir, file, JSON.stringify(manifest, null, 2));
  return rewritten;
};

// The fixes below change the output `open-next build` made, locally (shiplog's runner, through
// replaceInside) and on CodeBuild (a script, outputFixScript). Each is one async function, as
// source, called with `(fsp, path, outputDir, replace)`: node:fs/promises, node:path, the output
// folder, and `replace(file, text)`, which writes a file whole. It follows no link and returns
// how many things it changed.

/**
 * The folders of an OpenNext output's server functions that hold a `.next` (copied from next
 * build's standalone output): `server-functions/<name>/` or up to four folders below it, a monorepo
 * app's package folder, in name order; `node_modules` is not looked into and no link is followed.
 * As source, for the output fixes below (each is run alone on CodeBuild).
 */
const serverFunctionDirsSource = `async function shiplogServerFunctionDirs(fsp, path, outputDir) {
  const dirs = [];
  const walk = async (dir, depth) => {
    let entries;
    try {
      entries = await fsp.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (!e.isDirectory() || e.name === 'node_modules') continue;
      if (e.name === '.next') dirs.push(dir);
      else if (depth < 4) await walk(path.join(dir, e.name), depth + 1);
    }
  };
  const functions = path.join(outputDir, 'server-functions');
  for (const name of (await fsp.readdir(functions).catch(() => [])).sort()) await walk(path.join(functions, name), 0);
  return dirs;
}`;

/**
 * Hands Next's trailing-slash redirects to OpenNext's routing: `next build` writes them into
 * `.next/routes-manifest.json` as `internal` redirects (`/:path+/` → `/:path+`; with
 * `trailingSlash: true`, `/:notfile` → `/:notfile/` and a file's `/:file/` → `/:file`), which
 * next start's router applies to every path but `.well-known`. OpenNext skips internal redirects
 * and applies a slash rule of its own that leaves `/api/…` paths alone and never takes a slash
 * off a file's path, so `/api/hello/` was answered where next start redirects it (308) to
 * `/api/hello`. Next's internal redirects (these are all of them) are marked ordinary in each
 * routes manifest OpenNext's server functions read at run time (copied from next build's
 * standalone output: `.next/routes-manifest.json` in `server-functions/<name>/` or up to four
 * folders below it, a monorepo app's package folder; `node_modules` not looked into; a manifest
 * that is not JSON left alone). OpenNext's own rule still runs first, and where it does not
 * redirect, Next's do, in Next's order before the app's; none of them for a data request (each
 * gets `missing` conditions on `x-nextjs-data` and `__nextDataReq`, which OpenNext's normalized
 * data request carries). Returns how many redirects it handed over.
 */
const trailingSlashRedirectsSource = `async function shiplogTrailingSlashRedirects(fsp, path, outputDir, replace) {
  const manifests = (await (${serverFunctionDirsSource})(fsp, path, outputDir)).map((dir) => path.join(dir, '.next', 'routes-manifest.json'));
  let n = 0;
  for (const file of manifests) {
    let manifest;
    try {
      if (!(await fsp.lstat(file)).isFile()) continue;
      manifest = JSON.parse(await fsp.readFile(file, 'utf8'));
    } catch {
      continue;
    }
    let handed = 0;
    for (const r of manifest && Array.isArray(manifest.redirects) ? manifest.redirects : []) {
      if (r && r.internal === true) {
        r.internal = false;
        // Never for a data request: OpenNext turns /_next/data/<id>/a.json into /a (with
        // x-nextjs-data and __nextDataReq) before it applies redirects, which next start matches
        // against the data path itself, and /:notfile → /:notfile/ then sent every client
        // navigation of an app with trailingSlash a 308 to the page instead of its JSON.
        const missing = Array.isArray(r.missing) ? r.missing : [];
        const lacks = (type, key) => !missing.some((c) => c && c.type === type && c.key === key);
        r.missing = missing.concat(
          lacks('header', 'x-nextjs-data') ? [{ type: 'header', key: 'x-nextjs-data' }] : [],
          lacks('query', '__nextDataReq') ? [{ type: 'query', key: '__nextDataReq' }] : [],
        );
        handed++;
      }
    }
    if (handed > 0) await replace(file, JSON.stringify(manifest));
    n += handed;
  }
  return n;
}`;

/**
 * Gives each Pages Router fallback shell (`fallback: true`) in the output's `cache/` the type of
 * a Pages entry. `open-next build` types a prerendered entry by its files (a `.json` makes a
 * page), and a Pages fallback shell is an `.html` and a `.meta` whose route cache owner is
 * `PAGES`, so it was written as an App Router entry: OpenNext's cache handed it to Next as
 * `APP_PAGE` and every path the build had not generated answered 500 ("Invariant: received
 * non-pages cache entry in pages handler") where next start serves the shell. The entry becomes
 * a page with the empty data Next's own cache gives a fallback shell. Only files whose path has a
 * dynamic segment (`[`) are read. Returns how many entries it changed.
 */
const pagesFallbackEntriesSource = `async function shiplogPagesFallbackEntries(fsp, path, outputDir, replace) {
  let n = 0;
  const walk = async (dir) => {
    let entries;
    try {
      entries = await fsp.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        await walk(p);
        continue;
      }
      if (!e.isFile() || !e.name.endsWith('.cache') || !p.includes('[')) continue;
      let entry;
      try {
        entry = JSON.parse(await fsp.readFile(p, 'utf8'));
      } catch {
        continue;
      }
      const route = entry && entry.meta && entry.meta.routeCache;
      if (entry.type !== 'app' || !route || !route.owner || route.owner.kind !== 'PAGES' || route.isFallback !== true) continue;
      entry.type = 'page';
      if (entry.json === undefined) entry.json = {};
      await replace(p, JSON.stringify(entry));
      n++;
    }
  };
  await walk(path.join(outputDir, 'cache'));
  return n;
}`;

/**
 * Makes OpenNext's routing localize a path as Next does, for an app with `i18n` (the Pages
 * Router's locales). OpenNext 4.1's `localizePath`, which the middleware's matcher and
 * next.config's redirects, rewrites and headers are tested against, puts a locale in front of the
 * whole path and picks it from the visitor (cookie, `Accept-Language`). Next puts it after the
 * `basePath` (`/docs/old/a` → `/docs/en/old/a`, where OpenNext made `/en/docs/old/a`, which none of
 * them matched: the middleware never ran, an auth check in it let every request through, the
 * app's redirects and rewrites were skipped), and takes a path without one as the default
 * locale's (the domain's, with `i18n.domains`): only the root redirects by the visitor's language.
 * OpenNext's locale redirect looked only at `/`, never at the basePath's root. In each server
 * function whose `.next/routes-manifest.json` has `i18n`, its bundle's (`index.mjs` beside
 * `.next`) `localizePath` and the head of its locale redirect are replaced to do that (a path
 * outside the basePath is localized as before, with the default locale). The bundle is OpenNext
 * 4.1.12's, minified by its esbuild: the two functions are found by their shape; a bundle without
 * them is left as it is and counted apart. Returns `[patched, not found]`.
 */
const routingLocalesSource = `async function shiplogRoutingLocales(fsp, path, outputDir, replace) {
  const dirs = await (${serverFunctionDirsSource})(fsp, path, outputDir);
  // localizePath and handleLocaleRedirect as esbuild minifies them: (e) the event, (t) the i18n
  // config, the config object, isLocalizedPath and detectLocale by their minified names.
  const localize = /function ([\\w$]+)\\((\\w)\\)\\{let (\\w)=([\\w$]+)\\.i18n;return!\\3\\|\\|([\\w$]+)\\(\\2\\.rawPath\\)\\?\\2\\.rawPath:\`\\/\\$\\{([\\w$]+)\\(\\2,\\3\\)\\}\\$\\{\\2\\.rawPath\\}\`\\}/;
  const redirect = /(function [\\w$]+\\((\\w)\\)\\{let (\\w)=([\\w$]+)\\.i18n;if\\(!\\3\\|\\|\\3\\.localeDetection===!1\\|\\|)\\2\\.rawPath!=="\\/"\\)/;
  let patched = 0;
  let missing = 0;
  for (const dir of dirs) {
    let manifest;
    try {
      const file = path.join(dir, '.next', 'routes-manifest.json');
      if (!(await fsp.lstat(file)).isFile()) continue;
      manifest = JSON.parse(await fsp.readFile(file, 'utf8'));
    } catch {
      continue;
    }
    if (!manifest || !manifest.i18n) continue;
    const bundle = path.join(dir, 'index.mjs');
    let code;
    try {
      if (!(await fsp.lstat(bundle)).isFile()) continue;
      code = await fsp.readFile(bundle, 'utf8');
    } catch {
      continue;
    }
    if (code.includes('/*shiplog:routingLocales*/')) continue; // done before
    const l = localize.exec(code);
    const r = redirect.exec(code);
    if (!l || !r) {
      missing++;
      continue;
    }
    const [, fn, e, t, config, isLocalized, detect] = l;
    // detectLocale given neither cookies nor Accept-Language: the domain's default locale, else i18n's.
    const locale = detect + '({headers:{host:' + e + '.headers.host},cookies:{}},' + t + ')';
    const fixed = '/*shiplog:routingLocales*/function ' + fn + '(' + e + '){let ' + t + '=' + config + '.i18n;if(!' + t + ')return ' + e + '.rawPath;' +
      'let b=' + config + '.basePath||"",p=' + e + '.rawPath;' +
      'if(b&&(p===b||p.startsWith(b+"/"))){let r=p.slice(b.length)||"/";return ' + isLocalized + '(r)?p:b+"/"+' + locale + '+(r==="/"?"":r)}' +
      'return ' + isLocalized + '(p)?p:"/"+' + locale + '+p}';
    const next = code.replace(l[0], () => fixed).replace(r[0], () => r[1] + r[2] + '.rawPath!==(' + r[4] + '.basePath||"/"))');
    await replace(bundle, next);
    patched++;
  }
  return [patched, missing];
}`;

/**
 * The headers next start gives every optimized image and OpenNext's image function does not:
 * `Content-Disposition` (`images.contentDispositionType`, `attachment` by default, with the file's
 * name and the extension of what is sent) and `Content-Security-Policy`
 * (`images.contentSecurityPolicy`, `script-src 'none'; frame-src 'none'; sandbox;` by default).
 * Without them an SVG an app allows (`dangerouslyAllowSVG`) ran its scripts on the app's origin
 * when opened at `/_next/image?url=…`, which Next's defaults prevent, and an image opened there
 * showed in place where next start has the browser save it. As source, run inside the image
 * function: `(href, contentType, images)` → the two headers, the file's name as Next names it
 * (the URL's last segment up to its first dot, then the type's extension; `image.bin` without
 * one) and quoted as the `content-disposition` module quotes it (ISO-8859-1 in `filename`, UTF-8
 * in `filename*` when the name needs it).
 */
const imageHeadersSource = `function shiplogImageHeaders(href, contentType, config) {
  const images = config || {};
  const headers = {};
  if (typeof images.contentSecurityPolicy === 'string') headers['Content-Security-Policy'] = images.contentSecurityPolicy;
  const extensions = { 'image/svg+xml': 'svg', 'image/x-icon': 'ico', 'image/x-icns': 'icns', 'application/pdf': 'pdf' };
  const last = String(href).split('?', 1)[0].split('/').pop();
  const name = !contentType || !last ? 'image.bin'
    : last.split('.', 1)[0] + '.' + (extensions[contentType] || String(contentType).replace(/^[^/]*\\//, '').replace(/[+;].*$/, ''));
  const latin1 = name.replace(/[^\\x20-\\x7e\\xa0-\\xff]/g, '?');
  const quotable = /^[\\x20-\\x7e\\x80-\\xff]+$/.test(name);
  const params = [];
  if (quotable || latin1 !== name) params.push('filename="' + latin1.replace(/([\\\\"])/g, '\\\\$1') + '"');
  if (latin1 !== name || !quotable || /%[0-9A-Fa-f]{2}/.test(name)) {
    try {
      params.push("filename*=UTF-8''" + encodeURIComponent(name).replace(/[\\x00-\\x20"'()*,/:;<=>?@[\\\\\\]{}\\x7f]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()));
    } catch {
      // a lone surrogate: the ISO-8859-1 name alone
    }
  }
  const type = /^[!#$%&'*+.0-9A-Z^_\`a-z|~-]+$/.test(String(images.contentDispositionType)) ? String(images.contentDispositionType).toLowerCase() : 'attachment';
  headers['Content-Disposition'] = [type, ...params].join('; ');
  return headers;
}`;

/**
 * What the image function does with a local image its loader does not find (not a file of the
 * deployment's assets): asks the app for it at the origin the viewer asked (`x-forwarded-host` or
 * `host`, `x-forwarded-proto`), as next start's optimizer asks its own server, so an image a
 * route makes (`/icon`, `/opengraph-image`, a route handler) is optimized as under next start. The
 * answer goes to Next's optimizer as it came (status, type, cache-control, body), with its
 * status: a 404 stays one. Not asked: a path of the image optimizer itself, and anything without
 * a host. As source, run inside the image function: `(href, res, requestHeaders)`; it ends `res`.
 * Locally the function's fetch of `<label>.localhost` reaches the router (site-fetch.ts); on AWS
 * the origin is CloudFront's.
 */
const appImageSource = `async function shiplogAppImage(href, res, requestHeaders) {
  const headers = requestHeaders || {};
  const one = (v) => String(Array.isArray(v) ? v[0] : v || '').split(',')[0].trim();
  const host = one(headers['x-forwarded-host'] || headers.host);
  const path = String(href);
  if (host && /^\\/(?!\\/)/.test(path) && !/^\\/_next\\/image(?:[?/]|$)/.test(path)) {
    try {
      const proto = one(headers['x-forwarded-proto']) === 'http' ? 'http' : 'https';
      const answer = await fetch(proto + '://' + host + path, { redirect: 'manual', headers: { accept: 'image/*,*/*;q=0.8' }, signal: AbortSignal.timeout(10000) });
      const body = Buffer.from(await answer.arrayBuffer());
      res.statusCode = answer.status;
      for (const name of ['content-type', 'cache-control', 'etag']) {
        const value = answer.headers.get(name);
        if (value) res.setHeader(name.replace(/(^|-)\\w/g, (c) => c.toUpperCase()), value);
      }
      res.end(body);
      return;
    } catch (e) {
      console.error('shiplog: the app did not answer the image ' + path + ': ' + (e && e.message));
    }
  }
  res.statusCode = 404;
  res.end();
}`;

/**
 * Makes the image function answer as next start's image optimizer does. In the output's
 * `image-optimization-function/index.mjs` (OpenNext 4.1.12's, minified by its esbuild), four
 * places are found by their shape:
 * - the handler's last step, which hands the optimized image to the function that writes the
 *   answer, computes {@link imageHeadersSource}'s two headers from the image's URL, its type and
 *   the app's `images` config, and that function's headers carry them beside OpenNext's own;
 * - the handler's catch answers an error of Next's optimizer with a 4xx status (`ImageError`: not
 *   an image, an SVG without `dangerouslyAllowSVG`, a missing file) with that status and message,
 *   as next start does, where OpenNext answered every failure 500 "Internal server error";
 * - the download handler, for a file its loader does not find (`s3-lite`: "The specified key
 *   does not exist.", `s3`: `NoSuchKey`), asks the app for it ({@link appImageSource}, with the
 *   request's headers the handler now hands it), so an image a route makes is optimized and a
 *   missing one fails with 404, as under next start.
 * A bundle without all of those shapes is left as it is and counted apart. Returns
 * `[patched, not found]` (0 or 1 each: an output has one image function, or none).
 */
const imageResponseHeadersSource = `async function shiplogImageResponseHeaders(fsp, path, outputDir, replace) {
  const bundle = path.join(outputDir, 'image-optimization-function', 'index.mjs');
  let code;
  try {
    if (!(await fsp.lstat(bundle)).isFile()) return [0, 0];
    code = await fsp.readFile(bundle, 'utf8');
  } catch {
    return [0, 0];
  }
  if (code.includes('/*shiplog:imageHeaders*/')) return [0, 0]; // done before
  // No image origin (imagesOff took it out: the app's server answers /_next/image): nothing runs this bundle.
  try {
    const output = JSON.parse(await fsp.readFile(path.join(outputDir, 'open-next.output.json'), 'utf8'));
    if (output.origins && !output.origins.imageOptimizer) return [0, 0];
  } catch {
    // no readable output: the bundle is patched as before
  }
  // defaultHandler's last step: let result = await optimizeImage(headers, imageParams, nextConfig,
  // downloadHandler); return buildSuccessResponse(result, options?.streamCreator, etag)
  const handed = /let (\\w)=await [\\w$]+\\((\\w),(\\w),([\\w$]+),([\\w$]+)\\);return ([\\w$]+)\\(\\1,\\w\\?\\.streamCreator,\\w\\)/.exec(code);
  if (!handed) return [0, 1];
  const [, result, requestHeaders, params, config, download, success] = handed;
  // buildSuccessResponse(result, …) and its headers: { Vary, Content-Type, Cache-Control }
  const written = [...code.matchAll(/(function ([\\w$]+)\\((\\w),\\w,\\w\\)\\{let \\w=\\{Vary:"Accept","Content-Type":\\3\\.contentType,"Cache-Control":\`public,max-age=\\$\\{\\3\\.maxAge\\},immutable\`)\\}/g)]
    .find((m) => m[2] === success);
  // defaultHandler's catch: return error("Failed to optimize image", e), buildFailureResponse("Internal server error", options?.streamCreator)
  const failed = /catch\\((\\w)\\)\\{return ([\\w$]+)\\("Failed to optimize image",\\1\\),([\\w$]+)\\("Internal server error",(\\w)\\?\\.streamCreator\\)\\}/.exec(code);
  // downloadHandler(req, res, url) and its catch: throw error("Failed to download image", e), e
  const start = code.indexOf('async function ' + download + '(');
  const signature = start < 0 ? null : /^async function [\\w$]+\\((\\w),(\\w),(\\w)\\)\\{/.exec(code.slice(start));
  const caught = /catch\\((\\w)\\)\\{throw ([\\w$]+)\\("Failed to download image",\\1\\),\\1\\}/g;
  caught.lastIndex = Math.max(start, 0);
  const missing = signature ? caught.exec(code) : null;
  if (!written || !failed || !missing || missing.index - start > 4000) return [0, 1];
  const headers = ${JSON.stringify(imageHeadersSource)};
  const [, e, log, fail, options] = failed;
  const [, , res, url] = signature;
  const m = missing[1];
  const next = code
    .replace(handed[0], () => handed[0]
      .replace(',' + download + ');', ',function(q,s,u){return ' + download + '(q,s,u,' + requestHeaders + ')});')
      .replace(';return ', ';/*shiplog:imageHeaders*/' + result + '.shiplogHeaders=(' + headers + ')(' + params + '.href,' + result + '.contentType,' + config + '.images);return '))
    .replace(written[0], () => written[1] + ',...' + written[3] + '.shiplogHeaders}')
    .replace(failed[0], () => 'catch(' + e + '){return ' + log + '("Failed to optimize image",' + e + '),' + e + '&&' + e + '.statusCode>=400&&' + e + '.statusCode<500?' +
      fail + '(String(' + e + '.message),' + options + '?.streamCreator,' + e + '.statusCode):' + fail + '("Internal server error",' + options + '?.streamCreator)}')
    .replace(missing[0], () => 'catch(' + m + '){if(' + m + '&&(' + m + '.message==="The specified key does not exist."||' + m + '.name==="NoSuchKey"))' +
      'return (' + ${JSON.stringify(appImageSource)} + ')(' + url + '.href,' + res + ',arguments[3]);' + missing[0].slice(('catch(' + m + '){').length));
  await replace(bundle, next);
  return [1, 0];
}`;

type OutputFix<R> = (nodeFsp: typeof fsp, nodePath: typeof path, outputDir: string, replace: (file: string, text: string) => Promise<void>) => Promise<R>;
const outputFix = <R = number>(source: string): ((outputDir: string) => Promise<R>) => {
  const fix = new Function(`return ${source}`)() as OutputFix<R>;
  return (outputDir) => fix(fsp, path, outputDir, (file, text) => replaceInside(outputDir, file, text));
};

/**
 * An output fix as a CommonJS script for CodeBuild, `node script <output dir>` after `open-next
 * build`: a file is replaced as {@link replaceInside} does (written aside, never through a link
 * at that name, then renamed), and the build log's line is printed when it changed something (a
 * fix that returns `[changed, not found]` also prints its warning for what it could not change).
 * A failure is printed and exits non-zero.
 */
const outputFixScript = (source: string, line: (n: string) => string, warning?: (n: string) => string): string => `const fsp = require('node:fs/promises');
const path = require('node:path');
const replace = async (file, text) => {
  const aside = path.join(path.dirname(file), '.' + path.basename(file) + '.shiplog-' + process.pid);
  await fsp.writeFile(aside, text, { flag: 'wx' });
  await fsp.rename(aside, file);
};
(${source})(fsp, path, process.argv[2], replace).then((result) => {
  const [n, missing] = [].concat(result);
  if (n > 0) console.log(${JSON.stringify(line('<n>'))}.replace('<n>', String(n)));
  if (missing > 0) console.log(${JSON.stringify(warning?.('<n>') ?? '')}.replace('<n>', String(missing)));
});
`;

/**
 * `/_next/image` answered by the app's server, as next start answers it, when the app turned
 * Next's optimizer off: `images.unoptimized: true`, or a loader of its own (`images.loader` other
 * than `default`: the browser asks another service for its images). next start then has no image
 * route (a 404 page, or its trailing-slash redirect first). open-next build still makes its image
 * function and routes `_next/image*` to it, so shiplog resized and served images the app had
 * turned off. The output's `_next/image*` behaviour goes to the default server function instead,
 * and the image origin is taken out, so neither the local router nor the AWS site host (which
 * publishes an image function only for that origin) sends a request to it. Reads the config as
 * next build wrote it (`.next/required-server-files.json` of the first server function).
 */
const imagesOffSource = `async function shiplogImagesOff(fsp, path, outputDir, replace) {
  const dirs = await (${serverFunctionDirsSource})(fsp, path, outputDir);
  let images;
  for (const dir of dirs) {
    try {
      images = JSON.parse(await fsp.readFile(path.join(dir, '.next', 'required-server-files.json'), 'utf8')).config.images;
      break;
    } catch {
      // not this one
    }
  }
  if (!images || (images.unoptimized !== true && (images.loader || 'default') === 'default')) return 0;
  const file = path.join(outputDir, 'open-next.output.json');
  const output = JSON.parse(await fsp.readFile(file, 'utf8'));
  if (!output.origins || !output.origins.imageOptimizer || !output.origins.default) return 0;
  delete output.origins.imageOptimizer;
  output.behaviors = (output.behaviors || []).map((b) => (b.origin === 'imageOptimizer' ? { ...b, origin: 'default' } : b));
  await replace(file, JSON.stringify(output));
  return 1;
}`;

/** The build log's line for {@link imagesOff} (and the buildspec's step). */
export const imagesOffLine = (n: number | string): string =>
  `images: next.config turns Next's optimizer off (images.unoptimized or a custom loader): /_next/image goes to the app's server, which answers it as next start does (${n} output), not to an image function`;

/**
 * {@link imagesOffSource} on a packaged output. Returns 1 when it routed `/_next/image` to the server.
 *
 * @example
 * await imagesOff(artifactDir); // 1 for an app with images: { unoptimized: true }
 */
export const imagesOff = outputFix(imagesOffSource);

/** {@link imagesOff} as the buildspec's script (see {@link outputFixScript}). */
export const imagesOffScript = outputFixScript(imagesOffSource, imagesOffLine);

/** The build log's line for {@link nextTrailingSlashRedirects} (and the buildspec's step), for `n` redirects. */
export const trailingSlashRedirectsLine = (n: number | string): string =>
  `routes manifest: Next's ${n} trailing-slash redirect(s) handed to OpenNext's routing, which skips them (so /api/ paths and files answer with or without the slash as next start redirects them)`;

/**
 * {@link trailingSlashRedirectsSource} on a packaged output. Returns how many redirects it handed over.
 *
 * @example
 * await nextTrailingSlashRedirects(artifactDir); // 1 for an app without trailingSlash
 */
export const nextTrailingSlashRedirects = outputFix(trailingSlashRedirectsSource);

/** {@link nextTrailingSlashRedirects} as the buildspec's script (see {@link outputFixScript}). */
export const trailingSlashRedirectsScript = outputFixScript(trailingSlashRedirectsSource, trailingSlashRedirectsLine);

/** The build log's line for {@link pagesFallbackEntries} (and the buildspec's step), for `n` entries. */
export const pagesFallbackEntriesLine = (n: number | string): string =>
  `cache: ${n} Pages Router fallback page(s) (fallback: true) typed as Pages entries, which open-next build wrote as App Router ones (they answered 500)`;

/**
 * {@link pagesFallbackEntriesSource} on a packaged output. Returns how many entries it changed.
 *
 * @example
 * await pagesFallbackEntries(artifactDir); // 1 for pages/posts/[id].js with fallback: true
 */
export const pagesFallbackEntries = outputFix(pagesFallbackEntriesSource);

/** {@link pagesFallbackEntries} as the buildspec's script (see {@link outputFixScript}). */
export const pagesFallbackEntriesScript = outputFixScript(pagesFallbackEntriesSource, pagesFallbackEntriesLine);

/** The build log's line for {@link routingLocales} (and the buildspec's step), for `n` server functions. */
export const routingLocalesLine = (n: number | string): string =>
  `routing: i18n: OpenNext's routing made to localize paths as Next does in ${n} server function(s) (the locale after the basePath; a path without one is the default locale's), so the middleware and next.config redirects, rewrites and headers match them`;

/** The build log's warning for {@link routingLocales}, for `n` server functions whose bundle it could not change. */
export const routingLocalesWarning = (n: number | string): string =>
  `warning: i18n: OpenNext's locale routing was not found in ${n} server function bundle(s), left as they are: with a basePath, the middleware and next.config redirects, rewrites and headers will not match requests (another OpenNext than 4.1.12?)`;

/**
 * {@link routingLocalesSource} on a packaged output. Returns `[patched, not found]` server functions.
 *
 * @example
 * await routingLocales(artifactDir); // [1, 0] for a Pages Router app with i18n
 */
export const routingLocales = outputFix<[number, number]>(routingLocalesSource);

/** {@link routingLocales} as the buildspec's script (see {@link outputFixScript}). */
export const routingLocalesScript = outputFixScript(routingLocalesSource, routingLocalesLine, routingLocalesWarning);

/** The build log's line for {@link imageResponseHeaders} (and the buildspec's step). */
export const imageResponseHeadersLine = (n: number | string): string =>
  `images: the image function answers as next start does (${n} function): Content-Disposition and Content-Security-Policy from next.config images, an image a route makes asked of the app, a missing file 404, an image Next refuses 4xx`;

/** The build log's warning for {@link imageResponseHeaders}. */
export const imageResponseHeadersWarning = (n: number | string): string =>
  `warning: images: OpenNext's image function was not found in its bundle (${n}), left as it is: /_next/image answers without Content-Disposition and Content-Security-Policy, and every failure 500 (another OpenNext than 4.1.12?)`;

/**
 * {@link imageResponseHeadersSource} on a packaged output. Returns `[patched, not found]`.
 *
 * @example
 * await imageResponseHeaders(artifactDir); // [1, 0] for an output with an image function
 */
export const imageResponseHeaders = outputFix<[number, number]>(imageResponseHeadersSource);

/** {@link imageResponseHeaders} as the buildspec's script (see {@link outputFixScript}). */
export const imageResponseHeadersScript = outputFixScript(imageResponseHeadersSource, imageResponseHeadersLine, imageResponseHeadersWarning);

/** {@link imageHeadersSource} as a function, for tests. */
export const imageHeaders = new Function(`return ${imageHeadersSource}`)() as (href: string, contentType: string | undefined, images: { contentSecurityPolicy?: string; contentDispositionType?: string }) => Record<string, string>;
