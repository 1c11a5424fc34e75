import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { sdkStreamMixin, Uint8ArrayBlobAdapter } from '@smithy/util-stream';
import { mockClient } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { awsRevalidator, type SiteOf } from './aws-revalidation.ts';

// S3 and Lambda answer in the shapes AWS documents; the revalidator's own decisions are under test
// (the whole path runs on the AWS box: test/aws-box/isr.e2e.test.ts).
const lam = mockClient(LambdaClient);
const s3 = mockClient(S3Client);
const body = (o: unknown) => sdkStreamMixin(Readable.from([Buffer.from(JSON.stringify(o))]));
const result = (statusCode: number, headers: Record<string, string>) => Uint8ArrayBlobAdapter.fromString(JSON.stringify({ statusCode, headers, body: '' }));
let routed: SiteOf = async () => ({ projectId: 'web', deploymentId: 'D1' });
const revalidator = awsRevalidator({
  lambda: new LambdaClient({ region: 'eu-west-1' }), s3: new S3Client({ region: 'eu-west-1' }), bucket: 'sites', prefix: 'shiplog',
  siteOf: (host, path) => routed(host, path),
});
const message = { host: 'web.apps.example.com', url: '/posts/first?x=1' };

describe('awsRevalidator', () => {
  beforeEach(() => {
    lam.reset();
    s3.reset();
    routed = async () => ({ projectId: 'web', deploymentId: 'D1' });
    // A fresh body per read: an S3 body is a stream, read once.
    s3.on(GetObjectCommand, { Key: 'sites/web/.published/D1.json' }).callsFake(() => ({ Body: body({ assets: 3, functionVersion: '7' }) }));
    s3.on(GetObjectCommand, { Key: 'revalidation/web/D1.json' }).callsFake(() => ({ Body: body({ previewModeId: 'p1' }) }));
  });

  it("invokes the serving deployment's version with a HEAD carrying its preview id, and takes REVALIDATED", async () => {
    lam.on(InvokeCommand).resolves({ StatusCode: 200, Payload: result(200, { 'x-nextjs-cache': 'REVALIDATED' }) });
    expect(await revalidator.revalidate(message)).toEqual({ kind: 'revalidated', projectId: 'web', deploymentId: 'D1', status: 200 });
    const sent = lam.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(sent).toMatchObject({ FunctionName: 'shiplog-site-web', Qualifier: '7' });
    const event = JSON.parse(new TextDecoder().decode(sent.Payload as Uint8Array));
    expect(event).toMatchObject({
      rawPath: '/posts/first', rawQueryString: 'x=1', requestContext: { http: { method: 'HEAD' } },
      headers: { host: 'web.apps.example.com', 'x-forwarded-host': 'web.apps.example.com', 'x-prerender-revalidate': 'p1', 'x-isr': '1' },
    });
  });

  it('fails (to be received again) when the page did not regenerate or the function failed', async () => {
    lam.on(InvokeCommand).resolvesOnce({ StatusCode: 200, Payload: result(200, { 'x-nextjs-cache': 'HIT' }) })
      .resolvesOnce({ StatusCode: 200, Payload: result(500, { 'x-nextjs-cache': 'REVALIDATED' }) })
      .resolvesOnce({ StatusCode: 200, FunctionError: 'Unhandled', Payload: Uint8ArrayBlobAdapter.fromString('{"errorMessage":"boom"}') });
    for (const reason of [/answered 200 with x-nextjs-cache HIT/, /answered 500/, /failed \(Unhandled\)/]) {
      const out = await revalidator.revalidate(message);
      expect(out.kind).toBe('failed');
      expect(out.kind === 'failed' && out.reason).toMatch(reason);
    }
  });

  it('drops what can never succeed: not a message, a host serving nothing, a deployment without a revalidation record', async () => {
    expect(await revalidator.revalidate({ host: 'web.apps.example.com', url: 'posts' })).toMatchObject({ kind: 'dropped' });
    expect(await revalidator.revalidate(null as never)).toMatchObject({ kind: 'dropped' });
    routed = async () => undefined;
    expect(await revalidator.revalidate(message)).toMatchObject({ kind: 'dropped', reason: expect.stringMatching(/served by no deployment/) });
    routed = async () => ({ projectId: 'web', deploymentId: 'OLD' });
    s3.on(GetObjectCommand, { Key: 'sites/web/.published/OLD.json' }).resolves({ Body: body({ assets: 1, functionVersion: '2' }) });
    s3.on(GetObjectCommand, { Key: 'revalidation/web/OLD.json' }).rejects(new NoSuchKey({ message: 'no such key', $metadata: {} }));
    expect(await revalidator.revalidate(message)).toMatchObject({ kind: 'dropped', reason: expect.stringMatching(/no revalidation record/) });
    expect(lam.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});
