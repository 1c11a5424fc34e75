import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  BatchGetBuildsCommand, BatchGetProjectsCommand, CodeBuildClient, CreateProjectCommand, ListBuildsForProjectCommand,
  StartBuildCommand, StopBuildCommand, type Build, type StartBuildCommandInput,
} from '@aws-sdk/client-codebuild';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cloudWatchLogStore } from '../../services/build/adapters/log-store/aws.ts';
import { codeBuildScheduler, parameterStoreRef } from '../../services/build/adapters/scheduler/aws.ts';
import { artifactUriFor } from '../../services/build/adapters/scheduler/buildspec.ts';
import { scheduled } from '../../services/build/adapters/scheduler/codebuild.fixtures.ts';
import { codeBuildCompletions, CodeBuildStateChange } from '../../services/build/adapters/scheduler/codebuild-events.ts';
import type { BuildOutcome } from '../../services/build/ports.ts';
import { codeBuildStandIn, type BoxEventEntry, type CodeBuildStandIn } from './codebuild.ts';
import { BOX_CREDENTIALS, BOX_REGION, startMoto, type Moto } from './moto.ts';

const PROJECT = 'shiplog-build';
const BUCKET = 'box-artifacts';
const GROUP = `/aws/codebuild/${PROJECT}`;
const SECRET = 'sk-box-5a1f0c7e9d';
const MINUTE_MS = 200; // a 5-minute timeout lasts one second

let moto: Moto;
let work: string;
let standIn: CodeBuildStandIn;
let server: Server;
let codebuild: CodeBuildClient;
let s3: S3Client;
let logs: CloudWatchLogsClient;
let skewMs = 0;
const events: BoxEventEntry[] = [];
const boxLog: string[] = [];

const serve = async (handler: CodeBuildStandIn) => {
  const srv = createServer((req, res) => handler.handle(req, res));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const client = new CodeBuildClient({ endpoint: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, region: BOX_REGION, credentials: BOX_CREDENTIALS });
  return { srv, client };
};

beforeAll(async () => {
  moto = await startMoto();
  const aws = { endpoint: moto.endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS };
  s3 = new S3Client({ ...aws, forcePathStyle: true });
  logs = new CloudWatchLogsClient(aws);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: BOX_REGION } }));
  await new SSMClient(aws).send(new PutParameterCommand({ Name: '/shiplog/env/web/production/API_KEY/3', Value: SECRET, Type: 'SecureString' }));
  work = mkdtempSync(join(tmpdir(), 'codebuild-box-'));
  standIn = codeBuildStandIn({
    awsEndpoint: moto.endpoint, workRoot: work, minuteMs: MINUTE_MS, listPageSize: 2,
    putEvents: async (entries) => void events.push(...entries),
    log: (line) => boxLog.push(line),
    now: () => Date.now() + skewMs,
  });
  ({ srv: server, client: codebuild } = await serve(standIn));
  await codebuild.send(new CreateProjectCommand({
    name: PROJECT, source: { type: 'NO_SOURCE', buildspec: 'version: 0.2\nphases: {}\n' }, artifacts: { type: 'NO_ARTIFACTS' },
    environment: { type: 'LINUX_CONTAINER', image: 'aws/codebuild/standard:7.0', computeType: 'BUILD_GENERAL1_MEDIUM' },
    serviceRole: 'arn:aws:iam::123456789012:role/shiplog-build', timeoutInMinutes: 600,
    logsConfig: { cloudWatchLogs: { status: 'ENABLED', groupName: GROUP } },
  }));
}, 120_000);

