import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';

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
  return (path: string): string => {
    const p = path.replace(/^\/+/, '');
    return rules.find((r) => r.re.test(p))?.origin ?? fallback;
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

/** Hashed build output never changes under its name; everything else is revalidated. */
const cacheControlFor = (path: string) =>
  path.startsWith('/_next/static/') ? 'public, max-age=31536000, immutable' : 'public, max-age=0, must-revalidate';

/**
 * Serves a file of a version's `assets/` the way S3 behind CloudFront would: GET and HEAD only,
 * `cache-control` by path, a weak ETag (size and mtime; version directories are immutable) with
 * `304` on `If-None-Match`. Answers `false` without writing when there is no such file.
 *
 * @example
 * if (!(await serveAsset(req, res, join(versionDir, 'assets'), '/hello.txt', extra))) notFound(res);
 */
export const serveAsset = async (
  req: IncomingMessage,
  res: ServerResponse,
  assetsDir: string,
  path: string,
  extraHeaders: Record<string, string>,
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
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', ...extraHeaders }).end();
    return true;
  }
  const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const headers = { 'cache-control': cacheControlFor(decoded), etag, ...extraHeaders };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers).end();
    return true;
  }
  res.writeHead(200, {
    ...headers,
    'content-type': contentTypes[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'content-length': info.size,
    'last-modified': info.mtime.toUTCString(),
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).on('error', () => res.destroy()).pipe(res);
  return true;
};
