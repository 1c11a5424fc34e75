import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { sdkStreamMixin, Uint8ArrayBlobAdapter } from '@smithy/util-stream';
import { mockClient } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { awsHealthProbe } from './aws.ts';

// Lambda and S3 answer in the shapes AWS documents (Invoke: Payload bytes, FunctionError on a
// crashed function; GetObject: NoSuchKey); the probe's own logic is what is under test.
const lam = mockClient(LambdaClient);
const s3 = mockClient(S3Client);
const body = (s: string) => sdkStreamMixin(Readable.from([Buffer.from(s)]));
const probe = awsHealthProbe({ lambda: new LambdaClient({ region: 'eu-west-1' }), s3: new S3Client({ region: 'eu-west-1' }), bucket: 'sites', prefix: 'shiplog', domain: 'shiplog.example.com' });
const input = { projectId: 'web', deploymentId: '01JDAAA', path: '/healthz?deep=1', timeoutMs: 5000 };
const payload = (o: unknown) => Uint8ArrayBlobAdapter.fromString(JSON.stringify(o));

describe('awsHealthProbe', () => {
  beforeEach(() => {
    lam.reset();
    s3.reset();
    s3.on(GetObjectCommand, { Bucket: 'sites', Key: 'sites/web/.published/01JDAAA.json' }).resolves({ Body: body(JSON.stringify({ assets: 3, functionVersion: '42' })) });
  });

  it('invokes the deployment\'s own version with an API Gateway v2 GET of the health path', async () => {
    lam.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload({ statusCode: 200, body: 'ok', isBase64Encoded: false }) });
    expect(await probe.check(input)).toEqual({ kind: 'response', status: 200, bodyStart: 'ok' });
    const sent = lam.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(sent).toMatchObject({ FunctionName: 'shiplog-site-web', Qualifier: '42' });
    const event = JSON.parse(new TextDecoder().decode(sent.Payload as Uint8Array));
    expect(event).toMatchObject({ version: '2.0', rawPath: '/healthz', rawQueryString: 'deep=1', headers: { host: '01jdaaa-web.shiplog.example.com' }, requestContext: { http: { method: 'GET' } } });
  });

  it('reports a 5xx with its first bytes, decoding a base64 body', async () => {
    lam.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload({ statusCode: 500, body: Buffer.from('Internal Server Error').toString('base64'), isBase64Encoded: true }) });
    expect(await probe.check(input)).toEqual({ kind: 'response', status: 500, bodyStart: 'Internal Server Error' });
  });

  it('calls a crashed function and an unpublished deployment no response', async () => {
    lam.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: payload({ errorType: 'Runtime.ExitError', errorMessage: 'exited with 1' }) });
    expect(await probe.check(input)).toMatchObject({ kind: 'no-response', error: expect.stringContaining('Runtime.ExitError') });
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'no such key', $metadata: {} }));
    expect(await probe.check(input)).toEqual({ kind: 'no-response', error: '01JDAAA is not published' });
  });
});
