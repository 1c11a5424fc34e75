import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { compressedFiles, compressibleSize, compressibleType, encodingFor, varyWithEncoding } from './compression.ts';

/**
 * One routing rule of OpenNext's `open-next.output.json`, as CloudFront would apply it: a path
 * pattern (no leading slash; `*` any characters, `?` one) and the origin that serves it.
 *
 * @example
 * const b: Behavior = { pattern: '_next/image*', origin: 'imageOptimizer' };
 */
export interface Behavior {
  pattern: string;
  origin?: string;
}

const toRegExp = (pattern: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);

/**
 * Compiles behaviors into a matcher. Like CloudFront, `*` is the default behavior and applies
 * only when no other pattern matches, whatever its position in the list.
 *
 * @example
 * const match = behaviorMatcher(output.behaviors);
 * match('/_next/static/chunks/a.js'); // 's3'
 * match('/ssr'); // 'default'
 */
export const behaviorMatcher = (behaviors: Behavior[]) => {
  const rules = behaviors.filter((b) => b.pattern !== '*' && b.origin).map((b) => ({ re: toRegExp(b.pattern), origin: b.origin! }));
  const fallback = behaviors.find((b) => b.pattern === '*')?.origin ?? 'default';
  const decode = (p: string) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  };
  return (path: string): string => {
    const p = path.replace(/^\/+/, '');
    // OpenNext writes a public file's pattern with its own name (my file.txt); the path comes
    // percent-encoded (my%20file.txt), and next start serves the file by the decoded name.
    const decoded = decode(p);
    return rules.find((r) => r.re.test(p) || r.re.test(decoded))?.origin ?? fallback;
  };
};

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.txt': 'text/plain; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.json': 'application/json',
  '.map': 'application/json', '.xml': 'application/xml', '.webmanifest': 'application/manifest+json',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp',
  '.avif': 'image/avif', '.svg': 'image/svg+xml', '.ico': 'image/x-icon', '.woff': 'font/woff', '.woff2': 'font/woff2',
  '.ttf': 'font/ttf', '.otf': 'font/otf', '.wasm': 'application/wasm', '.pdf': 'application/pdf', '.mp4': 'video/mp4',
  '.webm': 'video/webm', '.mp3': 'audio/mpeg',
};

/** One `has`/`missing` condition of a `next.config` rule, as `routes-manifest.json` holds it. */
interface Condition {
  type: 'header' | 'cookie' | 'query' | 'host';
  key?: string;
  value?: string;
}

interface Rule {
  re: RegExp;
  /** The names of the source's parameters, in the order of the regex's capturing groups. */
  params: string[];
  has?: Condition[];
  missing?: Condition[];
}

/**
 * The `headers()` and `redirects()` of an app's `next.config`, compiled from the
 * `routes-manifest.json` of its build: what `next start` applies to public and static files too.
 *
 * @example
 * const rules = await nextConfigRules(versionDir);
 * rules.headers.length; // 2
 */
export interface NextConfigRules {
  headers: (Rule & { headers: { key: string; value: string }[] })[];
  redirects: (Rule & { destination: string; statusCode: number })[];
}

interface ManifestRule {
  source: string;
  regex: string;
  has?: Condition[];
  missing?: Condition[];
}

const findRoutesManifest = async (dir: string, depth: number): Promise<string | undefined> => {
  const direct = join(dir, '.next', 'routes-manifest.json');
  if (await stat(direct).then((s) => s.isFile(), () => false)) return direct;
  if (depth === 0) return undefined;
  // A monorepo app's server sits under its package path (server-functions/default/apps/web/.next).
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (!e.isDirectory() || e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const found = await findRoutesManifest(join(dir, e.name), depth - 1);
    if (found) return found;
  }
  return undefined;
};

const compile = (r: ManifestRule, caseSensitive: boolean): Rule => ({
  re: new RegExp(r.regex, caseSensitive ? '' : 'i'),
  params: [...r.source.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!),
  has: r.has,
  missing: r.missing,
});

