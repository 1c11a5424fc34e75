import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetKeyCommand } from '@aws-sdk/client-cloudfront-keyvaluestore';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetFunctionUrlConfigCommand, GetPolicyCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsSiteHost, deploymentAlias, siteFunctionName } from '../../services/deploy/adapters/site-host/aws.ts';
import { keyValueStoreRouting } from '../../services/deploy/adapters/site-host/aws-routing.ts';
import type { SiteHost } from '../../services/deploy/ports.ts';
import { siteRouterCode } from '../aws/edge/site-router.ts';
import { sitesKeyValueStoreClient } from '../aws/runtime/key-value-store-client.ts';
import { loadViewerRequestFunction } from './cloudfront-function.ts';
import { awsEndpoint } from './endpoint.ts';
import type { EventBridgeStandIn } from './eventbridge.ts';
import { frontDoor } from './front-door.ts';
import { functionUrlStandIn } from './function-urls.ts';
import { keyValueStoreStandIn } from './key-value-store.ts';
import { lambdaStandIn, type LambdaStandIn } from './lambda.ts';
import { BOX_ACCOUNT, BOX_CREDENTIALS, BOX_REGION, startMoto, type Moto } from './moto.ts';

// The front door as the stack declares it: the sites' CloudFront Function (its real code) on the
// box's KeyValueStore, Function URLs per deployment alias, written by the AWS site host through
// the box's endpoint with the real SDK clients.

const SITES = 'shiplog-sites';
const DOMAIN = 'sites.localhost';
const KVS_ID = '5f1c2b3a-0d4e-4f60-8a7b-9c0d1e2f3a4b';
const KVS_ARN = `arn:aws:cloudfront::${BOX_ACCOUNT}:key-value-store/${KVS_ID}`;
const DISTRIBUTION_ARN = `arn:aws:cloudfront::${BOX_ACCOUNT}:distribution/E2SHIPLOGBOX`;
const ulid = monotonicFactory();
const work = mkdtempSync(join(tmpdir(), 'shiplog-front-door-edge-'));

/** A directory shaped like an OpenNext output whose server function answers `<tag> <path> <x-forwarded-host>`. */
const artifact = (tag: string) => {
  const dir = join(work, `artifact-${tag}-${ulid()}`);
  const files: Record<string, string> = {
    'open-next.output.json': JSON.stringify({
      origins: { default: { type: 'function', handler: 'index.handler', bundle: '.open-next/server-functions/default', streaming: false }, s3: { type: 's3', originPath: '_assets', copy: [{ from: '.open-next/assets', to: '_assets' }] } },
      behaviors: [{ pattern: '_next/static*', origin: 's3' }, { pattern: '*', origin: 'default' }],
    }),
    [`assets/_next/static/chunks/app-${tag}.js`]: `console.log('${tag}')`,
    'assets/robots.txt': `User-agent: * (${tag})`,
    'server-functions/default/index.mjs':
      `export const handler = async (event) => ({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: '${tag} ' + event.rawPath + ' ' + event.headers['x-forwarded-host'] + ' ' + event.headers['x-shiplog-deployment'] });`,
  };
  for (const [p, body] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), body);
  }
  return `file://${dir}`;
};

let moto: Moto;
let endpoint: Server;
let door: Server;
let lambdaBox: LambdaStandIn;
let lambda: LambdaClient;
let host: SiteHost;
const kvs = keyValueStoreStandIn();
const urls = functionUrlStandIn({ region: BOX_REGION, account: BOX_ACCOUNT });
const kvsClient = () => sitesKeyValueStoreClient(`http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`, { region: BOX_REGION, credentials: BOX_CREDENTIALS });

