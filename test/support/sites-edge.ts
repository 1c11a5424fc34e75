import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { monotonicFactory } from 'ulid';
import { awsSiteHost } from '../../services/deploy/adapters/site-host/aws.ts';
import { keyValueStoreRouting } from '../../services/deploy/adapters/site-host/aws-routing.ts';
import type { SiteHost } from '../../services/deploy/ports.ts';
import { siteRouterCode } from '../../infra/aws/edge/site-router.ts';
import { sitesKeyValueStoreClient } from '../../infra/aws/runtime/key-value-store-client.ts';
import { ASSET_HEADERS_SOURCE } from '../../infra/aws/edge/asset-headers.ts';
import { loadViewerRequestFunction, loadViewerResponseFunction } from '../../infra/aws/edge/runner.ts';
import { BODY_HASH_SOURCE, loadOriginRequestFunction } from '../../infra/aws/edge/body-hash.ts';
import { distributionTenantStandIn } from '../../infra/aws-box/distribution-tenants.ts';
import { awsEndpoint } from '../../infra/aws-box/endpoint.ts';
import type { EventBridgeStandIn } from '../../infra/aws-box/eventbridge.ts';
import { frontDoor, type FrontDoorOptions } from '../../infra/aws-box/front-door.ts';
import { functionUrlStandIn } from '../../infra/aws-box/function-urls.ts';
import { keyValueStoreStandIn } from '../../infra/aws-box/key-value-store.ts';
import { lambdaStandIn } from '../../infra/aws-box/lambda.ts';
import { BOX_ACCOUNT, BOX_CREDENTIALS, BOX_REGION, startMoto } from '../../infra/aws-box/moto.ts';

/** The sites bucket, domain, KeyValueStore and distribution of {@link startSitesEdge}. */
export const EDGE = {
  bucket: 'shiplog-sites',
  domain: 'sites.localhost',
  kvsId: '5f1c2b3a-0d4e-4f60-8a7b-9c0d1e2f3a4b',
  kvsArn: `arn:aws:cloudfront::${BOX_ACCOUNT}:key-value-store/5f1c2b3a-0d4e-4f60-8a7b-9c0d1e2f3a4b`,
  distributionArn: `arn:aws:cloudfront::${BOX_ACCOUNT}:distribution/E2SHIPLOGBOX`,
} as const;

/**
 * A directory shaped like an OpenNext output whose server function answers
 * `<tag> <path> <x-forwarded-host> <x-shiplog-deployment>`, with one static chunk and a robots.txt
 * (and `more` files, by their path in the output).
 *
 * @example
 * await host.publish({ projectId: 'web', deploymentId, artifactDir: edgeArtifact(work, 'one') });
 */
export const edgeArtifact = (work: string, tag: string, handler?: string, more: Record<string, string> = {}): string => {
  const dir = join(work, `artifact-${tag}-${monotonicFactory()()}`);
  const files: Record<string, string> = {
    'open-next.output.json': JSON.stringify({
      origins: { default: { type: 'function', handler: 'index.handler', bundle: '.open-next/server-functions/default', streaming: false }, s3: { type: 's3', originPath: '_assets', copy: [{ from: '.open-next/assets', to: '_assets' }] } },
      behaviors: [{ pattern: '_next/static*', origin: 's3' }, { pattern: '*', origin: 'default' }],
    }),
    [`assets/_next/static/chunks/app-${tag}.js`]: `console.log('${tag}')`,
    'assets/robots.txt': `User-agent: * (${tag})`,
    'server-functions/default/index.mjs': handler ??
      `export const handler = async (event) => ({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: '${tag} ' + event.rawPath + ' ' + event.headers['x-forwarded-host'] + ' ' + event.headers['x-shiplog-deployment'] });`,
    ...more,
  };
  for (const [p, body] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), body);
  }
  return `file://${dir}`;
};

/**
 * The AWS site host and the box's front door on the sites distribution's routing state, with
 * nothing else of the box: moto, the box's endpoint with its KeyValueStore, Function URL and
 * distribution tenant stand-ins, the Lambda stand-in running the published code, and the
 * declared CloudFront Function's code (`siteRouterCode`) in front. For tests and the bench;
 * `wrapInvoke` lets a test stand in for what a function does (a timeout, a stream).
 *
 * @example
 * const edge = await startSitesEdge();
 * const d1 = await edge.deploy('web', 'one');
 * await edge.host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: d1 });
 * (await edge.get('web.sites.localhost', '/')).body; // 'one / web.sites.localhost <d1>'
 * await edge.stop();
 */
