import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudWatchLogsClient, DescribeLogStreamsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, LambdaClient, PublishVersionCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { cloudWatchMetricsSource } from '../../services/observability/adapters/metrics-source/aws.ts';
import { cloudWatchRuntimeLogStore } from '../../services/observability/adapters/runtime-log-store/aws.ts';
import { lambdaStandIn, type LambdaStandIn } from './lambda.ts';
import { BOX_ACCOUNT, BOX_CREDENTIALS, BOX_REGION, startMoto, type Moto } from './moto.ts';

// The Lambda stand-in writes each function's output and invocation reports to moto's CloudWatch
// Logs as Lambda does (JSON or Text format by the function's LoggingConfig), and the
// observability service's AWS adapters read them back as runtime logs and request metrics.
let moto: Moto;
let dir: string;
let lambda: LambdaStandIn;
let logs: CloudWatchLogsClient;
let motoLambda: LambdaClient;

const handlerSource = `export const handler = async (event) => {
  console.log('serving ' + event.path);
  if (event.fail) { console.error('about to fail'); throw new Error('boom'); }
  // What Next.js does when a page throws: it logs the error and answers its 500 page.
  if (event.render) { console.error('Error: the page threw'); return { statusCode: 500 }; }
  console.warn(JSON.stringify({ level: 'WARN', message: 'slow path', path: event.path }));
  return { ok: true };
};
console.log('module loaded');
`;

const createFunction = async (name: string, logFormat?: 'JSON' | 'Text'): Promise<string> => {
  const src = join(dir, name);
  execFileSync('mkdir', ['-p', src]);
  writeFileSync(join(src, 'index.mjs'), handlerSource);
  execFileSync('zip', ['-qj', join(dir, `${name}.zip`), join(src, 'index.mjs')]);
  const zip = readFileSync(join(dir, `${name}.zip`));
  lambda.recordCode(zip);
  const input = {
    FunctionName: name, Runtime: 'nodejs22.x' as const, Handler: 'index.handler', Role: `arn:aws:iam::${BOX_ACCOUNT}:role/site`,
    Code: { ZipFile: zip }, MemorySize: 1024, ...(logFormat ? { LoggingConfig: { LogFormat: logFormat } } : {}),
  };
  // What the box's endpoint does with a CreateFunction on its way to moto.
  lambda.captureConfig(name, input);
  await motoLambda.send(new CreateFunctionCommand(input));
  return (await motoLambda.send(new PublishVersionCommand({ FunctionName: name }))).Version!;
};