const get = (hostName: string, path = '/', headers: Record<string, string> = {}) =>
  new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const port = (door.address() as AddressInfo).port;
    const req = request({ host: '127.0.0.1', port, path, headers: { host: `${hostName}:${port}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c)).on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject).end();
  });

const deploy = async (projectId: string, tag: string) => {
  const deploymentId = ulid();
  await host.publish({ projectId, deploymentId, artifactDir: artifact(tag) });
  return deploymentId;
};

beforeAll(async () => {
  moto = await startMoto();
  const direct = { endpoint: moto.endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS };
  const motoS3 = new S3Client({ ...direct, forcePathStyle: true });
  await motoS3.send(new CreateBucketCommand({ Bucket: SITES, CreateBucketConfiguration: { LocationConstraint: BOX_REGION } }));
  const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
  const role = await new IAMClient(direct).send(new CreateRoleCommand({ RoleName: 'site', AssumeRolePolicyDocument: JSON.stringify(trust) }));
  endpoint = createServer();
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
  const endpointUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
  lambdaBox = lambdaStandIn({
    lambda: new LambdaClient(direct), s3: motoS3, sqs: new SQSClient(direct), codeDir: join(work, 'code'), awsEndpoint: endpointUrl,
  });
  const unused = (what: string) => () => {
    throw new Error(`${what} is not part of this test`);
  };
  const routes = awsEndpoint({
    moto: moto.endpoint, dynamodb: unused('DynamoDB'), codebuild: { handle: unused('CodeBuild') },
    eventbridge: { putEvents: unused('PutEvents'), invalidate: () => {} } as unknown as EventBridgeStandIn,
    lambda: lambdaBox, keyValueStores: kvs, functionUrls: urls,
  });
  endpoint.on('request', routes.handle);
  kvs.create({ name: 'shiplog-sites', arn: KVS_ARN, id: KVS_ID });

  const viaBox = { endpoint: endpointUrl, region: BOX_REGION, credentials: BOX_CREDENTIALS };
  lambda = new LambdaClient(viaBox);
  host = awsSiteHost({
    lambda, s3: new S3Client({ ...viaBox, forcePathStyle: true }), bucket: SITES, prefix: 'shiplog', domain: DOMAIN, region: BOX_REGION,
    site: { role: role.Role!.Arn! }, sleep: async () => {},
    edge: { routing: keyValueStoreRouting(kvsClient(), KVS_ARN), distributionArn: DISTRIBUTION_ARN },
  });
  const edgeFunction = loadViewerRequestFunction(
    siteRouterCode({ siteDomain: DOMAIN, kvsId: KVS_ID, assetsDomain: `${SITES}.s3.${BOX_REGION}.amazonaws.com` }),
    (id) => kvs.reader(id),
  );
  const handler = frontDoor({
    lambda: new LambdaClient(direct), s3: motoS3, prefix: 'shiplog', sitesBucket: SITES, siteDomain: DOMAIN,
    invoke: (fn, event) => lambdaBox.invokeRaw(fn.functionName, fn.qualifier, event),
    edge: { run: (e) => edgeFunction.run(e), urls: (h) => urls.resolve(h) },
  });
  door = createServer(handler.handle);
  await new Promise<void>((r) => door.listen(0, '127.0.0.1', r));
}, 120_000);

afterAll(async () => {
  await new Promise((r) => door?.close(r));
  await lambdaBox?.close();
  await new Promise((r) => endpoint?.close(r));
  await moto?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('the front door on the sites distribution\'s routing state', () => {
  it('serves production, a deployment\'s own URL and a branch URL from the key value store, and rolls back with one key', async () => {
    const d1 = await deploy('web', 'one');
    // Published but on no alias: only its own URL serves it.
    expect((await get('web.sites.localhost')).status).toBe(404);
    expect((await get(`${d1.toLowerCase()}-web.sites.localhost`, '/x')).body).toBe(`one /x ${d1.toLowerCase()}-web.sites.localhost ${d1}`);
    await host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: d1 });
    const first = await get('web.sites.localhost', '/a');
    expect(first).toMatchObject({ status: 200, body: `one /a web.sites.localhost ${d1}` });
    expect(first.headers['x-shiplog-deployment']).toBe(d1);

    const d2 = await deploy('web', 'two');
    await host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: d2 });
    await host.shiftAlias({ projectId: 'web', alias: 'preview-login', deploymentId: d2 });
    expect((await get('web.sites.localhost', '/a')).body).toBe(`two /a web.sites.localhost ${d2}`);
    expect((await get('login--web.sites.localhost', '/b')).body).toBe(`two /b login--web.sites.localhost ${d2}`);
    // Rollback: one routing key; the old deployment's URL never moved.
    await host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: d1 });
    expect((await get('web.sites.localhost', '/a')).body).toBe(`one /a web.sites.localhost ${d1}`);
    expect((await get(`${d2.toLowerCase()}-web.sites.localhost`, '/')).body).toContain('two /');
    const key = await kvsClient().send(new GetKeyCommand({ KvsARN: KVS_ARN, Key: 'a:web:production' }));
    expect(key.Value).toBe(d1);
    expect(await host.aliasTarget('web', 'production')).toBe(d1);
  });

  it('serves assets from the deployment\'s S3 prefix with their headers, and a missing static file as a 404', async () => {
    const d = await deploy('assets', 'three');
    await host.shiftAlias({ projectId: 'assets', alias: 'production', deploymentId: d });
    const js = await get('assets.sites.localhost', '/_next/static/chunks/app-three.js');
    expect(js).toMatchObject({ status: 200, body: "console.log('three')" });
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['x-shiplog-deployment']).toBe(d);
    expect((await get('assets.sites.localhost', '/robots.txt')).body).toBe('User-agent: * (three)');
    expect((await get('assets.sites.localhost', '/_next/static/chunks/nope.js')).status).toBe(404);
  });

  it('gives each deployment an IAM-only Function URL on its own alias that only the distribution may invoke', async () => {
    const d = await deploy('urls', 'four');
    const fn = siteFunctionName('shiplog', 'urls');
    const url = await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: fn, Qualifier: deploymentAlias(d) }));
    expect(url).toMatchObject({ AuthType: 'AWS_IAM', InvokeMode: 'BUFFERED', FunctionUrl: expect.stringMatching(/^https:\/\/[0-9a-f]{32}\.lambda-url\./) });
    const policy = JSON.parse((await lambda.send(new GetPolicyCommand({ FunctionName: fn, Qualifier: deploymentAlias(d) }))).Policy!) as { Statement: Record<string, unknown>[] };
    expect(policy.Statement).toEqual([expect.objectContaining({
      Action: 'lambda:InvokeFunctionUrl', Principal: { Service: 'cloudfront.amazonaws.com' },
      Condition: expect.objectContaining({ ArnLike: { 'AWS:SourceArn': DISTRIBUTION_ARN } }),
    })]);
    // Publishing again (a retry) finds what it made.
    await host.publish({ projectId: 'urls', deploymentId: d, artifactDir: artifact('four') });
    expect((await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: fn, Qualifier: deploymentAlias(d) }))).FunctionUrl).toBe(url.FunctionUrl);
  });

  it('answers 404 for unknown projects and hosts, from the function itself', async () => {
    expect(await get('nope.sites.localhost')).toMatchObject({ status: 404, body: 'Project "nope" has no production deployment.\n' });
    expect((await get('example.net')).status).toBe(404);
  });
});