/**
 * Reads the `next.config` rules of a published OpenNext version (from the build's
 * `routes-manifest.json` in its default server function); none when there is no manifest.
 *
 * @example
 * const rules = await nextConfigRules('/data/sites/web/01JD…');
 */
export const nextConfigRules = async (versionDir: string): Promise<NextConfigRules> => {
  const none: NextConfigRules = { headers: [], redirects: [] };
  const output = JSON.parse(await readFile(join(versionDir, 'open-next.output.json'), 'utf8').catch(() => '{}')) as { origins?: Record<string, { type?: string; bundle?: string }> };
  const bundle = output.origins?.default?.bundle;
  if (!bundle) return none;
  const fnDir = resolve(versionDir, relative('.open-next', bundle));
  if (!fnDir.startsWith(resolve(versionDir) + sep)) return none;
  const file = await findRoutesManifest(fnDir, 3);
  if (!file) return none;
  const m = JSON.parse(await readFile(file, 'utf8')) as {
    caseSensitive?: boolean;
    headers?: (ManifestRule & { headers: { key: string; value: string }[] })[];
    redirects?: (ManifestRule & { destination: string; statusCode?: number; permanent?: boolean })[];
  };
  const cs = Boolean(m.caseSensitive);
  return {
    headers: (m.headers ?? []).map((r) => ({ ...compile(r, cs), headers: r.headers })),
    redirects: (m.redirects ?? []).map((r) => ({ ...compile(r, cs), destination: r.destination, statusCode: r.statusCode ?? (r.permanent ? 308 : 307) })),
  };
};

const cookieOf = (req: IncomingMessage, name: string): string | undefined => {
  for (const part of String(req.headers.cookie ?? '').split(/;\s*/)) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq) === name) return part.slice(eq + 1);
  }
  return undefined;
};

// As Next's matchHas: the condition holds when the item is there and, if a value is given, matches it whole.
const holds = (c: Condition, req: IncomingMessage, query: URLSearchParams): boolean => {
  const key = c.key ?? '';
  const actual =
    c.type === 'header' ? (req.headers[key.toLowerCase()] as string | string[] | undefined)?.toString()
    : c.type === 'cookie' ? cookieOf(req, key)
    : c.type === 'query' ? (query.get(key) ?? undefined)
    : String(req.headers.host ?? '').replace(/:\d+$/, '');
  if (actual === undefined) return false;
  return c.value === undefined || new RegExp(`^(?:${c.value})$`).test(actual);
};

const matches = (rule: Rule, req: IncomingMessage, path: string, query: URLSearchParams): RegExpExecArray | undefined => {
  const m = rule.re.exec(path);
  if (!m) return undefined;
  if (rule.has && !rule.has.every((c) => holds(c, req, query))) return undefined;
  if (rule.missing && rule.missing.some((c) => holds(c, req, query))) return undefined;
  return m;
};

/**
 * The `next.config` `headers()` that apply to a request, later rules overriding earlier ones
 * for the same header, as under `next start`.
 *
 * @example
 * configHeaders(rules, req, '/hello.txt'); // { 'x-fixture-file': 'public' }
 */
export const configHeaders = (rules: NextConfigRules, req: IncomingMessage, path: string): Record<string, string> => {
  const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
  const out: Record<string, string> = {};
  for (const rule of rules.headers) {
    if (!matches(rule, req, path, query)) continue;
    for (const h of rule.headers) out[h.key.toLowerCase()] = h.value;
  }
  return out;
};

/**
 * The first `next.config` redirect whose source matches the request, with its parameters put
 * into the destination and the request's query kept (when the destination has none), or undefined.
 *
 * @example
 * configRedirect(rules, req, '/moved.txt'); // { location: '/hello.txt', statusCode: 307 }
 */
export const configRedirect = (rules: NextConfigRules, req: IncomingMessage, path: string): { location: string; statusCode: number } | undefined => {
  const search = (req.url ?? '').split('?')[1];
  const query = new URLSearchParams(search ?? '');
  for (const rule of rules.redirects) {
    const m = matches(rule, req, path, query);
    if (!m) continue;
    const values = new Map(rule.params.map((name, i) => [name, m[i + 1] ?? '']));
    let location = rule.destination.replace(/:([A-Za-z0-9_]+)[*+?]?/g, (whole, name: string) => (values.has(name) ? values.get(name)! : whole));
    if (search && !location.includes('?')) location += `?${search}`;
    return { location, statusCode: rule.statusCode };
  }
  return undefined;
};

