import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The config file the runner hands to `open-next build --config-path`, next to the app's own.
 *
 * @example
 * join(appDir, shiplogConfigFile); // '<app>/open-next.shiplog.config.ts'
 */
export const shiplogConfigFile = 'open-next.shiplog.config.ts';

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
 * it exists, starts empty when it does not, and keeps `revalidateTag` writes in memory, as
 * `fs-dev` does; keys carry the build id like OpenNext's own.
 */
const localPieces = `const assetTypes = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif',
  '.webp': 'image/webp', '.avif': 'image/avif', '.svg': 'image/svg+xml', '.ico': 'image/x-icon' };

const localAssetsLoader = async () => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  // __dirname is the function's directory (OpenNext's config banner); assets/ is its sibling.
  const root = path.resolve(__dirname, '..', 'assets');
  return {
    name: 'shiplog-local-assets',
    load: async (url) => {
      const file = path.resolve(root, '.' + decodeURIComponent(url.split('?')[0]));
      if (!file.startsWith(root + path.sep)) throw new Error('image path outside assets: ' + url);
      await fs.promises.access(file);
      return {
        body: fs.createReadStream(file),
        contentType: assetTypes[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
        cacheControl: 'public, max-age=0, must-revalidate',
      };
    },
  };
};

const localTagCache = async () => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  // The version's root (where open-next.output.json sits) is a few levels above the function's cwd.
  let dir = process.cwd();
  for (let i = 0; i < 8 && !fs.existsSync(path.join(dir, 'open-next.output.json')); i++) dir = path.dirname(dir);
  const file = path.join(dir, 'dynamodb-provider', 'dynamodb-cache.json');
  const entries = [];
  if (fs.existsSync(file)) {
    for (const e of JSON.parse(fs.readFileSync(file, 'utf8'))) {
      entries.push({ tag: e.tag.S, path: e.path.S, revalidatedAt: Number(e.revalidatedAt?.N ?? 1),
        stale: e.stale?.N === undefined ? undefined : Number(e.stale.N), expire: e.expire?.N === undefined ? undefined : Number(e.expire.N) });
    }
  }
  const buildId = process.env.OPEN_NEXT_BUILD_ID ?? '';
  const key = (k) => path.posix.join(buildId, k);
  const unkey = (k) => (buildId && k.startsWith(buildId + '/') ? k.slice(buildId.length + 1) : k);
  return {
    name: 'shiplog-local-tags',
    mode: 'original',
    getByPath: async (p) => entries.filter((e) => e.path === key(p)).map((e) => unkey(e.tag)),
    getByTag: async (t) => entries.filter((e) => e.tag === key(t)).map((e) => unkey(e.path)),
    getLastModified: async (p, lastModified) => {
      const since = lastModified ?? 0;
      const now = Date.now();
      const mine = entries.filter((e) => e.path === key(p));
      const expired = mine.some((e) => e.expire !== undefined && e.expire <= now && e.expire > since);
      const revalidated = mine.some((e) => e.revalidatedAt > since && (e.expire === undefined || e.expire > now));
      return expired || revalidated ? -1 : (lastModified ?? now);
    },
    isStale: async (p, lastModified) => {
      const since = lastModified ?? 0;
      return entries.some((e) => e.path === key(p) && e.stale !== undefined && e.stale > since && e.revalidatedAt > since);
    },
    writeTags: async (written) => {
      for (const w of written) {
        const tag = key(w.tag);
        const p = key(w.path);
        const i = entries.findIndex((e) => e.tag === tag && e.path === p);
        const entry = { tag, path: p, revalidatedAt: w.revalidatedAt ?? Date.now(), stale: w.stale, expire: w.expire };
        if (i >= 0) entries[i] = entry;
        else entries.push(entry);
      }
    },
  };
};

// What binds a function to this machine: the router speaks API Gateway v2 to the streaming
// wrapper (Suspense shells and route-handler streams reach the client as they are produced,
// and after()/waitUntil work runs once the response has ended); ISR lives in the version's
// cache/ and regenerates in-process. The image function stays buffered: it answers whole files.
const localOverride = { wrapper: 'aws-lambda-streaming', converter: 'aws-apigw-v2', incrementalCache: 'fs-dev', tagCache: localTagCache, queue: 'direct' };
const localImageOptimization = {
  loader: localAssetsLoader,
  override: { wrapper: 'aws-lambda', converter: 'aws-apigw-v2' },
  install: { packages: ['sharp@' + (process.env.SHARP_VERSION ?? '0.35.5')], os: process.platform, arch: process.arch },
};
`;

/**
 * The OpenNext config for an app served by the local router, when the app brings none: the
 * `aws-lambda-streaming` wrapper (responses stream through the router as Lambda response
 * streaming does; `after()` callbacks run once the response has ended) with the API Gateway v2
 * converter (the router speaks that event format),
 * ISR on the local disk of the version directory (`fs-dev`), a tag cache that works for every
 * app shape (see `localPieces`), revalidation in-process (`direct` queue), and an image loader
 * reading the version's `assets/`.
 *
 * @example
 * await writeFile(join(appDir, shiplogConfigFile), localOpenNextConfig);
 */
export const localOpenNextConfig = `// Written by shiplog's local build runner.
${localPieces}
export default {
  buildCommand: 'exit 0',
  default: { override: localOverride },
  imageOptimization: localImageOptimization,
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
// Named overrides that need AWS; anything else the app wrote (a function of its own, dummy, fs-dev) is its choice.
const awsNamed = new Set(['s3', 's3-lite', 'multi-tier-ddb-s3', 'dynamodb', 'dynamodb-lite', 'dynamodb-nextMode', 'sqs', 'sqs-lite', 'cloudfront']);
const localFunction = (name, fn) => {
  const { override = {}, ...rest } = fn ?? {};
  for (const k of Object.keys(rest)) kept.push(name + '.' + k);
  const out = { ...override };
  for (const [k, v] of Object.entries(localOverride)) {
    const theirs = override[k];
    const keep = theirs !== undefined && k !== 'wrapper' && k !== 'converter' && (typeof theirs === 'function' || !awsNamed.has(theirs)) && !(k === 'tagCache' && theirs === 'fs-dev');
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
  for (const k of Object.keys(override)) if (!(k in localOverride) && k !== 'cdnInvalidation') kept.push(name + '.override.' + k);
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
for (const k of ['dangerous', 'appPath', 'buildOutputPath', 'packageJsonPath', 'edgeExternals']) if (app[k] !== undefined) kept.push(k);
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
