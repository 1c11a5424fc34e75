import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { awsEndpoint } from './endpoint.ts';
import { eventBridgeStandIn } from './eventbridge.ts';
import { lambdaStandIn, type LambdaStandIn } from './lambda.ts';
import { BOX_CREDENTIALS, BOX_REGION } from './moto.ts';

// A body that is not JSON is the caller's error: AWS answers 400 with the service's error type,
// and nothing behind the endpoint is called (the stand-ins' clients point nowhere).
const nowhere = 'http://127.0.0.1:9';
const config = { endpoint: nowhere, region: BOX_REGION, credentials: BOX_CREDENTIALS, maxAttempts: 1 };
let server: Server;
let base: string;
let dir: string;
let lambda: LambdaStandIn;
const logged: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shiplog-endpoint-'));
  lambda = lambdaStandIn({ lambda: new LambdaClient(config), s3: new S3Client(config), sqs: new SQSClient(config), codeDir: dir, awsEndpoint: nowhere });
  const eventbridge = eventBridgeStandIn({ events: new EventBridgeClient(config), sqs: new SQSClient(config), awsEndpoint: nowhere, invokeAsync: () => {} });
  const endpoint = awsEndpoint({
    moto: nowhere, dynamodb: () => nowhere, codebuild: { handle: (_req, res) => res.writeHead(500).end() }, eventbridge, lambda, log: (l) => logged.push(l),
  });
  server = createServer(endpoint.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await lambda?.close();
  await new Promise((r) => server?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const signedFor = (service: string) => ({ authorization: `AWS4-HMAC-SHA256 Credential=${BOX_CREDENTIALS.accessKeyId}/20261203/${BOX_REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0` });

describe('the box AWS endpoint refuses a body that is not JSON as AWS does', () => {
  it('PutEvents: 400 SerializationException', async () => {
    const res = await fetch(base, { method: 'POST', headers: { ...signedFor('events'), 'x-amz-target': 'AWSEvents.PutEvents', 'content-type': 'application/x-amz-json-1.1' }, body: '{"Entries": [' });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('SerializationException');
    expect(await res.json()).toMatchObject({ __type: 'SerializationException', message: expect.stringContaining('not valid JSON') });
  });

  it('Invoke: 400 InvalidRequestContentException, and the function is not run', async () => {
    const res = await fetch(`${base}/2015-03-31/functions/site/invocations`, { method: 'POST', headers: signedFor('lambda'), body: 'not json' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ __type: 'InvalidRequestContentException' });
    expect(lambda.inFlight()).toBe(0);
    expect(logged).toEqual([]);
  });

  it('CreateFunction: 400 InvalidRequestContentException', async () => {
    const res = await fetch(`${base}/2015-03-31/functions`, { method: 'POST', headers: signedFor('lambda'), body: '{' });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('InvalidRequestContentException');
  });
});