export const startSitesEdge = async (opts: { wrapInvoke?: (invoke: FrontDoorOptions['invoke']) => FrontDoorOptions['invoke'] } = {}) => {
  const logs: string[] = [];
  const work = mkdtempSync(join(tmpdir(), 'shiplog-sites-edge-'));
  const ulid = monotonicFactory();
  const moto = await startMoto();
  const stops: (() => Promise<unknown>)[] = [async () => moto.stop(), async () => rmSync(work, { recursive: true, force: true })];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
  };
  try {
    const direct = { endpoint: moto.endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS };
    const motoS3 = new S3Client({ ...direct, forcePathStyle: true });
    await motoS3.send(new CreateBucketCommand({ Bucket: EDGE.bucket, CreateBucketConfiguration: { LocationConstraint: BOX_REGION } }));
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    const role = await new IAMClient(direct).send(new CreateRoleCommand({ RoleName: 'site', AssumeRolePolicyDocument: JSON.stringify(trust) }));
    const endpoint: Server = createServer();
    await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
    stops.push(() => new Promise((r) => endpoint.close(r)));
    const endpointUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
    const lambdaBox = lambdaStandIn({ lambda: new LambdaClient(direct), s3: motoS3, sqs: new SQSClient(direct), codeDir: join(work, 'code'), awsEndpoint: endpointUrl });
    stops.push(() => lambdaBox.close());
    const kvs = keyValueStoreStandIn();
    const urls = functionUrlStandIn({ region: BOX_REGION, account: BOX_ACCOUNT });
    const tenants = distributionTenantStandIn({ account: BOX_ACCOUNT });
    const unused = (what: string) => () => {
      throw new Error(`${what} is not part of the sites edge`);
    };
    const routes = awsEndpoint({
      moto: moto.endpoint, dynamodb: unused('DynamoDB'), codebuild: { handle: unused('CodeBuild') },
      eventbridge: { putEvents: unused('PutEvents'), invalidate: () => {} } as unknown as EventBridgeStandIn,
      lambda: lambdaBox, keyValueStores: kvs, functionUrls: urls, tenants,
    });
    endpoint.on('request', routes.handle);
    kvs.create({ name: 'shiplog-sites', arn: EDGE.kvsArn, id: EDGE.kvsId });
    tenants.declare({ name: 'shiplog-sites', distributionId: 'E2SHIPLOGBOX', domains: [`*.${EDGE.domain}`] });
    const kvsClient = () => sitesKeyValueStoreClient(endpointUrl, { region: BOX_REGION, credentials: BOX_CREDENTIALS });
    const viaBox = { endpoint: endpointUrl, region: BOX_REGION, credentials: BOX_CREDENTIALS };
    const lambda = new LambdaClient(viaBox);
    const host: SiteHost = awsSiteHost({
      lambda, s3: new S3Client({ ...viaBox, forcePathStyle: true }), bucket: EDGE.bucket, prefix: 'shiplog', domain: EDGE.domain, region: BOX_REGION,
      site: { role: role.Role!.Arn! }, sleep: async () => {},
      edge: { routing: keyValueStoreRouting(kvsClient(), EDGE.kvsArn), distributionArn: EDGE.distributionArn },
    });
    const edgeFunction = loadViewerRequestFunction(
      siteRouterCode({ siteDomain: EDGE.domain, kvsId: EDGE.kvsId, assetsDomain: `${EDGE.bucket}.s3.${BOX_REGION}.amazonaws.com` }),
      (id) => kvs.reader(id),
    );
    let hashBodies = true;
    const bodyHashFunction = loadOriginRequestFunction(BODY_HASH_SOURCE);
    const handler = frontDoor({
      s3: motoS3, sitesBucket: EDGE.bucket, log: (line) => logs.push(line),
      invoke: (opts.wrapInvoke ?? ((i) => i))((fn, event) => lambdaBox.invokeRaw(fn.functionName, fn.qualifier, event)),
      edge: {
        run: (e) => edgeFunction.run(e), urls: (h) => urls.resolve(h), servesHost: (h) => tenants.servesHost(h),
        // The declared body-hash Lambda@Edge function, as the stack associates it (off with `bodyHash(false)`).
        originRequest: async (r) => (hashBodies ? bodyHashFunction(r) : { kind: 'request', headers: {} }),
        // The declared viewer-response function that adds headers() to files in S3.
        viewerResponse: loadViewerResponseFunction(ASSET_HEADERS_SOURCE).run,
      },
    });
    const door: Server = createServer(handler.handle);
    await new Promise<void>((r) => door.listen(0, '127.0.0.1', r));
    stops.push(() => new Promise((r) => door.close(r)));
    const agent = new Agent({ keepAlive: true });
    stops.push(async () => agent.destroy());
    const get = (hostName: string, path = '/', headers: Record<string, string> = {}, method = 'GET', body?: string) =>
      new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
        const port = (door.address() as AddressInfo).port;
        const req = request({ host: '127.0.0.1', port, path, method, agent, headers: { host: `${hostName}:${port}`, ...headers } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c)).on('error', reject);
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        });
        req.on('error', reject).end(body);
      });
    const deploy = async (projectId: string, tag: string, handler?: string) => {
      const deploymentId = ulid();
      await host.publish({ projectId, deploymentId, artifactDir: edgeArtifact(work, tag, handler) });
      return deploymentId;
    };
    const cloudfront = new CloudFrontClient({ ...viaBox, region: 'us-east-1' });
    const bodyHash = (on: boolean) => {
      hashBodies = on;
    };
    return { host, lambda, lambdaBox, logs, cloudfront, kvs, kvsClient, routing: keyValueStoreRouting(kvsClient(), EDGE.kvsArn), urls, tenants, get, deploy, bodyHash, work, stop };
  } catch (err) {
    await stop();
    throw err;
  }
};

export type SitesEdge = Awaited<ReturnType<typeof startSitesEdge>>;
