import { randomUUID } from 'node:crypto';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

/**
 * One HTTP request to a site function, as a Function URL (or API Gateway's payload 2.0) hands it
 * over: what OpenNext's `aws-apigw-v2` converter reads.
 *
 * @example
 * const r: SiteRequest = { host: 'web.apps.example.com', method: 'HEAD', path: '/posts/1', headers: { 'x-isr': '1' }, userAgent: 'shiplog-revalidate' };
 */
export interface SiteRequest {
  host: string;
  method: string;
  /** The path with its query, as the viewer sent it. */
  path: string;
  headers?: Record<string, string>;
  userAgent: string;
}

/**
 * What a buffered site function (OpenNext's `aws-lambda` wrapper) answered, or why it did not.
 *
 * @example
 * const out: SiteResult = { kind: 'response', status: 200, headers: { 'x-nextjs-cache': 'REVALIDATED' }, body: '' };
 */
export type SiteResult =
  | { kind: 'response'; status: number; headers: Record<string, string>; body: string }
  | { kind: 'no-response'; error: string };

/**
 * The payload 2.0 event of a {@link SiteRequest}.
 *
 * @example
 * siteRequestEvent({ host: 'd1-web.apps.example.com', method: 'GET', path: '/?a=1', userAgent: 'shiplog-health-check' }).rawQueryString; // 'a=1'
 */
export const siteRequestEvent = (r: SiteRequest) => {
  const q = r.path.indexOf('?');
  const rawPath = q < 0 ? r.path : r.path.slice(0, q);
  const rawQueryString = q < 0 ? '' : r.path.slice(q + 1);
  const now = new Date();
  return {
    version: '2.0', routeKey: '$default', rawPath, rawQueryString,
    headers: { host: r.host, 'user-agent': r.userAgent, accept: '*/*', 'x-forwarded-proto': 'https', ...r.headers },
    ...(rawQueryString ? { queryStringParameters: Object.fromEntries(new URLSearchParams(rawQueryString)) } : {}),
    requestContext: {
      accountId: 'anonymous', apiId: 'shiplog', domainName: r.host, domainPrefix: r.host.split('.')[0],
      http: { method: r.method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: r.userAgent },
      requestId: randomUUID(), routeKey: '$default', stage: '$default', time: now.toUTCString(), timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
};

/** What separates a streamed response's prelude (its status and headers as JSON) from its body. */
const PRELUDE_END = Buffer.alloc(8);

/**
 * The HTTP result in an Invoke payload: the buffered wrapper's JSON (`statusCode`, `headers`,
 * `body`), or what a streaming function wrote (`awslambda.HttpResponseStream`: the prelude JSON,
 * eight NUL bytes, then the body). Undefined when the payload is neither.
 *
 * @example
 * httpResultOf(Buffer.from('{"statusCode":200}\0\0\0\0\0\0\0\0ok'))?.body; // 'ok'
 */
export const httpResultOf = (bytes: Buffer): { statusCode?: number; headers?: Record<string, unknown>; body?: string; isBase64Encoded?: boolean } | undefined => {
  const cut = bytes.indexOf(PRELUDE_END);
  if (cut > 0 && bytes[0] === 0x7b) {
    try {
      const prelude = JSON.parse(bytes.subarray(0, cut).toString('utf8')) as { statusCode?: number; headers?: Record<string, unknown> };
      if (typeof prelude.statusCode === 'number') return { ...prelude, body: bytes.subarray(cut + PRELUDE_END.length).toString('utf8') };
    } catch {
      // not a prelude: the buffered form below
    }
  }
  try {
    return (JSON.parse(bytes.toString('utf8') || 'null') as ReturnType<typeof httpResultOf>) ?? undefined;
  } catch {
    return undefined;
  }
};

/**
 * Invokes one version of a site function with a request and reads its HTTP result. A function
 * error (a crash, an init failure, a timeout) or a payload that is not an HTTP result is no
 * response; so is an SDK error (the `abortSignal` included).
 *
 * @example
 * const out = await invokeSite(lambda, { functionName: 'shiplog-site-web', qualifier: '42' }, request, { signal: AbortSignal.timeout(30_000) });
 */
export const invokeSite = async (
  lambda: LambdaClient,
  target: { functionName: string; qualifier: string },
  request: SiteRequest,
  opts: { signal?: AbortSignal; maxErrorBytes?: number } = {},
): Promise<SiteResult> => {
  const max = opts.maxErrorBytes ?? 512;
  try {
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: target.functionName, Qualifier: target.qualifier, Payload: new TextEncoder().encode(JSON.stringify(siteRequestEvent(request))) }),
      opts.signal ? { abortSignal: opts.signal } : {},
    );
    const bytes = out.Payload ? Buffer.from(out.Payload) : Buffer.alloc(0);
    const payload = bytes.toString('utf8');
    if (out.FunctionError) return { kind: 'no-response', error: `the function failed (${out.FunctionError}): ${payload.slice(0, max)}` };
    const result = httpResultOf(bytes);
    if (!result || typeof result.statusCode !== 'number') return { kind: 'no-response', error: `not an HTTP result: ${payload.slice(0, max)}` };
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
    const body = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64').toString('utf8') : (result.body ?? '');
    return { kind: 'response', status: result.statusCode, headers, body };
  } catch (err) {
    return { kind: 'no-response', error: opts.signal?.aborted ? 'no response in time' : `${(err as Error).name}: ${(err as Error).message}` };
  }
};
