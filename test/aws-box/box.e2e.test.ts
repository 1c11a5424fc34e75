import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListRulesCommand, ListTargetsByRuleCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetAliasCommand, GetFunctionEventInvokeConfigCommand, LambdaClient, ListVersionsByFunctionCommand } from '@aws-sdk/client-lambda';
import { CreateHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscriptions } from '../../infra/topology.ts';
import { awsRules } from '../../infra/aws/index.ts';
import { BOX_CREDENTIALS, BOX_REGION } from '../../infra/aws-box/moto.ts';
import { deploymentOfHead, gitCommitAll, gitPush, startShiplog, type LocalShiplog } from '../support/local-shiplog.ts';

// shiplog's AWS composition end to end on this machine (`npm run start:aws-box`, docs/aws-box.md):
// the Lambda handlers bundled as SST would ship them, on moto + DynamoDB Local, a real git push of
// a Next.js app built by the real buildspec through the CodeBuild stand-in, published by the
// deploy handler to moto Lambda/S3, served by the front door; then a second deploy and a rollback.
// Asserted through the CLI (as against `npm start`) and against moto's state.
const fixture = new URL('../fixtures/next-app/', import.meta.url).pathname;
const markerFile = (dir: string) => join(dir, 'app', 'marker.js');
const setMarker = (dir: string, marker: string) =>
  writeFileSync(markerFile(dir), readFileSync(markerFile(dir), 'utf8').replace(/BUILD_MARKER = '[^']*'/, `BUILD_MARKER = '${marker}'`));
const prefix = 'shiplog-box';
const siteFunction = `${prefix}-site-web`;

interface Row { id: string; status: string; live: boolean; sha: string }

describe('the AWS box: push, build on CodeBuild, live on Lambda + S3, deploy again, roll back', () => {
  let sl: LocalShiplog;
  let work: string;
  let remote: string;
  let aws: { lambda: LambdaClient; s3: S3Client; events: EventBridgeClient; sqs: SQSClient; route53: Route53Client };
  const ids: string[] = [];

  const pushAndWait = async (message: string) => {
    gitCommitAll(work, message);
    gitPush(work, remote);
    const id = await deploymentOfHead(sl, 'web', work, 120_000);
    const wait = sl.cli(['deployments', 'wait', id, '--timeout', '900'], 960_000);
    expect(wait.status, `${wait.stdout}\n${wait.stderr}\n${sl.output().slice(-4000)}`).toBe(0);
    ids.push(id);
    return id;
  };
  const served = async (marker: string) => {
    const home = await sl.site('web.localhost', '/');
    return home.status === 200 && home.body.includes(marker);
  };
  const aliasVersion = async () => (await aws.lambda.send(new GetAliasCommand({ FunctionName: siteFunction, Name: 'production' }))).FunctionVersion;
  const versionOf = async (deploymentId: string) => {
    const { Versions = [] } = await aws.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: siteFunction }));
    return Versions.find((v) => v.Description === `shiplog:${deploymentId}`)?.Version;
  };

  beforeAll(async () => {
    // moto issues a DNS-validated certificate after MOTO_ACM_VALIDATION_WAIT seconds (60 by
    // default); the schedules run 20 times faster (DomainsReconcile every 3 s).
    sl = await startShiplog({ runtime: 'aws-box', env: { MOTO_ACM_VALIDATION_WAIT: '8', SHIPLOG_BOX_SCHEDULE_SCALE: '0.05' } });
    const endpoint = /aws endpoint (http:\/\/127\.0\.0\.1:\d+)/.exec(sl.output())?.[1];
    expect(endpoint, sl.output()).toBeDefined();
    const config = { endpoint: endpoint!, region: BOX_REGION, credentials: BOX_CREDENTIALS };
    aws = {
      lambda: new LambdaClient(config), s3: new S3Client({ ...config, forcePathStyle: true }), events: new EventBridgeClient(config), sqs: new SQSClient(config),
      route53: new Route53Client(config),
    };
    work = mkdtempSync(join(tmpdir(), 'shiplog-box-app-'));
    cpSync(fixture, work, { recursive: true, filter: (src) => !/node_modules|\.next|\.open-next/.test(src) });
    remote = sl.json<{ gitRemote: string }>(['projects', 'create', 'web']).gitRemote;
    expect(sl.cli(['env', 'set', 'web', 'NEXT_PUBLIC_SITE_NAME=Shiplog Box']).status).toBe(0);
    setMarker(work, 'box-one');
    expect(spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: work }).status).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await sl?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('created every declared rule in moto, each with its function target, async retry policy and dead-letter queue', async () => {
    const { Rules = [] } = await aws.events.send(new ListRulesCommand({ EventBusName: prefix }));
    expect(Rules.map((r) => r.Name).sort()).toEqual(subscriptions.map((s) => `${prefix}-${s.name}`).sort());
    const { Rules: defaultRules = [] } = await aws.events.send(new ListRulesCommand({ EventBusName: 'default' }));
    expect(defaultRules.map((r) => r.Name)).toEqual(expect.arrayContaining(awsRules(`${prefix}-build`).map((r) => `${prefix}-${r.name}`)));
    for (const sub of subscriptions) {
      const { Targets = [] } = await aws.events.send(new ListTargetsByRuleCommand({ Rule: `${prefix}-${sub.name}`, EventBusName: prefix }));
      expect(Targets.map((t) => t.Arn)).toEqual([expect.stringMatching(new RegExp(`:function:${prefix}-${sub.name}$`))]);
      const invoke = await aws.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: `${prefix}-${sub.name}` }));
      expect(invoke.MaximumRetryAttempts).toBeLessThanOrEqual(2);
      if (sub.policy.deadLetter) expect(invoke.DestinationConfig?.OnFailure?.Destination).toMatch(new RegExp(`:${prefix}-${sub.name}-dlq$`));
    }
  });

  it('takes a git push through CodeBuild to a live Lambda version behind the production alias, assets in S3', async () => {
    const id = await pushAndWait('first version');
    expect(sl.json<Row>(['deployments', 'get', id])).toMatchObject({ status: 'ready', live: true });
    await expect.poll(() => served('box-one'), { timeout: 30_000 }).toBe(true);
    const home = await sl.site('web.localhost', '/');
    expect(home.body).toContain('Shiplog Box'); // NEXT_PUBLIC_ inlined by the buildspec's build
    const api = await sl.site('web.localhost', '/api/hello');
    expect(JSON.parse(api.body)).toMatchObject({ marker: 'box-one' });
    // moto: a published version described with the deployment, the alias on it
    const version = await versionOf(id);
    expect(version).toMatch(/^\d+$/);
    expect(await aliasVersion()).toBe(version);
    // moto S3: the hashed assets with the immutable cache header, served as they are stored
    const staticPath = /\/_next\/static\/[^"']+\.js/.exec(home.body)?.[0];
    expect(staticPath).toBeDefined();
    const { Contents = [] } = await aws.s3.send(new ListObjectsV2Command({ Bucket: `${prefix}-sites-mock`, Prefix: `sites/web/${id}/_next/static/` }));
    expect(Contents.length).toBeGreaterThan(0);
    const head = await aws.s3.send(new HeadObjectCommand({ Bucket: `${prefix}-sites-mock`, Key: `sites/web/${id}${staticPath}` }));
    expect(head.CacheControl).toContain('immutable');
    const asset = await sl.site('web.localhost', staticPath!);
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    // the build's log, read back from moto's CloudWatch Logs by the API
    const logs = sl.cli(['logs', id]);
    expect(logs.stdout).toMatch(/next build|Compiled|Route \(app\)/);
  }, 1_000_000);

  it('makes a second push live while the first keeps its own URL', async () => {
    setMarker(work, 'box-two');
    const id = await pushAndWait('second version');
    await expect.poll(() => served('box-two'), { timeout: 30_000 }).toBe(true);
    expect(await aliasVersion()).toBe(await versionOf(id));
    const first = await sl.site(`${ids[0]!.toLowerCase()}-web.localhost`, '/');
    expect(first.body).toContain('box-one');
  }, 1_000_000);

  it('rolls production back to the first deployment with one alias update, no rebuild', async () => {
    const rolled = sl.cli(['rollback', 'web', '--to', ids[0]!]);
    expect(rolled.status, rolled.stderr).toBe(0);
    await expect.poll(() => served('box-one'), { timeout: 60_000 }).toBe(true);
    expect(await aliasVersion()).toBe(await versionOf(ids[0]!));
    const { Versions = [] } = await aws.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: siteFunction }));
    expect(Versions.filter((v) => v.Version !== '$LATEST')).toHaveLength(2); // no third build published
  }, 120_000);

  it('activates and serves a custom domain whose certificate is still pending when first checked: the scheduled reconcile, not redelivery', async () => {
    interface Domain { host: string; status: string; records?: { name: string; type: string; value: string; zone?: string }[] }
    // example.com is a hosted zone of the account: its records are created there, not left to the user.
    const { route53 } = aws;
    const zone = (await route53.send(new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: 'box-e2e' }))).HostedZone!.Id!.replace('/hostedzone/', '');
    const added = sl.cli(['domains', 'add', 'web', 'www.example.com']);
    expect(added.status, added.stderr).toBe(0);
    const statusOf = () => sl.json<Domain[]>(['domains', 'ls', 'web']).find((d) => d.host === 'www.example.com')?.status;
    // ACM answers PENDING_VALIDATION first: the handler records nothing and returns (no retry, no DLQ)
    await expect.poll(statusOf, { timeout: 30_000 }).toBe('pending');
    const shown = sl.json<Domain[]>(['domains', 'ls', 'web']).find((d) => d.host === 'www.example.com')!.records ?? [];
    expect(shown.map((r) => r.zone)).toEqual(shown.map(() => zone));
    const sets = (await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zone }))).ResourceRecordSets ?? [];
    const routing = sets.find((r) => r.Name === 'www.example.com.' && r.Type === 'CNAME');
    // It points at the sites' routing endpoint (the connection group's), as the declaration gives it.
    expect(routing?.ResourceRecords?.[0]?.Value).toMatch(/\.cloudfront\.net\.?$/);
    expect(sets.some((r) => r.Type === 'CNAME' && r.Name !== 'www.example.com.' && r.Name?.endsWith('.www.example.com.'))).toBe(true);
    // Not served before it is attached: no distribution tenant carries the host yet.
    expect((await sl.site('www.example.com', '/')).status).toBe(403);
    await expect.poll(statusOf, { timeout: 90_000, interval: 1000 }).toBe('active');
    // Active means served: its tenant and routing entry came with it, and it serves production (rolled back to box-one).
    const home = await sl.site('www.example.com', '/');
    expect(home.status).toBe(200);
    expect(home.body).toContain('box-one');
    const pending = `${prefix}-DomainsOnValidationPending-dlq`;
    const { QueueUrl } = await aws.sqs.send(new GetQueueUrlCommand({ QueueName: pending }));
    const attrs = await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    expect(attrs.Attributes?.ApproximateNumberOfMessages).toBe('0');
  }, 150_000);

  it('left nothing in the dead-letter queues', async () => {
    for (const name of [...subscriptions.map((s) => s.name).filter((n) => subscriptions.find((s) => s.name === n)?.policy.deadLetter), 'outbox']) {
      const queue = name === 'outbox' ? `${prefix}-outbox-dlq` : `${prefix}-${name}-dlq`;
      const { QueueUrl } = await aws.sqs.send(new GetQueueUrlCommand({ QueueName: queue }));
      const attrs = await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
      expect(attrs.Attributes?.ApproximateNumberOfMessages, queue).toBe('0');
    }
  });
});
