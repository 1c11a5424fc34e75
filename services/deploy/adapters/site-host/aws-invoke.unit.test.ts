import { describe, expect, it } from 'vitest';
import { httpResultOf } from './aws-invoke.ts';

describe('httpResultOf', () => {
  it("reads a streaming function's Invoke payload: the prelude's status and headers, then the body after eight NUL bytes", () => {
    const prelude = JSON.stringify({ statusCode: 404, headers: { 'x-nextjs-cache': 'REVALIDATED' }, cookies: [] });
    const bytes = Buffer.concat([Buffer.from(prelude), Buffer.alloc(8), Buffer.from('<p>not here</p>')]);
    expect(httpResultOf(bytes)).toEqual({ statusCode: 404, headers: { 'x-nextjs-cache': 'REVALIDATED' }, cookies: [], body: '<p>not here</p>' });
  });

  it("reads the buffered wrapper's JSON result, and an empty streamed body", () => {
    expect(httpResultOf(Buffer.from(JSON.stringify({ statusCode: 200, body: 'b2s=', isBase64Encoded: true })))).toEqual({ statusCode: 200, body: 'b2s=', isBase64Encoded: true });
    expect(httpResultOf(Buffer.concat([Buffer.from('{"statusCode":204}'), Buffer.alloc(8)]))).toEqual({ statusCode: 204, body: '' });
  });

  it('finds no HTTP result in anything else', () => {
    expect(httpResultOf(Buffer.from('plain text'))).toBeUndefined();
    expect(httpResultOf(Buffer.alloc(0))).toBeUndefined();
    expect(httpResultOf(Buffer.concat([Buffer.from('{"no":"status"}'), Buffer.alloc(8), Buffer.from('x')]))?.statusCode).toBeUndefined();
  });
});
