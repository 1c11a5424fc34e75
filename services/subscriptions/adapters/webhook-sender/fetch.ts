import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { WebhookRequest, WebhookResponse, WebhookSender } from '../../ports.ts';
import { allowNothing, checkResolved, checkTargetUrl, type AllowList } from '../../target-policy.ts';

/**
 * Options of {@link fetchWebhookSender}.
 *
 * @example
 * fetchWebhookSender({ allow: parseAllowList(process.env.SHIPLOG_WEBHOOK_ALLOW) });
 */
export interface WebhookSenderOptions {
  /** Internal targets allowed anyway (tests delivering to 127.0.0.1); default none. */
  allow?: AllowList;
  /** Time to open the connection (TCP and TLS); default 5 s. The request's `timeoutMs` bounds the whole delivery. */
  connectTimeoutMs?: number;
  /** Largest response body read; past it the delivery fails and the connection is closed. Default 64 KiB. */
  maxResponseBytes?: number;
  /** Resolves a host name to all its addresses (default: the system resolver, as `getaddrinfo`). */
  resolve?: (host: string) => Promise<{ address: string; family: number }[]>;
}

const systemResolve = (host: string) => dnsLookup(host, { all: true, verbatim: true });

/** A delivery that stopped on our side, with the reason to record. */
class DeliveryStopped extends Error {
  override readonly name = 'DeliveryStopped';
}

// Inferred, not annotated: under SST's global types `URL` names a different declaration.
const parseUrl = (url: string) => {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
};

/**
 * Sends webhooks over Node's http/https, in both runtimes, refusing internal targets (see
 * `target-policy.ts`): the URL is checked as written, then its host is resolved, every address
 * is checked, and the connection goes to the checked address (so a DNS answer that changes
 * between check and connect cannot swap it); the `Host` header and TLS server name stay the
 * URL's. Redirects are not followed (a 3xx is a failed delivery, as on GitHub). The connection
 * must open within `connectTimeoutMs`, the whole delivery end within the request's `timeoutMs`,
 * and the response body (drained, never kept) stay under `maxResponseBytes`.
 *
 * @example
 * const sender = fetchWebhookSender({ allow: parseAllowList(process.env.SHIPLOG_WEBHOOK_ALLOW) });
 * await sender.send({ url, body, headers, timeoutMs: 10_000 });
 */
export const fetchWebhookSender = (opts: WebhookSenderOptions = {}): WebhookSender => {
  const allow = opts.allow ?? allowNothing;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
  const maxResponseBytes = opts.maxResponseBytes ?? 64 << 10;
  const resolve = opts.resolve ?? systemResolve;

  return {
    send: async ({ url, body, headers, timeoutMs }: WebhookRequest): Promise<WebhookResponse> => {
      const t0 = performance.now();
      const elapsed = () => Math.round(performance.now() - t0);
      const failed = (error: string, statusCode: number | null = null): WebhookResponse => ({ statusCode, error, durationMs: elapsed() });
      const target = parseUrl(url);
      if (!target) return failed('the target URL is not valid');
      const literal = checkTargetUrl(target, allow);
      if (!literal.ok) return failed(`refused: ${literal.reason}`);

      // Resolve once, check every address, pin the connection to the first checked one.
      const host = target.hostname.replace(/^\[|\]$/g, '');
      let pinned: { address: string; family: number };
      if (isIP(host) !== 0) pinned = { address: host, family: isIP(host) };
      else {
        let addresses: { address: string; family: number }[];
        try {
          addresses = await resolve(host);
        } catch (err) {
          return failed(`cannot resolve ${host}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        const verdict = checkResolved(target, addresses.map((a) => a.address), allow);
        if (!verdict.ok) return failed(`refused: ${verdict.reason}`);
        pinned = addresses[0]!;
      }
      const lookup: LookupFunction = (_name, options, callback) => {
        if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [pinned]);
        else callback(null, pinned.address, pinned.family);
      };

      return new Promise<WebhookResponse>((done) => {
        let settled = false;
        const finish = (r: WebhookResponse) => {
          if (settled) return;
          settled = true;
          clearTimeout(total);
          clearTimeout(connect);
          done(r);
        };
        const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
        const req = send(target, {
          method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup, agent: false,
        });
        const stop = (why: string) => req.destroy(new DeliveryStopped(why));
        const total = setTimeout(() => stop(`no response within ${timeoutMs} ms`), timeoutMs);
        const connect = setTimeout(() => stop(`could not connect within ${connectTimeoutMs} ms`), connectTimeoutMs);
        req.on('socket', (socket) => {
          const opened = target.protocol === 'https:' ? 'secureConnect' : 'connect';
          if (!socket.connecting && target.protocol !== 'https:') clearTimeout(connect);
          socket.once(opened, () => clearTimeout(connect));
        });
        req.on('error', (err: Error & { code?: string }) =>
          finish(failed(err instanceof DeliveryStopped ? err.message : (err.code ?? err.message))));
        req.on('response', (res: IncomingMessage) => {
          const status = res.statusCode ?? 0;
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxResponseBytes) {
              finish(failed(`response body larger than ${maxResponseBytes} bytes`, status));
              res.destroy();
              req.destroy();
            }
          });
          res.on('error', () => finish(failed('the response was cut off', status)));
          res.on('end', () =>
            finish(status >= 200 && status < 300 ? { statusCode: status, durationMs: elapsed() } : failed(res.statusMessage || `HTTP ${status}`, status)));
        });
        req.end(body);
      });
    },
  };
};