afterAll(async () => {
  await standIn?.stop();
  server?.close();
  await moto?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const spec = (phases: Record<string, string[]>, extra = '') =>
  ['version: 0.2', 'env:', '  shell: bash', extra, 'phases:',
    ...Object.entries(phases).flatMap(([name, commands]) => [`  ${name}:`, '    commands:', ...commands.map((c) => `      - ${JSON.stringify(c)}`)]),
  ].filter(Boolean).join('\n');

const start = async (buildspec: string, over: Partial<StartBuildCommandInput> = {}): Promise<Build> =>
  (await codebuild.send(new StartBuildCommand({ projectName: PROJECT, sourceTypeOverride: 'NO_SOURCE', buildspecOverride: buildspec, ...over }))).build!;

/** vi.waitFor with the patience a real build needs. */
const waitFor = <T>(fn: () => Promise<T>): Promise<T> => vi.waitFor(fn, { timeout: 60_000, interval: 200 });

const get = async (id: string, client = codebuild): Promise<Build> => (await client.send(new BatchGetBuildsCommand({ ids: [id] }))).builds![0]!;

const finished = (id: string) =>
  waitFor(async () => {
    const b = await get(id);
    expect(b.buildComplete).toBe(true);
    // its last state change is out too
    expect(events.some((e) => e.Resources?.includes(b.arn!) && (JSON.parse(e.Detail) as { 'build-status': string })['build-status'] !== 'IN_PROGRESS')).toBe(true);
    return b;
  });

const logLines = async (b: Build): Promise<string[]> =>
  ((await logs.send(new FilterLogEventsCommand({ logGroupName: b.logs!.groupName, logStreamNames: [b.logs!.streamName!] }))).events ?? []).map((e) => e.message ?? '');

const phasesOf = (b: Build) => (b.phases ?? []).map((p) => `${p.phaseType}:${p.phaseStatus ?? ''}`);

const stateChangesOf = (b: Build) =>
  events.filter((e) => e.Resources?.includes(b.arn!)).map((e) => ({ version: '0', id: 'x', 'detail-type': e.DetailType, source: e.Source, account: '123456789012', time: e.Time?.toISOString(), region: BOX_REGION, resources: e.Resources, detail: JSON.parse(e.Detail) as unknown }));

const completionOf = async (event: unknown) => {
  const outcomes: BuildOutcome[] = [];
  const completions = codeBuildCompletions({
    codebuild, s3, projectName: PROJECT, isOpen: async () => true,
    events: { started: async () => undefined, superseded: async () => undefined, finished: async (_b, o) => void outcomes.push(o) },
  });
  expect(await completions.onStateChange(event)).toBe('finished');
  return outcomes[0]!;
};

const isAlive = (pid: number) => {
  if (!existsSync(`/proc/${pid}/stat`)) return false;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
};

describe('CodeBuild stand-in', () => {
  it('runs a buildspec with plain and parameter-store variables, uploads with aws s3 cp, logs to CloudWatch and never shows the secret', async () => {
    const d1 = scheduled('01JD000000000000000000000A');
    const artifactUri = artifactUriFor(BUCKET, d1.projectId, d1.deploymentId);
    const manifest = { sha256: 'ab'.repeat(32), sizeBytes: 6, files: 1, versions: { next: '16.4.5', openNext: '4.1.12' } };
    const build = await start(spec({
      install: ['echo "greeting=$GREETING"', 'echo "secret=$API_KEY"', 'printf %s "$API_KEY" | sha256sum', 'mkdir -p sub && cd sub && export FROM_INSTALL=kept'],
      build: [
        'echo "cwd=$PWD from=$FROM_INSTALL succeeding=$CODEBUILD_BUILD_SUCCEEDING build=$CODEBUILD_BUILD_ID"',
        'echo hello > out.txt && aws s3 cp out.txt "${SHIPLOG_ARTIFACT_URI}out.txt" --only-show-errors',
        `echo '${JSON.stringify(manifest)}' > m.json && aws s3 cp m.json "\${SHIPLOG_ARTIFACT_URI}shiplog-build.json" --only-show-errors`,
      ],
    }).replace('  install:\n', '  install:\n    runtime-versions:\n      nodejs: "20"\n'), {
      idempotencyToken: d1.deploymentId,
      environmentVariablesOverride: [
        { name: 'API_KEY', type: 'PARAMETER_STORE', value: '/shiplog/env/web/production/API_KEY/3' },
        { name: 'GREETING', type: 'PLAINTEXT', value: 'hi' },
        { name: 'SHIPLOG_ARTIFACT_URI', type: 'PLAINTEXT', value: artifactUri },
        { name: 'SHIPLOG_BUILD', type: 'PLAINTEXT', value: JSON.stringify(d1) },
      ],
      logsConfigOverride: { cloudWatchLogs: { status: 'ENABLED', streamName: d1.deploymentId } },
    });
    expect(build).toMatchObject({ buildStatus: 'IN_PROGRESS', buildComplete: false, projectName: PROJECT, timeoutInMinutes: 600 });
    expect(build.id).toMatch(new RegExp(`^${PROJECT}:[0-9a-f-]{36}$`));
    expect(build.arn).toBe(`arn:aws:codebuild:${BOX_REGION}:123456789012:build/${build.id}`);
    expect(build.startTime).toBeInstanceOf(Date);

    const done = await finished(build.id!);
    expect(done.buildStatus).toBe('SUCCEEDED');
    expect(done.currentPhase).toBe('COMPLETED');
    expect(phasesOf(done)).toEqual([
      'SUBMITTED:SUCCEEDED', 'QUEUED:SUCCEEDED', 'PROVISIONING:SUCCEEDED', 'DOWNLOAD_SOURCE:SUCCEEDED', 'INSTALL:SUCCEEDED', 'PRE_BUILD:SUCCEEDED',
      'BUILD:SUCCEEDED', 'POST_BUILD:SUCCEEDED', 'UPLOAD_ARTIFACTS:SUCCEEDED', 'FINALIZING:SUCCEEDED', 'COMPLETED:',
    ]);
    expect(done.logs).toMatchObject({ groupName: GROUP, streamName: `${d1.deploymentId}/${build.id!.split(':')[1]}` });
    expect(done.environment?.environmentVariables).toContainEqual({ name: 'API_KEY', type: 'PARAMETER_STORE', value: '/shiplog/env/web/production/API_KEY/3' });

    // the upload reached moto
    const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `artifacts/web/${d1.deploymentId}/out.txt` }));
    expect(await object.Body!.transformToString()).toBe('hello\n');

    // the log, read by the adapter shiplog reads it with; the secret masked
    const store = cloudWatchLogStore({ client: logs, groupName: GROUP, isFinished: async () => true });
    const texts = (await store.read(d1.deploymentId)).map((l) => l.text);
    const src = texts.find((t) => t.includes('CODEBUILD_SRC_DIR='))!.split('CODEBUILD_SRC_DIR=')[1]!;
    expect(texts).toEqual(expect.arrayContaining([
      'greeting=hi', 'secret=***', `${createHash('sha256').update(SECRET).digest('hex')}  -`,
      `cwd=${src}/sub from=kept succeeding=1 build=${build.id}`,
    ]));
    expect(texts.some((t) => t.startsWith('[Container]') && t.includes('runtime-versions') && t.includes('ignored'))).toBe(true);
    expect(texts.some((t) => t.includes('Running command echo "greeting=$GREETING"'))).toBe(true);
    expect(existsSync(src)).toBe(false); // the build directory is gone

    // nowhere the secret: API answers, the whole log group, the events
    expect(JSON.stringify(await codebuild.send(new BatchGetBuildsCommand({ ids: [build.id!] })))).not.toContain(SECRET);
    expect(JSON.stringify(await logs.send(new FilterLogEventsCommand({ logGroupName: GROUP })))).not.toContain(SECRET);
    expect(JSON.stringify(events)).not.toContain(SECRET);

    // two state changes, the last one read by shiplog's completion handler as a finished build
    const changes = stateChangesOf(done);
    expect(changes.map((e) => (e.detail as { 'build-status': string })['build-status'])).toEqual(['IN_PROGRESS', 'SUCCEEDED']);
    expect(events.find((e) => e.Resources?.includes(done.arn!))).toMatchObject({ Source: 'aws.codebuild', DetailType: 'CodeBuild Build State Change', EventBusName: 'default' });
    const final = CodeBuildStateChange.parse(changes[1]);
    expect(final.detail).toMatchObject({ 'build-id': done.arn, 'project-name': PROJECT });
    expect(final.detail['additional-information']).toMatchObject({ 'build-complete': true, logs: { 'group-name': GROUP, 'stream-name': done.logs!.streamName } });
    expect(await completionOf(changes[1])).toMatchObject({ ok: true, artifactDir: artifactUri, versions: manifest.versions });
  }, 90_000);

  it("runs the buildspec shiplog's scheduler sends: git checkout of the commit, install, build; a failing build aborts the rest", async () => {
    const repo = mkdtempSync(join(tmpdir(), 'codebuild-repo-'));
    // TODO(when buildspec.ts's lockfile walk is fixed): package-lock.json alone. Its `ls <all five>` fails
    // unless every lockfile exists, so the pre_build phase finds no lockfile in a real repository.
    for (const f of ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lock', 'bun.lockb']) writeFileSync(join(repo, f), '{}\n');
    writeFileSync(join(repo, 'marker.txt'), 'checked out\n');
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=box', '-c', 'user.email=box@example.com', ...args], { cwd: repo, encoding: 'utf8' }).trim();
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'app');
    const d4 = scheduled('01JD000000000000000000000D', {
      lane: 'web#main#preview',
      job: {
        deploymentId: '01JD000000000000000000000D', projectId: 'web', repo, sha: git('rev-parse', 'HEAD'), rootDir: '.',
        installCommand: 'cat marker.txt', buildCommand: 'echo "trace=$NEXT_PRIVATE_OUTPUT_TRACE_ROOT env=$NODE_ENV"; exit 7', timeoutMs: 600 * 60_000,
      },
    });
    const started: string[] = [];
    const scheduler = codeBuildScheduler({
      client: codebuild, projectName: PROJECT, artifactsBucket: BUCKET, secretRef: parameterStoreRef('shiplog'),
      envRefsFor: async () => [{ name: 'API_KEY', target: 'production', version: 3 }],
      events: { started: async (_b, info) => void started.push(info.runnerBuildId), finished: async () => undefined, superseded: async () => undefined },
    });
    await scheduler.submit(d4);
    expect(started).toHaveLength(1);
    const done = await finished(started[0]!);
    rmSync(repo, { recursive: true, force: true });
    expect(done.buildStatus).toBe('FAILED');
    expect(phasesOf(done)).toEqual(expect.arrayContaining(['INSTALL:SUCCEEDED', 'PRE_BUILD:SUCCEEDED', 'BUILD:FAILED']));
    expect(phasesOf(done).some((p) => p.startsWith('POST_BUILD'))).toBe(false);
    const texts = (await cloudWatchLogStore({ client: logs, groupName: GROUP, isFinished: async () => true }).read(d4.deploymentId)).map((l) => l.text);
    const src = texts.find((t) => t.includes('CODEBUILD_SRC_DIR='))!.split('CODEBUILD_SRC_DIR=')[1]!;
    expect(texts).toEqual(expect.arrayContaining(['checked out', `trace=${src} env=production`]));
    expect(await completionOf(stateChangesOf(done).at(-1))).toMatchObject({ ok: false, reason: 'build-failed', exitCode: 7 });
  }, 90_000);

  it('a failing build command fails the build: the rest of the phase is skipped, post_build runs with CODEBUILD_BUILD_SUCCEEDING=0', async () => {
    const d2 = scheduled('01JD000000000000000000000B');
    const build = await start(spec({
      install: ['echo installing'],
      build: ['echo before', 'exit 3', 'echo never'],
      post_build: ['echo "succeeding=$CODEBUILD_BUILD_SUCCEEDING"'],
    }), { environmentVariablesOverride: [{ name: 'SHIPLOG_BUILD', value: JSON.stringify(d2), type: 'PLAINTEXT' }] });
    const done = await finished(build.id!);
    expect(done.buildStatus).toBe('FAILED');
    expect(done.phases!.find((p) => p.phaseType === 'BUILD')).toMatchObject({
      phaseStatus: 'FAILED', contexts: [{ statusCode: 'COMMAND_EXECUTION_ERROR', message: 'Error while executing command: exit 3. Reason: exit status 3' }],
    });
    expect(phasesOf(done)).toContain('POST_BUILD:SUCCEEDED');
    const lines = await logLines(done);
    expect(lines).toEqual(expect.arrayContaining(['before', 'succeeding=0']));
    expect(lines).not.toContain('never');
    expect(await completionOf(stateChangesOf(done).at(-1))).toMatchObject({ ok: false, reason: 'build-failed', exitCode: 3 });
  }, 90_000);

  it('on-failure ABORT ends the build at the failed phase: no later phase runs', async () => {
    const build = await start(spec({ install: ['false'], build: ['echo built'], post_build: ['echo packaged'] }).replace('    commands:', '    on-failure: ABORT\n    commands:'));
    const done = await finished(build.id!);
    expect(done.buildStatus).toBe('FAILED');
    expect(phasesOf(done)).toEqual(['SUBMITTED:SUCCEEDED', 'QUEUED:SUCCEEDED', 'PROVISIONING:SUCCEEDED', 'DOWNLOAD_SOURCE:SUCCEEDED', 'INSTALL:FAILED', 'UPLOAD_ARTIFACTS:SUCCEEDED', 'FINALIZING:SUCCEEDED', 'COMPLETED:']);
    expect(await logLines(done)).not.toContain('packaged');
  }, 90_000);

  it('unpacks an S3 source zip into CODEBUILD_SRC_DIR and runs the buildspec file it names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'codebuild-src-'));
    mkdirSync(join(dir, 'app'));
    writeFileSync(join(dir, 'app', 'hello.txt'), 'hello from the zip\n');
    writeFileSync(join(dir, 'buildspec.yml'), spec({ build: ['cat app/hello.txt', 'test "$PWD" = "$CODEBUILD_SRC_DIR"'] }));
    execFileSync('zip', ['-qr', join(dir, 'src.zip'), 'app', 'buildspec.yml'], { cwd: dir });
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sources/web/abc.zip', Body: readFileSync(join(dir, 'src.zip')) }));
    rmSync(dir, { recursive: true, force: true });
    const build = (await codebuild.send(new StartBuildCommand({ projectName: PROJECT, sourceTypeOverride: 'S3', sourceLocationOverride: `${BUCKET}/sources/web/abc.zip`,
      // a path in the source (the project's own buildspec is inline)
      buildspecOverride: 'buildspec.yml',
    }))).build!;
    const done = await finished(build.id!);
    expect(done.buildStatus).toBe('SUCCEEDED');
    expect(done.source).toMatchObject({ type: 'S3', location: `${BUCKET}/sources/web/abc.zip` });
    expect(await logLines(done)).toContain('hello from the zip');
  }, 90_000);

  it("records a GitHub source's sourceAuthOverride (the stage's connection) on the build, and refuses an unknown auth type", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'codebuild-github-'));
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=box', '-c', 'user.email=box@example.com', ...args], { cwd: join(dir, 'work'), encoding: 'utf8' }).trim();
    mkdirSync(join(dir, 'work'));
    git('init', '-q', '-b', 'main');
    writeFileSync(join(dir, 'work', 'hello.txt'), 'hello from github\n');
    git('add', '.');
    git('commit', '-qm', 'first');
    const sha = git('rev-parse', 'HEAD');
    execFileSync('git', ['clone', '-q', '--bare', join(dir, 'work'), join(dir, 'web.git')]);
    const connection = 'arn:aws:codeconnections:eu-west-1:123456789012:connection/0f4d8a4e-6a52-4a10-9c3e-1b2c3d4e5f60';
    try {
      const build = await start(spec({ build: ['cat hello.txt'] }), {
        sourceTypeOverride: 'GITHUB', sourceLocationOverride: join(dir, 'web.git'), sourceVersion: sha,
        sourceAuthOverride: { type: 'CODECONNECTIONS', resource: connection },
      });
      expect(build.source).toMatchObject({ type: 'GITHUB', auth: { type: 'CODECONNECTIONS', resource: connection } });
      const done = await finished(build.id!);
      expect(done.buildStatus).toBe('SUCCEEDED');
      expect(done.source?.auth).toEqual({ type: 'CODECONNECTIONS', resource: connection });
      expect(done.sourceVersion).toBe(sha);
      expect(await logLines(done)).toContain('hello from github');
      // Without an override a build records no auth.
      const plain = await start(spec({ build: ['true'] }));
      expect(plain.source?.auth).toBeUndefined();
      await finished(plain.id!);
      await expect(start(spec({ build: ['true'] }), {
        sourceTypeOverride: 'GITHUB', sourceLocationOverride: join(dir, 'web.git'), sourceAuthOverride: { type: 'PASSWORD' as 'OAUTH', resource: connection },
      })).rejects.toMatchObject({ name: 'InvalidInputException' });
      await expect(start(spec({ build: ['true'] }), {
        sourceTypeOverride: 'GITHUB', sourceLocationOverride: join(dir, 'web.git'), sourceAuthOverride: { type: 'CODECONNECTIONS' },
      })).rejects.toMatchObject({ name: 'InvalidInputException' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('a missing parameter fails the build in DOWNLOAD_SOURCE, before any command', async () => {
    const build = await start(spec({ build: ['echo should-not-run'] }), { environmentVariablesOverride: [{ name: 'API_KEY', type: 'PARAMETER_STORE', value: '/shiplog/missing' }] });
    const done = await finished(build.id!);
    expect(done.buildStatus).toBe('FAILED');
    expect(done.phases!.find((p) => p.phaseType === 'DOWNLOAD_SOURCE')).toMatchObject({
      phaseStatus: 'FAILED', contexts: [{ statusCode: 'Decrypted Variables Error', message: 'parameter does not exist: /shiplog/missing' }],
    });
    expect(phasesOf(done).some((p) => p.startsWith('BUILD'))).toBe(false);
    expect(await logLines(done)).toEqual(expect.arrayContaining([expect.stringContaining('Phase context status code: Decrypted Variables Error Message: parameter does not exist: /shiplog/missing')]));
  }, 90_000);

  it('StopBuild kills the build process group: STOPPED, the sleeper gone, the event emitted', async () => {
    const build = await start(spec({ build: ['sleep 600 & echo "sleeper=$!"; wait'] }));
    const pid = await waitFor(async () => {
      const line = (await logLines(build)).find((l) => l.startsWith('sleeper='));
      expect(line).toBeDefined();
      return Number(line!.split('=')[1]);
    });
    expect(isAlive(pid)).toBe(true);
    const stopped = (await codebuild.send(new StopBuildCommand({ id: build.id! }))).build!;
    expect(stopped).toMatchObject({ buildStatus: 'STOPPED', buildComplete: true });
    expect(stopped.phases!.find((p) => p.phaseType === 'BUILD')?.phaseStatus).toBe('STOPPED');
    await waitFor(async () => expect(isAlive(pid)).toBe(false));
    await waitFor(async () => expect(stateChangesOf(stopped).map((e) => (e.detail as { 'build-status': string })['build-status'])).toEqual(['IN_PROGRESS', 'STOPPED']));
  }, 90_000);

  it('a build past its timeout is TIMED_OUT', async () => {
    const d3 = scheduled('01JD000000000000000000000C');
    const build = await start(spec({ build: ['sleep 600'] }), { timeoutInMinutesOverride: 5, environmentVariablesOverride: [{ name: 'SHIPLOG_BUILD', value: JSON.stringify(d3), type: 'PLAINTEXT' }] });
    const done = await finished(build.id!);
    expect(done).toMatchObject({ buildStatus: 'TIMED_OUT', timeoutInMinutes: 5 });
    expect(done.phases!.find((p) => p.phaseType === 'BUILD')?.phaseStatus).toBe('TIMED_OUT');
    expect(await completionOf(stateChangesOf(done).at(-1))).toMatchObject({ ok: false, reason: 'timed-out', message: 'build exceeded its 5 min limit' });
  }, 90_000);

  it('lists a project\'s builds newest first, a page at a time', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await start(spec({ build: ['true'] }))).id!);
    const first = await codebuild.send(new ListBuildsForProjectCommand({ projectName: PROJECT }));
    expect(first.ids).toEqual([ids[2], ids[1]]);
    const second = await codebuild.send(new ListBuildsForProjectCommand({ projectName: PROJECT, nextToken: first.nextToken }));
    expect(second.ids![0]).toBe(ids[0]);
    const oldest = await codebuild.send(new ListBuildsForProjectCommand({ projectName: PROJECT, sortOrder: 'ASCENDING' }));
    expect(oldest.ids).toHaveLength(2);
    expect(oldest.ids).not.toContain(ids[2]);
    for (const id of ids) expect((await finished(id)).buildStatus).toBe('SUCCEEDED');
  }, 90_000);

  it('an idempotency token returns the same build for five minutes', async () => {
    const a = await start(spec({ build: ['true'] }), { idempotencyToken: 'deploy-42' });
    const again = await start(spec({ build: ['true'] }), { idempotencyToken: 'deploy-42' });
    const other = await start(spec({ build: ['true'] }), { idempotencyToken: 'deploy-43' });
    expect(again.id).toBe(a.id);
    expect(other.id).not.toBe(a.id);
    skewMs = 6 * 60_000;
    const later = await start(spec({ build: ['true'] }), { idempotencyToken: 'deploy-42' });
    skewMs = 0;
    expect(later.id).not.toBe(a.id);
    for (const id of [a.id!, other.id!, later.id!]) await finished(id);
  }, 90_000);

  it('answers like CodeBuild: projects round-trip, unknown project and unknown operation are errors', async () => {
    const { projects, projectsNotFound } = await codebuild.send(new BatchGetProjectsCommand({ names: [PROJECT, 'nope'] }));
    expect(projects![0]).toMatchObject({ name: PROJECT, arn: `arn:aws:codebuild:${BOX_REGION}:123456789012:project/${PROJECT}`, timeoutInMinutes: 600 });
    expect(projects![0]!.created).toBeInstanceOf(Date);
    expect(projectsNotFound).toEqual(['nope']);
    await expect(codebuild.send(new StartBuildCommand({ projectName: 'nope' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(codebuild.send(new ListBuildsForProjectCommand({ projectName: 'nope' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(start('version: 0.2', { timeoutInMinutesOverride: 1 })).rejects.toMatchObject({ name: 'InvalidInputException' });
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
      method: 'POST', headers: { 'x-amz-target': 'CodeBuild_20161006.DeleteWebhook', 'content-type': 'application/x-amz-json-1.1' }, body: '{}',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ __type: 'InvalidInputException' });
  });

  it('keeps projects and finished builds across a restart; a build running at stop() ends as FAULT', async () => {
    const root = mkdtempSync(join(tmpdir(), 'codebuild-restart-'));
    const mine: BoxEventEntry[] = [];
    const make = () => codeBuildStandIn({ awsEndpoint: moto.endpoint, workRoot: root, putEvents: async (e) => void mine.push(...e) });
    const first = make();
    const a = await serve(first);
    await a.client.send(new CreateProjectCommand({
      name: 'p2', source: { type: 'NO_SOURCE' }, artifacts: { type: 'NO_ARTIFACTS' },
      environment: { type: 'LINUX_CONTAINER', image: 'aws/codebuild/standard:7.0', computeType: 'BUILD_GENERAL1_SMALL' }, serviceRole: 'r',
    }));
    const quick = (await a.client.send(new StartBuildCommand({ projectName: 'p2', buildspecOverride: spec({ build: ['true'] }) }))).build!;
    await waitFor(async () => expect((await get(quick.id!, a.client)).buildStatus).toBe('SUCCEEDED'));
    const slow = (await a.client.send(new StartBuildCommand({ projectName: 'p2', buildspecOverride: spec({ build: ['echo started; sleep 600'] }) }))).build!;
    await waitFor(async () => expect((await get(slow.id!, a.client)).currentPhase).toBe('BUILD'));
    await first.stop();
    a.srv.close();

    const second = make();
    const b = await serve(second);
    expect((await b.client.send(new BatchGetProjectsCommand({ names: ['p2'] }))).projects).toHaveLength(1);
    const builds = (await b.client.send(new BatchGetBuildsCommand({ ids: [quick.id!, slow.id!] }))).builds!;
    expect(builds.map((x) => [x.id, x.buildStatus, x.buildComplete])).toEqual([[quick.id, 'SUCCEEDED', true], [slow.id, 'FAULT', true]]);
    expect((await b.client.send(new ListBuildsForProjectCommand({ projectName: 'p2' }))).ids).toEqual([slow.id, quick.id]);
    expect(mine.filter((e) => e.Resources?.includes(slow.arn!)).map((e) => JSON.parse(e.Detail)['build-status'])).toEqual(['IN_PROGRESS', 'FAULT']);
    await second.stop();
    b.srv.close();
    rmSync(root, { recursive: true, force: true });
  }, 90_000);

  it('wrote nothing worrying to its own log', () => {
    expect(boxLog.filter((l) => /crashed|faulted|lost|not emitted|failed:/.test(l))).toEqual([]);
  });
});
