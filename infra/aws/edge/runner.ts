import { runInNewContext } from 'node:vm';

/**
 * A CloudFront Functions viewer-request event, as the runtime hands it over (headers keyed by
 * lowercase name, each `{ value }`; query parameters `{ value, multiValue? }`).
 *
 * @example
 * const e: ViewerRequestEvent = { version: '1.0', context: { eventType: 'viewer-request' }, viewer: { ip: '127.0.0.1' },
 *   request: { method: 'GET', uri: '/', querystring: {}, headers: { host: { value: 'web.apps.example.com' } }, cookies: {} } };
 */
export interface ViewerRequestEvent {
  version: '1.0';
  context: { eventType: 'viewer-request'; distributionId?: string; requestId?: string };
  viewer: { ip: string };
  request: ViewerRequest;
}
export interface ViewerRequest {
  method: string;
  uri: string;
  querystring: Record<string, { value: string; multiValue?: { value: string }[] }>;
  headers: Record<string, { value: string }>;
  cookies: Record<string, { value: string }>;
}
/** A response the function answers itself, without reaching an origin. */
export interface ViewerResponse {
  statusCode: number;
  statusDescription?: string;
  headers?: Record<string, { value: string }>;
  body?: { encoding: 'text' | 'base64'; data: string } | string;
}
/** What `cf.updateRequestOrigin` was given: the origin the request goes to. */
export interface OriginUpdate {
  domainName?: string;
  originPath?: string;
  originAccessControlConfig?: { enabled: boolean; signingBehavior: string; signingProtocol: string; originType: string };
  [other: string]: unknown;
}
/** One run of the function: the request it passes on (with the origin it chose) or its own response. */
export type ViewerRequestOutcome = { kind: 'request'; request: ViewerRequest; origin?: OriginUpdate } | { kind: 'response'; response: ViewerResponse };

/** A key value store as the function reads it: `get` rejects for a missing key, as CloudFront's does. */
export interface KeyValueReader {
  get(key: string): Promise<string>;
}

/**
 * Runs a CloudFront Function's code (runtime `cloudfront-js-2.0`, which imports the `cloudfront`
 * module) in its own V8 context, with `cf.kvs(id)` reading `stores(id)` and `cf.updateRequestOrigin`
 * recorded per run. Two users: the AWS box, where it stands in for the CloudFront Functions runtime
 * (which moto does not have), and the ISR revalidation function on AWS, which finds the deployment
 * a stale page's host and path are served from by running the same routing (`revalidate.ts`).
 * What runs is the code the stack declares, not a second routing implementation. It does not
 * enforce the runtime's limits (compute time, the language subset).
 *
 * @example
 * const fn = loadViewerRequestFunction(code, () => kvs);
 * const out = await fn.run(viewerRequest({ host: 'web.apps.example.com', uri: '/' }));
 * if (out.kind === 'request') out.origin?.domainName; // the Function URL host it chose
 */
export const loadViewerRequestFunction = (code: string, stores: (id: string) => KeyValueReader) => {
  const importLine = /^\s*import\s+cf\s+from\s+['"]cloudfront['"];?\s*$/m;
  if (!importLine.test(code)) throw new Error("the function does not import cf from 'cloudfront'");
  let origin: OriginUpdate | undefined;
  const cf = {
    kvs: (id: string) => stores(id),
    updateRequestOrigin: (update: OriginUpdate) => {
      origin = update;
    },
  };
  const handler = runInNewContext(`${code.replace(importLine, 'var cf = __cloudfront;')}\n;handler`, { __cloudfront: cf }) as (e: ViewerRequestEvent) => Promise<ViewerRequest | ViewerResponse>;
  if (typeof handler !== 'function') throw new Error('the function defines no handler');
  return {
    // Runs are sequential per request in CloudFront; here the recorded origin is per call.
    async run(event: ViewerRequestEvent): Promise<ViewerRequestOutcome> {
      origin = undefined;
      const out = await handler(structuredClone(event));
      const chosen = origin;
      return 'statusCode' in out ? { kind: 'response', response: out } : { kind: 'request', request: out, ...(chosen ? { origin: chosen } : {}) };
    },
  };
};

/**
 * A viewer-request event for a host, path and query, as CloudFront builds it.
 *
 * @example
 * viewerRequest({ host: 'web.apps.example.com', uri: '/a', query: 'x=1&x=2' });
 */
export const viewerRequest = (opts: { host: string; uri: string; method?: string; query?: string; headers?: Record<string, string> }): ViewerRequestEvent => {
  const querystring: ViewerRequest['querystring'] = {};
  for (const [name, value] of new URLSearchParams(opts.query ?? '')) {
    const have = querystring[name];
    if (!have) querystring[name] = { value };
    else have.multiValue = [...(have.multiValue ?? [{ value: have.value }]), { value }];
  }
  const headers: ViewerRequest['headers'] = { host: { value: opts.host } };
  for (const [name, value] of Object.entries(opts.headers ?? {})) headers[name.toLowerCase()] = { value };
  // CloudFront parses the Cookie header into `cookies` (the first value of a name).
  const cookies: ViewerRequest['cookies'] = {};
  for (const part of (headers.cookie?.value ?? '').split(/;\s*/)) {
    const eq = part.indexOf('=');
    if (eq > 0 && !(part.slice(0, eq) in cookies)) cookies[part.slice(0, eq)] = { value: part.slice(eq + 1) };
  }
  return { version: '1.0', context: { eventType: 'viewer-request' }, viewer: { ip: '127.0.0.1' }, request: { method: opts.method ?? 'GET', uri: opts.uri, querystring, headers, cookies } };
};

/**
 * A CloudFront Functions viewer-response event: the viewer's request and the response CloudFront
 * is about to send (headers keyed by lowercase name).
 *
 * @example
 * const e: ViewerResponseEvent = { version: '1.0', context: { eventType: 'viewer-response' }, viewer: { ip: '127.0.0.1' },
 *   request: viewerRequest({ host: 'web.apps.example.com', uri: '/robots.txt' }).request, response: { statusCode: 200, headers: {} } };
 */
export interface ViewerResponseEvent {
  version: '1.0';
  context: { eventType: 'viewer-response'; distributionId?: string; requestId?: string };
  viewer: { ip: string };
  request: ViewerRequest;
  response: { statusCode: number; statusDescription?: string; headers: Record<string, { value: string; multiValue?: { value: string }[] }>; cookies?: Record<string, unknown> };
}

/**
 * Runs a viewer-response CloudFront Function's code (one that imports nothing) in its own V8
 * context, as {@link loadViewerRequestFunction} does a viewer-request one: `run` hands it the
 * event and resolves to the response it returns.
 *
 * @example
 * const fn = loadViewerResponseFunction(ASSET_HEADERS_SOURCE);
 * const out = await fn.run({ ...event, response: { statusCode: 200, headers: { 'x-amz-meta-shiplog-headers': { value: '[]' } } } });
 */
export const loadViewerResponseFunction = (code: string) => {
  const handler = runInNewContext(`${code}\n;handler`, {}) as (e: ViewerResponseEvent) => ViewerResponseEvent['response'] | Promise<ViewerResponseEvent['response']>;
  if (typeof handler !== 'function') throw new Error('the function defines no handler');
  return { run: async (event: ViewerResponseEvent): Promise<ViewerResponseEvent['response']> => handler(structuredClone(event)) };
};
