import { readFile } from 'node:fs/promises';
import type { OutgoingHttpHeaders } from 'node:http';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

/** The encodings the router writes, CloudFront's two. */
export type Encoding = 'br' | 'gzip';

/**
 * The encoding to answer a request with, as CloudFront picks it: Brotli when the client accepts
 * both, else gzip, else none. A token with `q=0` is refused; `*` accepts both.
 *
 * @example
 * encodingFor('gzip, deflate, br'); // 'br'
 * encodingFor('gzip;q=1, br;q=0'); // 'gzip'
 * encodingFor(undefined); // undefined
 */
export const encodingFor = (acceptEncoding: string | string[] | undefined): Encoding | undefined => {
  const accepted = new Map<string, number>();
  for (const part of [acceptEncoding ?? ''].flat().join(',').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    accepted.set(name, Number.isFinite(weight) ? weight : 0);
  }
  const ok = (name: Encoding) => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0;
  return ok('br') ? 'br' : ok('gzip') ? 'gzip' : undefined;
};

/**
 * Whether CloudFront (and `next start`) would compress a file of this content type: text, scripts,
 * JSON, XML, SVG, icons and uncompressed fonts. Images, video, audio, PDFs and woff/woff2 fonts are
 * compressed already.
 *
 * @example
 * compressibleType('text/javascript; charset=utf-8'); // true
 * compressibleType('image/png'); // false
 */
export const compressibleType = (contentType: string): boolean =>
  /^(text\/|application\/(javascript|json|manifest\+json|ld\+json|xml|rss\+xml|atom\+xml|xhtml\+xml|wasm|vnd\.ms-fontobject)\b|image\/(svg\+xml|x-icon|vnd\.microsoft\.icon)\b|font\/(ttf|otf)\b)/i
    .test(contentType);

/** CloudFront compresses files of 1,000 bytes to 10,000,000 bytes; outside that it serves them as they are. */
export const compressibleSize = (bytes: number): boolean => bytes >= 1000 && bytes <= 10_000_000;

/**
 * A `vary` header value with `Accept-Encoding` in it (once): the body of a response that carries
 * it depends on the request's `Accept-Encoding`. `*` stays `*`.
 *
 * @example
 * varyWithEncoding('rsc, next-url'); // 'rsc, next-url, Accept-Encoding'
 * varyWithEncoding(undefined); // 'Accept-Encoding'
 */
export const varyWithEncoding = (vary: OutgoingHttpHeaders[string]): string => {
  const names = [vary ?? []].flat().map(String).join(',').split(',').map((s) => s.trim()).filter(Boolean);
  if (names.includes('*')) return '*';
  if (!names.some((n) => n.toLowerCase() === 'accept-encoding')) names.push('Accept-Encoding');
  return names.join(', ');
};

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/**
 * Compressed copies of immutable files, kept while they fit in `maxBytes` (the least recently used
 * go first). A version's files never change under their name, so `tag` (the file's size and mtime)
 * only guards a file replaced in a test; two requests for a file not yet compressed share one
 * compression.
 *
 * @example
 * const cache = compressedFiles();
 * const body = await cache.get('/v/assets/_next/static/a.js', 'W/"1b7d2-…"', 'br');
 */
export const compressedFiles = (maxBytes = 64 * 1024 * 1024) => {
  const entries = new Map<string, Promise<Buffer>>();
  const sizes = new Map<string, number>();
  let total = 0;
  const evict = () => {
    for (const key of entries.keys()) {
      if (total <= maxBytes) break;
      const size = sizes.get(key);
      if (size === undefined) continue; // still compressing
      entries.delete(key);
      sizes.delete(key);
      total -= size;
    }
  };
  return {
    get(file: string, tag: string, encoding: Encoding): Promise<Buffer> {
      const key = `${encoding}\0${tag}\0${file}`;
      const hit = entries.get(key);
      if (hit) {
        entries.delete(key);
        entries.set(key, hit); // most recently used last
        return hit;
      }
      const made = readFile(file).then((raw) =>
        encoding === 'br'
          ? brotli(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } })
          : gzipAsync(raw, { level: 6 }),
      );
      entries.set(key, made);
      made.then(
        (body) => {
          if (entries.get(key) !== made) return;
          sizes.set(key, body.length);
          total += body.length;
          evict();
        },
        () => entries.delete(key),
      );
      return made;
    },
    /** Bytes of compressed copies kept. */
    get bytes() {
      return total;
    },
  };
};
