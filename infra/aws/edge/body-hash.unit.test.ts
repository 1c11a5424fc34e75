import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { BODY_HASH_SOURCE } from './body-hash.ts';

// The declared Lambda@Edge code itself, run as Lambda runs a CommonJS handler.
const handler = (() => {
  const module = { exports: {} as { handler?: (e: unknown) => Promise<unknown> } };
  runInNewContext(BODY_HASH_SOURCE, { module, exports: module.exports, require: createRequire(import.meta.url), Buffer });
  return module.exports.handler!;
})();
const event = (request: Record<string, unknown>) => ({ Records: [{ cf: { config: { eventType: 'origin-request' }, request: { uri: '/', querystring: '', headers: {}, ...request } } }] });
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('the sites body-hash origin-request function', () => {
  it("adds the body's SHA-256 to a POST, from CloudFront's base64 body", async () => {
    const form = 'name=ada&note=%E2%9C%93';
    const out = (await handler(event({ method: 'POST', body: { inputTruncated: false, action: 'read-only', encoding: 'base64', data: Buffer.from(form).toString('base64') } }))) as { headers: Record<string, { key: string; value: string }[]> };
    expect(out.headers['x-amz-content-sha256']).toEqual([{ key: 'x-amz-content-sha256', value: sha(form) }]);
  });

  it('hashes an empty body as the empty string, and leaves reads alone', async () => {
    const del = (await handler(event({ method: 'DELETE', body: { inputTruncated: false, encoding: 'base64', data: '' } }))) as { headers: Record<string, { value: string }[]> };
    expect(del.headers['x-amz-content-sha256']?.[0]?.value).toBe(sha(''));
    const get = (await handler(event({ method: 'GET' }))) as { headers: Record<string, unknown> };
    expect(get.headers).toEqual({});
  });

  it('answers 413 for a body CloudFront cut at 1 MB, which no hash could match', async () => {
    const out = (await handler(event({ method: 'PUT', body: { inputTruncated: true, encoding: 'base64', data: 'AAAA' } }))) as { status: string };
    expect(out.status).toBe('413');
  });
});
