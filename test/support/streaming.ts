import { request, type IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** A response read as it arrives. */
export interface Streaming {
  status: number;
  headers: IncomingHttpHeaders;
  /** Resolves with the text so far once `seen` holds (fails if the response ends first). */
  until(seen: (text: string) => boolean): Promise<string>;
  /** The whole text, once the response has ended. */
  end(): Promise<string>;
  ended(): boolean;
  /** Leaves, as a browser closing the tab. */
  close(): void;
}

/**
 * Opens a request to a server on this machine and reads its response as it arrives (a gzip body
 * decoded block by block), so a test can wait for a part and see that the rest has not come yet.
 *
 * @example
 * const page = await openStreaming({ port: sitesPort, host: 'web.localhost' }, '/suspense?id=1');
 * await page.until((t) => t.includes('id="fallback"'));
 */
export const openStreaming = (server: { port: number; host: string }, path: string, headers: Record<string, string> = {}) =>
  new Promise<Streaming>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, agent: false, headers: { host: `${server.host}:${server.port}`, ...headers } }, (res) => {
      // A compressed stream is decoded as it comes: each flushed block reads on its own.
      const body: Readable = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res;
      let text = '';
      let done = false;
      let failure: Error | undefined;
      const waiters = new Set<() => void>();
      const wake = () => waiters.forEach((w) => w());
      body.setEncoding('utf8');
      body.on('data', (c: string) => ((text += c), wake()));
      body.on('end', () => ((done = true), wake()));
      body.on('error', (e) => ((failure = e), wake()));
      const wait = (ok: () => boolean) =>
        new Promise<string>((settle, fail) => {
          const check = () => {
            if (ok()) return waiters.delete(check), settle(text);
            if (failure || done) return waiters.delete(check), fail(failure ?? new Error(`${path} ended without what was awaited:\n${text}`));
          };
          waiters.add(check);
          check();
        });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        until: (seen) => wait(() => seen(text)),
        end: () => wait(() => done),
        ended: () => done,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });

