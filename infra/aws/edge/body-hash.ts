import { createRequire } from 'node:module';
import { runInNewContext } from 'node:vm';

/**
 * The sites' origin-request Lambda@Edge function (Node.js, us-east-1), on every behaviour that
 * reaches a site function. A Function URL behind CloudFront's origin access control takes a body
 * only with `x-amz-content-sha256` (Lambda accepts no unsigned payload), which browsers never send
 * (server actions, form posts, API routes): this adds it from the body CloudFront hands over
 * (`includeBody`), before CloudFront signs the request. CloudFront gives a function at most 1 MB
 * of body; a longer one cannot be hashed, so it is answered 413 here rather than 403 by Lambda.
 * Kept as text so SST's bundle of `sst.config.ts` carries it; the tests run this very text.
 *
 * @example
 * new aws.lambda.Function('SitesBodyHash', { code: new pulumi.asset.AssetArchive({ 'index.js': new pulumi.asset.StringAsset(BODY_HASH_SOURCE) }), handler: 'index.handler', … });
 */
export const BODY_HASH_SOURCE = String.raw`'use strict';
// shiplog: x-amz-content-sha256 for requests with a body, so a Function URL behind origin access control takes them.
const { createHash } = require('node:crypto');
const WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  if (!WITH_BODY.has(request.method)) return request;
  const body = request.body || {};
  if (body.inputTruncated) {
    return {
      status: '413',
      statusDescription: 'Payload Too Large',
      headers: { 'content-type': [{ key: 'Content-Type', value: 'text/plain; charset=utf-8' }], 'cache-control': [{ key: 'Cache-Control', value: 'no-store' }] },
      body: 'A request body over 1 MB cannot reach a site function through CloudFront.\n',
    };
  }
  const data = body.data ? Buffer.from(body.data, body.encoding === 'text' ? 'utf8' : 'base64') : Buffer.alloc(0);
  request.headers['x-amz-content-sha256'] = [{ key: 'x-amz-content-sha256', value: createHash('sha256').update(data).digest('hex') }];
  return request;
};
`;

/** CloudFront's limit on the body it hands an origin-request function (`includeBody`). */
export const EDGE_BODY_LIMIT_BYTES = 1024 * 1024;

/** What an origin-request function did with a request: headers to send on, or its own answer. */
export type OriginRequestOutcome =
  | { kind: 'request'; headers: Record<string, string> }
  | { kind: 'response'; status: number; headers: Record<string, string>; body: string };

/**
 * Runs an origin-request Lambda@Edge function's CommonJS code (as Lambda runs it) on one
 * request, with the body as CloudFront hands it over (`includeBody`: base64, cut at 1 MB). Off
 * CloudFront: the AWS box's front door runs the declared body-hash function with it.
 *
 * @example
 * const run = loadOriginRequestFunction(BODY_HASH_SOURCE);
 * const out = await run({ method: 'POST', uri: '/api/x', headers: {}, body: Buffer.from('a=1') });
 */
export const loadOriginRequestFunction = (code: string) => {
  const module = { exports: {} as { handler?: (event: unknown) => Promise<Record<string, unknown>> } };
  runInNewContext(code, { module, exports: module.exports, require: createRequire(import.meta.url), Buffer });
  const handler = module.exports.handler;
  if (typeof handler !== 'function') throw new Error('the origin-request function exports no handler');
  return async (r: { method: string; uri: string; headers: Record<string, string>; body: Buffer }): Promise<OriginRequestOutcome> => {
    const headers: Record<string, { key: string; value: string }[]> = {};
    for (const [k, v] of Object.entries(r.headers)) headers[k.toLowerCase()] = [{ key: k, value: v }];
    const truncated = r.body.length > EDGE_BODY_LIMIT_BYTES;
    const body = { inputTruncated: truncated, action: 'read-only', encoding: 'base64', data: r.body.subarray(0, EDGE_BODY_LIMIT_BYTES).toString('base64') };
    const out = await handler({ Records: [{ cf: { config: { eventType: 'origin-request' }, request: { method: r.method, uri: r.uri, querystring: '', headers, body } } }] });
    const flat = (h: unknown) => Object.fromEntries(Object.entries((h ?? {}) as Record<string, { value: string }[]>).map(([k, v]) => [k, v[0]?.value ?? '']));
    if ('status' in out) return { kind: 'response', status: Number(out.status), headers: flat(out.headers), body: String(out.body ?? '') };
    return { kind: 'request', headers: flat(out.headers) };
  };
};
