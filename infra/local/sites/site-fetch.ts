import { request } from 'node:http';
import type { SiteFetchRequest, SiteFetchResponse } from './function-pool.ts';
import { parseSiteAddress } from './host.ts';

/** Not forwarded: hop-by-hop, the length (recomputed), and accept-encoding (the function reads the body as sent, as fetch would decode it). */
const dropRequest = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'proxy-connection', 'accept-encoding', 'expect']);
const dropResponse = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

/**
 * How a function's request to a site of the router (`<label>.<domain>`) is answered: sent to the
 * router's own port with the host it named, whatever port its URL says, as on AWS it would reach
 * CloudFront. Only site hosts under `domain` are sent; anything else is refused.
 *
 * @example
 * const pool = functionPool({ sites: { domain: 'localhost', fetch: siteFetch({ domain: 'localhost', port: () => server.port() }) } });
 */
export const siteFetch =
  (opts: { domain: string; port: () => number; hostname?: string }) =>
  (r: SiteFetchRequest): Promise<SiteFetchResponse> =>
    new Promise((resolve, reject) => {
      const url = new URL(r.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return reject(new Error(`not an http URL: ${r.url}`));
      if (!parseSiteAddress(url.host, opts.domain)) return reject(new Error(`not a site of this router: ${url.host}`));
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of r.headers) {
        const name = k.toLowerCase();
        if (dropRequest.has(name) || name === 'host') continue;
        headers[name] = headers[name] === undefined ? v : ([] as string[]).concat(headers[name], v);
      }
      headers.host = url.host;
      // The router serves plain HTTP; an https:// origin (OpenNext's default scheme) is the same site.
      headers['x-forwarded-proto'] ??= url.protocol.slice(0, -1);
      const body = r.body && r.body.length > 0 ? Buffer.from(r.body) : undefined;
      if (body) headers['content-length'] = String(body.length);
      const bind = opts.hostname && opts.hostname !== '0.0.0.0' && opts.hostname !== '::' ? opts.hostname : '127.0.0.1';
      const req = request({ host: bind, port: opts.port(), method: r.method, path: `${url.pathname}${url.search}`, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const out: [string, string][] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            const name = res.rawHeaders[i]!.toLowerCase();
            if (!dropResponse.has(name)) out.push([name, res.rawHeaders[i + 1]!]);
          }
          resolve({ status: res.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
