import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACMClient, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { ApiGatewayV2Client } from '@aws-sdk/client-apigatewayv2';
import { CloudFrontClient, ListOriginAccessControlsCommand } from '@aws-sdk/client-cloudfront';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { GetBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSET_HEADERS_SOURCE } from '../aws/edge/asset-headers.ts';
import { siteRouterCode } from '../aws/edge/site-router.ts';
import { subscriptions } from '../topology.ts';
import type { FunctionCode } from './bundle.ts';
import { codeBuildStandIn } from './codebuild.ts';
import { declareStack, type DeclaredStack } from './declared.ts';
import { materialize, type BoxClients, type Materialized } from './materialize.ts';
import { BOX_ACCOUNT, BOX_CREDENTIALS, BOX_REGION, startMoto, type Moto } from './moto.ts';

// The box's stack as `infra/aws` declares it, created in moto by materialize: here, what it makes of
// the sites' CloudFront front (infra/aws/sites-edge.ts). Everything goes straight to one moto
// (its DynamoDB too) but CodeBuild, which the box's CodeBuild stand-in holds; the box's own start
// (endpoint, the other stand-ins) is box.ts's and its tests'.

let moto: Moto;
let dir: string;
let stack: DeclaredStack;
let made: Materialized;
let codebuild: Server;
let stopBuilds: (() => Promise<void>) | undefined;
const config = () => ({ endpoint: moto.endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS });

beforeAll(async () => {
  moto = await startMoto();
  dir = mkdtempSync(join(tmpdir(), 'shiplog-materialize-'));
  writeFileSync(join(dir, 'index.mjs'), 'export const handler = async () => ({});\n');
  execFileSync('zip', ['-qX', 'code.zip', 'index.mjs'], { cwd: dir });
  const code: FunctionCode = { zip: readFileSync(join(dir, 'code.zip')), sha256: '', handlerOf: () => 'index.handler' };
  const c = config();
  // No build runs here: the stand-in only holds the declared project.
  const builds = codeBuildStandIn({ awsEndpoint: moto.endpoint, workRoot: join(dir, 'codebuild'), putEvents: async () => undefined });
  stopBuilds = () => builds.stop();
  codebuild = createServer((req, res) => builds.handle(req, res));
  await new Promise<void>((resolve) => codebuild.listen(0, '127.0.0.1', resolve));
  const { port } = codebuild.address() as { port: number };
  const clients: BoxClients = {
    apigateway: new ApiGatewayV2Client(c), dynamodb: new DynamoDBClient(c), logs: new CloudWatchLogsClient(c),
    codebuild: new CodeBuildClient({ ...c, endpoint: `http://127.0.0.1:${port}` }),
    events: new EventBridgeClient(c), iam: new IAMClient(c), kms: new KMSClient(c), lambda: new LambdaClient(c),
    s3: new S3Client({ ...c, forcePathStyle: true }), sqs: new SQSClient(c),
  };
  stack = await declareStack(subscriptions, { stage: 'box', siteDomain: 'localhost', functionName: (spec, prefix) => `${prefix}-${spec.name}` });
  made = await materialize(stack, clients, code);
}, 240_000);

afterAll(async () => {
  await stopBuilds?.();
  await new Promise((resolve) => (codebuild ? codebuild.close(resolve) : resolve(undefined)));
  await moto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("materialize: the sites' CloudFront front", () => {
  it('requests the wildcard certificate in us-east-1, where CloudFront reads it', async () => {
    expect(made.edge.certificateArn).toMatch(new RegExp(`^arn:aws:acm:us-east-1:${BOX_ACCOUNT}:certificate/`));
    const acm = new ACMClient({ ...config(), region: 'us-east-1' });
    const { Certificate } = await acm.send(new DescribeCertificateCommand({ CertificateArn: made.edge.certificateArn }));
    expect(Certificate?.DomainName).toBe('*.localhost');
  });

  it('creates both origin access controls in moto', async () => {
    const cloudfront = new CloudFrontClient({ ...config(), region: 'us-east-1' });
    const { OriginAccessControlList } = await cloudfront.send(new ListOriginAccessControlsCommand({}));
    const oacs = (OriginAccessControlList?.Items ?? []).map((o) => [o.Name, o.OriginAccessControlOriginType, o.SigningBehavior, o.SigningProtocol]);
    expect(oacs.sort()).toEqual([
      ['shiplog-box-sites-lambda', 'lambda', 'always', 'sigv4'],
      ['shiplog-box-sites-s3', 's3', 'always', 'sigv4'],
    ]);
  });

  it("puts the sites bucket's policy: the distribution reads sites/*", async () => {
    const bucket = stack.one('aws:s3/bucket:Bucket', 'Sites').state.bucket as string;
    const s3 = new S3Client({ ...config(), forcePathStyle: true });
    const policy = JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? '{}');
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Action: 's3:GetObject',
        Resource: `arn:aws:s3:::${bucket}/sites/*`,
        Condition: { StringEquals: { 'AWS:SourceArn': made.edge.distributionArn } },
      }),
    ]);
  });

  it('records what moto cannot hold, AWS-shaped, for the front door: the store, the function code, the distribution and its tenant domains', () => {
    const { keyValueStore, functionCode, distributionArn, tenantDomains } = made.edge;
    expect(keyValueStore.name).toBe('shiplog-box-sites');
    expect(keyValueStore.arn).toBe(`arn:aws:cloudfront::${BOX_ACCOUNT}:key-value-store/${keyValueStore.id}`);
    expect(keyValueStore.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const bucket = stack.one('aws:s3/bucket:Bucket', 'Sites').state.bucket as string;
    expect(functionCode).toBe(siteRouterCode({ siteDomain: 'localhost', kvsId: keyValueStore.id, assetsDomain: `${bucket}.s3.${BOX_REGION}.amazonaws.com` }));
    expect(distributionArn).toMatch(new RegExp(`^arn:aws:cloudfront::${BOX_ACCOUNT}:distribution/E[0-9A-Z]{13}$`));
    expect(tenantDomains).toEqual(['*.localhost']);
    // the viewer-response function (headers() on files from S3) is told apart from the router by its name
    expect(made.edge.responseFunctionCode).toBe(ASSET_HEADERS_SOURCE);
  });

  it('gives the deploy functions the store and the distribution, as declared', () => {
    for (const fn of stack.ofType('aws:lambda/function:Function').filter((f) => String(f.inputs.handler).startsWith('infra/aws/functions/deploy.'))) {
      const env = (fn.inputs.environment as { variables: Record<string, string> }).variables;
      expect(env.SHIPLOG_SITES_KVS_ARN, fn.name).toBe(made.edge.keyValueStore.arn);
      expect(env.SHIPLOG_SITES_DISTRIBUTION_ARN, fn.name).toBe(made.edge.distributionArn);
    }
  });
});

describe("materialize: the stage's GitHub connection", () => {
  it('creates nothing of it (moto serves no CodeConnections) and says so, with the ARN the build entry is given', async () => {
    const declared = stack.one('aws:codeconnections/connection:Connection', 'GitHubConnection');
    expect(made.declaredOnly).toEqual([
      { type: declared.type, name: 'GitHubConnection', arn: declared.state.arn, reason: expect.stringMatching(/moto serves no CodeConnections/) },
    ]);
    const starter = stack.registered.find((r) => r.type === 'aws:lambda/function:Function' && r.name === 'BuildOnDeploymentRequested')!;
    const env = (starter.inputs.environment as { variables: Record<string, string> }).variables;
    expect(env.SHIPLOG_GITHUB_CONNECTION_ARN).toBe(declared.state.arn);
  });
});