beforeAll(async () => {
  moto = await startMoto();
  dir = mkdtempSync(join(tmpdir(), 'shiplog-lambda-logs-'));
  const config = { endpoint: moto.endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS };
  motoLambda = new LambdaClient(config);
  const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
  await new IAMClient(config).send(new CreateRoleCommand({ RoleName: 'site', AssumeRolePolicyDocument: JSON.stringify(trust) }));
  logs = new CloudWatchLogsClient(config);
  lambda = lambdaStandIn({
    lambda: motoLambda, s3: new S3Client({ ...config, forcePathStyle: true }), sqs: new SQSClient(config),
    codeDir: join(dir, 'code'), awsEndpoint: moto.endpoint, logs,
  });
});
afterAll(async () => {
  await lambda?.close();
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the Lambda stand-in writes CloudWatch Logs as Lambda does', () => {
  it('JSON format: application records with level and request id, platform.report per invocation; read back as runtime logs and metrics', async () => {
    const version = await createFunction('site-json', 'JSON');
    const ok = await lambda.invoke('site-json', version, { path: '/a' });
    expect(ok.payload).toEqual({ ok: true });
    const failed = await lambda.invoke('site-json', version, { path: '/b', fail: true });
    expect(failed.error?.errorMessage).toContain('boom');
    const answered500 = await lambda.invoke('site-json', version, { path: '/c', render: true });
    expect(answered500).toMatchObject({ payload: { statusCode: 500 } });
    expect(answered500.error).toBeUndefined();
    await lambda.flushLogs();

    const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/lambda/site-json' }));
    expect(streams.logStreams?.map((s) => s.logStreamName)).toEqual([expect.stringMatching(new RegExp(`^\\d{4}/\\d{2}/\\d{2}/\\[${version}\\][0-9a-f]{32}$`))]);
    const events = await logs.send(new GetLogEventsCommand({ logGroupName: '/aws/lambda/site-json', logStreamName: streams.logStreams![0]!.logStreamName!, startFromHead: true }));
    const records = events.events!.map((e) => JSON.parse(e.message!) as Record<string, unknown>);
    expect(records.filter((r) => r.type === 'platform.report')).toHaveLength(3);
    const served = records.find((r) => r.message === 'serving /a')!;
    expect(served).toMatchObject({ level: 'INFO', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    // A line the function wrote as JSON keeps its own fields.
    expect(records.find((r) => r.message === 'slow path')).toMatchObject({ level: 'WARN', path: '/a', requestId: served.requestId });

    const versionsOf = async () => [{ functionName: 'site-json', version }];
    const store = cloudWatchRuntimeLogStore({ logs, versionsOf });
    const all = await store.query({ projectId: 'web', deploymentId: 'd1' });
    expect(all.map((r) => [r.kind, r.level, r.message])).toEqual(expect.arrayContaining([
      ['console', 'info', 'serving /a'],
      ['console', 'warning', 'slow path'],
      ['console', 'error', 'about to fail'],
      ['request', 'info', expect.stringMatching(/^invocation success in \d+ ms \(cold start\)$/)],
      ['request', 'error', expect.stringMatching(/^invocation error in \d+ ms$/)],
    ]));
    expect(all.every((r) => r.projectId === 'web' && r.deploymentId === 'd1')).toBe(true);
    const errors = await store.query({ projectId: 'web', deploymentId: 'd1', level: 'error' });
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.every((r) => r.level === 'error')).toBe(true);
    // The failed invocation's lines share its request id.
    const failedReport = errors.find((r) => r.kind === 'request')!;
    expect(errors.filter((r) => r.kind === 'request')).toHaveLength(1);
    expect(errors.find((r) => r.message === 'about to fail')?.requestId).toBe(failedReport.requestId);

    const metrics = cloudWatchMetricsSource({ logs, versionsOf, deploymentsOf: async () => ['d1'] });
    const since = new Date(Date.now() - 3600_000).toISOString();
    const [m] = await metrics.deployments({ projectId: 'web', since, until: new Date(Date.now() + 60_000).toISOString() });
    // The failed invocation and the one that logged an error (a page that threw) count as 5xx.
    expect(m).toMatchObject({ deploymentId: 'd1', requests: 3, status5xx: 2, coldStarts: 1, routes: [] });
    expect(m!.usage.invocations).toBe(3);
    expect(m!.usage.gbSeconds).toBeGreaterThan(0);
  });

  it('Text format by default: START/END/REPORT lines and tab-separated application lines, as console records', async () => {
    const version = await createFunction('site-text');
    await lambda.invoke('site-text', version, { path: '/t' });
    await lambda.flushLogs();
    const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/lambda/site-text' }));
    const events = await logs.send(new GetLogEventsCommand({ logGroupName: '/aws/lambda/site-text', logStreamName: streams.logStreams![0]!.logStreamName!, startFromHead: true }));
    const lines = events.events!.map((e) => e.message!);
    expect(lines[0]).toMatch(new RegExp(`^START RequestId: [0-9a-f-]{36} Version: ${version}$`));
    expect(lines.some((l) => /^\S+\t[0-9a-f-]{36}\tINFO\tserving \/t$/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^REPORT RequestId: [0-9a-f-]{36}\tDuration: \d+\.\d{2} ms\tBilled Duration: \d+ ms\tMemory Size: 1024 MB/);
    const store = cloudWatchRuntimeLogStore({ logs, versionsOf: async () => [{ functionName: 'site-text', version }] });
    const read = await store.query({ projectId: 'web', deploymentId: 'd2' });
    expect(read.find((r) => r.message === 'serving /t')).toMatchObject({ kind: 'console', level: 'info', requestId: expect.any(String) });
    expect(read.some((r) => r.message.startsWith('START') || r.message.startsWith('REPORT'))).toBe(false);
    // The REPORT line is the invocation's summary, as the JSON platform.report is.
    expect(read.filter((r) => r.kind === 'request')).toEqual([
      expect.objectContaining({ level: 'info', requestId: read.find((r) => r.message === 'serving /t')!.requestId, message: expect.stringMatching(/^invocation success in \d+ ms \(cold start\)$/) }),
    ]);
    const metrics = cloudWatchMetricsSource({ logs, versionsOf: async () => [{ functionName: 'site-text', version }], deploymentsOf: async () => ['d2'] });
    const [m] = await metrics.deployments({ projectId: 'web', since: new Date(Date.now() - 3600_000).toISOString(), until: new Date(Date.now() + 60_000).toISOString() });
    expect(m).toMatchObject({ deploymentId: 'd2', requests: 1, status5xx: 0, coldStarts: 1 });
  });

  it('follows new records of a deployment as they are written, and only its version', async () => {
    const version = await createFunction('site-follow', 'JSON');
    // The next deployment's code, published as the next version.
    writeFileSync(join(dir, 'site-follow', 'index.mjs'), `${handlerSource}// next\n`);
    execFileSync('zip', ['-qj', join(dir, 'next.zip'), join(dir, 'site-follow', 'index.mjs')]);
    const next = readFileSync(join(dir, 'next.zip'));
    lambda.recordCode(next);
    await motoLambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'site-follow', ZipFile: next }));
    const other = (await motoLambda.send(new PublishVersionCommand({ FunctionName: 'site-follow' }))).Version!;
    const store = cloudWatchRuntimeLogStore({ logs, versionsOf: async () => [{ functionName: 'site-follow', version }], pollMs: 100 });
    const seen: string[] = [];
    const stop = store.follow({ projectId: 'web', deploymentId: 'd3' }, (r) => seen.push(r.message));
    try {
      await lambda.invoke('site-follow', version, { path: '/mine' });
      expect(other).not.toBe(version);
      await lambda.invoke('site-follow', other, { path: '/theirs' });
      await lambda.flushLogs();
      await expect.poll(() => seen, { timeout: 15_000 }).toContain('serving /mine');
      expect(seen).not.toContain('serving /theirs');
    } finally {
      stop();
    }
    await expect(store.append([])).rejects.toThrow(/Lambda writes the runtime logs/);
  });
});