const rulesByVersion = new Map<string, Promise<NextConfigRules>>();
/** A version's rules, read once (version directories never change). */
const rulesOf = (versionDir: string): Promise<NextConfigRules> => {
  let r = rulesByVersion.get(versionDir);
  if (!r) rulesByVersion.set(versionDir, (r = nextConfigRules(versionDir).catch(() => ({ headers: [], redirects: [] }))));
  return r;
};

/** Hashed build output never changes under its name; everything else is revalidated. */
const cacheControlFor = (path: string) =>
  path.startsWith('/_next/static/') ? 'public, max-age=31536000, immutable' : 'public, max-age=0, must-revalidate';

// Compressed copies of the files served, shared by every version (their files never change).
const compressed = compressedFiles();

/**
 * Serves a file of a version's `assets/` the way S3 behind CloudFront would: GET and HEAD only,
 * `cache-control` by path, a weak ETag (size and mtime; version directories are immutable) with
 * `304` on `If-None-Match`, text compressed as CloudFront compresses it (Brotli or gzip, by the
 * request's `Accept-Encoding`). Answers `false` without writing when there is no such file. As under
 * `next start`, the app's `next.config` redirects apply first and its `headers()` are added
 * (read from the version's `routes-manifest.json`, beside `assets/`).
 *
 * @example
 * if (!(await serveAsset(req, res, join(versionDir, 'assets'), '/hello.txt', extra))) notFound(res);
 *
 * `requestPath` is the path the viewer asked for, which the rules are matched against: with a
 * basePath, `/docs/hello.txt` for the file `/hello.txt` (Next compiles the basePath into every source).
 */
export const serveAsset = async (
  req: IncomingMessage,
  res: ServerResponse,
  assetsDir: string,
  path: string,
  extraHeaders: Record<string, string>,
  requestPath: string = path,
): Promise<boolean> => {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return false;
  }
  const root = resolve(assetsDir);
  const file = resolve(root, `.${decoded}`);
  if (!file.startsWith(root + sep)) return false;
  const rules = await rulesOf(dirname(root));
  const redirect = configRedirect(rules, req, requestPath);
  if (redirect) {
    const refresh: Record<string, string> = redirect.statusCode === 308 ? { refresh: `0;url=${redirect.location}` } : {};
    res.writeHead(redirect.statusCode, { location: redirect.location, ...refresh, ...extraHeaders }).end(redirect.location);
    return true;
  }
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) return false;
  const fromConfig = configHeaders(rules, req, requestPath);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', ...fromConfig, ...extraHeaders }).end();
    return true;
  }
  const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const type = contentTypes[extname(file).toLowerCase()] ?? 'application/octet-stream';
  // As CloudFront compresses (and `next start`): a text file of 1,000 bytes to 10 MB, in Brotli or
  // gzip as the client accepts, its body depending on `Accept-Encoding`. The weak ETag stays: the
  // encodings are the same file.
  const compressible = compressibleType(type) && compressibleSize(info.size);
  const headers: OutgoingHttpHeaders = { 'cache-control': cacheControlFor(decoded), etag, ...fromConfig, ...extraHeaders };
  if (compressible) headers.vary = varyWithEncoding(headers.vary);
  const lastModified = info.mtime.toUTCString();
  if (notModified(req, etag, lastModified)) {
    res.writeHead(304, { ...headers, 'last-modified': lastModified }).end();
    return true;
  }
  // A byte range (a video's seek, a resumed download), as S3 behind CloudFront and next start
  // answer one: the file's bytes as they are, never compressed.
  const range = byteRange(req, info.size, etag, lastModified);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'content-range': `bytes */${info.size}`, 'content-type': type, 'content-length': 0 }).end();
    return true;
  }
  const encoding = compressible && !range ? encodingFor(req.headers['accept-encoding']) : undefined;
  const body = encoding ? await compressed.get(file, etag, encoding).catch(() => undefined) : undefined;
  const length = range ? range.end - range.start + 1 : body ? body.length : info.size;
  res.writeHead(range ? 206 : 200, {
    ...headers,
    'accept-ranges': 'bytes',
    'content-type': type,
    ...(range ? { 'content-range': `bytes ${range.start}-${range.end}/${info.size}` } : {}),
    ...(body ? { 'content-encoding': encoding } : {}),
    'content-length': length,
    'last-modified': lastModified,
  });
  if (req.method === 'HEAD') res.end();
  else if (body) res.end(body);
  else createReadStream(file, range ?? {}).on('error', () => res.destroy()).pipe(res);
  return true;
};

