import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/**
 * The payload limit of a synchronous Lambda invocation; bigger request bodies get a 413,
 * as behind API Gateway.
 *
 * @example
 * if (size > maxEventBodyBytes) return tooLarge(res);
 */
export const maxEventBodyBytes = 6 * 1024 * 1024;

/**
 * A request body larger than Lambda's invocation payload ({@link maxEventBodyBytes}): answered 413.
 *
 * @example
 * catch (e) { if (e instanceof EventBodyTooLargeError) res.writeHead(413).end(); }
 */
export class EventBodyTooLargeError extends Error {
  override readonly name = 'EventBodyTooLargeError';
}

/**
 * Reads a request body for a function event, refusing one past {@link maxEventBodyBytes}.
 *
 * @example
 * const body = await readEventBody(req); // throws EventBodyTooLargeError past 6 MB
 */
export const readEventBody = async (req: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxEventBodyBytes) throw new EventBodyTooLargeError();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
};

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');
/** API Gateway's `requestContext.time`: `22/Nov/2026:10:00:00 +0000`. */
const clfTime = (d: Date) =>
  `${pad(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;

/**
 * Turns an HTTP request into the event API Gateway (HTTP API, payload 2.0) would send a Lambda:
 * lowercase headers with repeated ones comma-joined, cookies split out of `cookie` into
 * `cookies`, the raw path and query, and any body base64-encoded.
 *
 * @example
 * const event = toApiGatewayV2Event(req, await readBody(req), { requestId: randomUUID(), now: new Date() });
 * event.requestContext.http.method; // 'GET'
 */
export const toApiGatewayV2Event = (
  req: IncomingMessage,
  body: Buffer,
  ctx: { requestId: string; now: Date },
): APIGatewayProxyEventV2 => {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQueryString = q < 0 ? '' : url.slice(q + 1);
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (name === 'cookie') cookies = String(value).split(/;\s*/).filter(Boolean);
    else headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const sourceIp = req.socket.remoteAddress ?? '127.0.0.1';
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${sourceIp}` : sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-forwarded-port'] ??= String(req.socket.localPort ?? '');
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawQueryString)) query[k] = k in query ? `${query[k]},${v}` : v;
  const domainName = (headers.host ?? 'localhost').replace(/:\d+$/, '');
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    cookies,
    headers,
    queryStringParameters: rawQueryString ? query : undefined,
    requestContext: {
      accountId: 'local',
      apiId: 'shiplog-local',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: { method: req.method ?? 'GET', path: rawPath, protocol: `HTTP/${req.httpVersion}`, sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: ctx.requestId,
      routeKey: '$default',
      stage: '$default',
      time: clfTime(ctx.now),
      timeEpoch: ctx.now.getTime(),
    },
    body: body.length > 0 ? body.toString('base64') : undefined,
    isBase64Encoded: body.length > 0,
  };
};

/**
 * The event of a revalidation request: a HEAD of `url` on `host` with the headers OpenNext's
 * queue gives (the preview id), as its revalidation function sends it through CloudFront on
 * AWS, here straight to the version's function.
 *
 * @example
 * const event = revalidationEvent({ host: 'web.localhost:3001', url: '/isr', headers: { 'x-prerender-revalidate': id, 'x-isr': '1' } }, { requestId: randomUUID(), now: new Date() });
 * event.requestContext.http.method; // 'HEAD'
 */
export const revalidationEvent = (
  request: { host: string; url: string; headers: Record<string, string> },
  ctx: { requestId: string; now: Date },
): APIGatewayProxyEventV2 => {
  const q = request.url.indexOf('?');
  const rawPath = q < 0 ? request.url : request.url.slice(0, q);
  const rawQueryString = q < 0 ? '' : request.url.slice(q + 1);
  const domainName = request.host.replace(/:\d+$/, '');
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawQueryString)) query[k] = k in query ? `${query[k]},${v}` : v;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers: { ...request.headers, host: request.host, 'x-forwarded-proto': 'http', 'user-agent': 'shiplog-revalidation' },
    queryStringParameters: rawQueryString ? query : undefined,
    requestContext: {
      accountId: 'local',
      apiId: 'shiplog-local',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: { method: 'HEAD', path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'shiplog-revalidation' },
      requestId: ctx.requestId,
      routeKey: '$default',
      stage: '$default',
      time: clfTime(ctx.now),
      timeEpoch: ctx.now.getTime(),
    },
    isBase64Encoded: false,
  };
};

/** What a handler may return: a full result, or (payload 2.0) anything else, sent as JSON. */
interface ResultShape {
  statusCode?: number;
  headers?: Record<string, string | number | boolean | string[]>;
  multiValueHeaders?: Record<string, (string | number | boolean)[]>;
  cookies?: string[];
  body?: string;
  isBase64Encoded?: boolean;
}

/** Hop-by-hop headers, and the length we compute ourselves. */
const dropped = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'proxy-connection']);

/**
 * Headers of a Lambda result as Node wants them: single and multi-value headers merged,
 * `cookies` (and any `set-cookie`) as repeated `set-cookie` headers, hop-by-hop ones dropped.
 *
 * @example
 * toNodeHeaders({ headers: { 'content-type': 'text/html' }, cookies: ['a=1', 'b=2'] });
 * // { 'content-type': 'text/html', 'set-cookie': ['a=1', 'b=2'] }
 */
export const toNodeHeaders = (r: Pick<ResultShape, 'headers' | 'multiValueHeaders' | 'cookies'>): OutgoingHttpHeaders => {
  const out: OutgoingHttpHeaders = {};
  const cookies: string[] = [...(r.cookies ?? [])];
  const add = (name: string, values: (string | number | boolean)[]) => {
    const key = name.toLowerCase();
    if (dropped.has(key)) return;
    if (key === 'set-cookie') cookies.push(...values.map(String));
    else out[key] = values.length === 1 ? String(values[0]) : values.map(String);
  };
  for (const [k, v] of Object.entries(r.headers ?? {})) add(k, Array.isArray(v) ? v : [v]);
  for (const [k, v] of Object.entries(r.multiValueHeaders ?? {})) add(k, v);
  if (cookies.length > 0) out['set-cookie'] = cookies;
  return out;
};

/**
 * Writes a buffered Lambda result as the HTTP response, the way API Gateway maps it back.
 *
 * @example
 * writeApiGatewayV2Result(res, { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' }, { head: false });
 */
export const writeApiGatewayV2Result = (res: ServerResponse, raw: unknown, opts: { head: boolean; extraHeaders?: OutgoingHttpHeaders }): void => {
  const isResult = typeof raw === 'object' && raw !== null && 'statusCode' in raw;
  const r: ResultShape = isResult
    ? (raw as ResultShape)
    : { statusCode: 200, headers: { 'content-type': 'application/json' }, body: typeof raw === 'string' ? raw : JSON.stringify(raw ?? null) };
  const body = r.body === undefined ? Buffer.alloc(0) : Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8');
  res.writeHead(r.statusCode ?? 200, { ...toNodeHeaders(r), ...opts.extraHeaders, 'content-length': body.length });
  res.end(opts.head ? undefined : body);
};