const httpDate = (value: string | undefined): number => (value ? Date.parse(value) : Number.NaN);

/**
 * Whether a conditional GET is answered 304 (RFC 9110 13.2.2): `If-None-Match` names the file's
 * ETag (weakly compared, in a list, or `*`); without one, `If-Modified-Since` is not before its
 * last modification (to the second, as `Last-Modified` says it).
 *
 * @example
 * notModified(req, 'W/"10-a"', 'Mon, 07 Dec 2026 10:00:00 GMT'); // true for if-none-match: "10-a"
 */
export const notModified = (req: IncomingMessage, etag: string, lastModified: string): boolean => {
  const match = req.headers['if-none-match'];
  if (match !== undefined) {
    const bare = (t: string) => t.trim().replace(/^W\//, '');
    return match.trim() === '*' || match.split(',').some((t) => bare(t) === bare(etag));
  }
  const since = httpDate(req.headers['if-modified-since']);
  return !Number.isNaN(since) && httpDate(lastModified) <= since;
};

/**
 * The one byte range a GET asks for (`Range: bytes=…`, RFC 9110 14), as inclusive offsets into a
 * file of `size` bytes: `first-last`, `first-` and `-suffix` forms, a last byte past the end cut
 * to it, overlapping or adjacent ranges merged. `undefined` sends the whole file: no range, not
 * bytes, an `If-Range` the file no longer matches, or several ranges apart (as next start
 * answers them); `'unsatisfiable'` when no part names a byte of the file (416).
 *
 * @example
 * byteRange(req, 1000, etag, lastModified); // { start: 0, end: 99 } for range: bytes=0-99
 */
export const byteRange = (req: IncomingMessage, size: number, etag: string, lastModified: string): { start: number; end: number } | 'unsatisfiable' | undefined => {
  const header = req.headers.range;
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
  const spec = /^\s*bytes=(.*)$/i.exec(header ?? '');
  if (!spec) return undefined;
  const ifRange = req.headers['if-range'] === undefined ? undefined : String(req.headers['if-range']);
  if (ifRange !== undefined) {
    const fresh = ifRange.includes('"') ? ifRange.trim() === etag : httpDate(lastModified) <= httpDate(ifRange);
    if (!fresh) return undefined;
  }
  const ranges: { start: number; end: number }[] = [];
  // A part that names no byte of the file (or is not a range) is left out.
  for (const part of spec[1]!.split(',')) {
    const m = /^\s*(\d*)\s*-\s*(\d*)\s*$/.exec(part);
    if (!m || (m[1] === '' && m[2] === '')) continue;
    // A suffix longer than the file is all of it (RFC 9110 14.1.2, as S3 answers it).
    const start = m[1] === '' ? (Number(m[2]) === 0 ? size : Math.max(0, size - Number(m[2]))) : Number(m[1]);
    const end = m[1] === '' || m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (start >= 0 && start <= end) ranges.push({ start, end });
  }
  if (ranges.length === 0) return 'unsatisfiable';
  ranges.sort((a, b) => a.start - b.start);
  const merged = [ranges[0]!];
  for (const r of ranges.slice(1)) {
    const last = merged[merged.length - 1]!;
    if (r.start > last.end + 1) merged.push(r);
    else last.end = Math.max(last.end, r.end);
  }
  return merged.length === 1 ? merged[0] : undefined;
};
