import {
  AccountLimitExceededException, BatchGetBuildsCommand, CodeBuildClient, CodeBuildServiceException, InvalidInputException,
  ListBuildsForProjectCommand, ResourceNotFoundException, StartBuildCommand, StopBuildCommand, type Build, type StartBuildCommandInput,
} from '@aws-sdk/client-codebuild';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EnvVarRef } from '../../../../events/index.ts';
import type { BuildOutcome } from '../../ports.ts';
import type { ScheduledBuild, SchedulerEvents } from '../../scheduler.ts';
import {
  BuildRunnerConfigError, BuildRunnerUnavailableError, codeBuildScheduler, listShiplogBuilds, parameterStoreRef, sourceFor,
} from './aws.ts';
import { ARTIFACTS, codeBuild, PROJECT, scheduled, T0 } from './codebuild.fixtures.ts';

const cb = mockClient(CodeBuildClient);
const client = new CodeBuildClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

const refs: EnvVarRef[] = [
  { name: 'API_KEY', target: 'production', version: 3 },
  { name: 'DATABASE_URL', target: 'production', version: 1 },
  { name: 'CODEBUILD_BUILD_ID', target: 'production', version: 1 },
  { name: 'SHIPLOG_DEPLOYMENT_ID', target: 'production', version: 1 },
];
/** What the secret store holds for those refs; none of it may reach CodeBuild. */
const secretValues = ['sk_live_51H8x2eZvKYlo2C', 'postgres://app:hunter2@db.internal/app'];

let known: Build[];
let calls: { started: [string, string, string][]; finished: [string, BuildOutcome][]; superseded: [string, string][] };
const events: SchedulerEvents = {
  started: async (b, info) => void calls.started.push([b.deploymentId, info.runnerBuildId, info.deadlineAt]),
  finished: async (b, o) => void calls.finished.push([b.deploymentId, o]),
  superseded: async (b, by) => void calls.superseded.push([b.deploymentId, by]),
};

/** CodeBuild as the mock plays it: the builds in `known`, newest first, 100 a page. */
const serveBuilds = () => {
  cb.on(ListBuildsForProjectCommand).callsFake(async () => ({ ids: [...known].sort((a, b) => b.startTime!.getTime() - a.startTime!.getTime()).map((b) => b.id!) }));
  cb.on(BatchGetBuildsCommand).callsFake(async ({ ids }: { ids: string[] }) => ({ builds: known.filter((b) => ids.includes(b.id!)), buildsNotFound: [] }));
  cb.on(StartBuildCommand).callsFake(async (input: StartBuildCommandInput) => {
    const b = JSON.parse(input.environmentVariablesOverride!.find((v) => v.name === 'SHIPLOG_BUILD')!.value!) as ScheduledBuild;
    const build = codeBuild(b, { startedAt: T0 + 60_000 });
    known.push(build);
    return { build };
  });
  cb.on(StopBuildCommand).callsFake(async ({ id }: { id: string }) => ({ build: { ...known.find((b) => b.id === id)!, buildStatus: 'IN_PROGRESS' } }));
};

const scheduler = (over: Partial<Parameters<typeof codeBuildScheduler>[0]> = {}) =>
  codeBuildScheduler({
    client, projectName: PROJECT, artifactsBucket: ARTIFACTS, events, secretRef: parameterStoreRef('shiplog'),
    envRefsFor: async () => refs, now: () => T0 + 60_000, ...over,
  });
const startInput = () => cb.commandCalls(StartBuildCommand)[0]!.args[0].input;

beforeEach(() => {
  cb.reset();
  known = [];
  calls = { started: [], finished: [], superseded: [] };
  serveBuilds();
});

describe('codeBuildScheduler.submit', () => {
  it('starts one build per deployment with the commit, the buildspec, timeouts and the log stream', async () => {
    const b = scheduled('01JD000000000000000000000A');
    await scheduler().submit(b);
    const input = startInput();
    expect(input).toMatchObject({
      projectName: PROJECT,
      idempotencyToken: b.deploymentId,
      sourceTypeOverride: 'GITHUB', sourceLocationOverride: b.job.repo, sourceVersion: b.job.sha,
      artifactsOverride: { type: 'NO_ARTIFACTS' },
      timeoutInMinutesOverride: 20, queuedTimeoutInMinutesOverride: 60,
      logsConfigOverride: { cloudWatchLogs: { status: 'ENABLED', streamName: b.deploymentId } },
    });
    expect(input.buildspecOverride).toMatch(/^version: 0\.2\n[\s\S]*npx next build/);
    expect(calls.started).toEqual([[b.deploymentId, known[0]!.id, new Date(T0 + 60_000 + 80 * 60_000).toISOString()]]);
  });

  it('passes the project env as Parameter Store references, never a value', async () => {
    await scheduler().submit(scheduled('01JD000000000000000000000A'));
    const vars = startInput().environmentVariablesOverride!;
    expect(vars.filter((v) => v.type !== 'PLAINTEXT')).toEqual([
      { name: 'API_KEY', type: 'PARAMETER_STORE', value: '/shiplog/env/web/production/API_KEY/3' },
      { name: 'DATABASE_URL', type: 'PARAMETER_STORE', value: '/shiplog/env/web/production/DATABASE_URL/1' },
    ]);
    // CodeBuild's own names are reserved; the platform's variables are plain and describe the job only.
    expect(vars.map((v) => v.name)).not.toContain('CODEBUILD_BUILD_ID');
    expect(vars.filter((v) => v.name === 'SHIPLOG_DEPLOYMENT_ID')).toEqual([{ name: 'SHIPLOG_DEPLOYMENT_ID', type: 'PLAINTEXT', value: '01JD000000000000000000000A' }]);
    // The build cache of this project only.
    expect(vars.find((v) => v.name === 'SHIPLOG_CACHE_URI')?.value).toMatch(/^s3:\/\/[^/]+\/cache\/web\/$/);
    // What the site function reads at cold start: the same parameters, by name.
    expect(JSON.parse(vars.find((v) => v.name === 'SHIPLOG_ENV_PARAMETERS')!.value!)).toEqual({
      API_KEY: '/shiplog/env/web/production/API_KEY/3', DATABASE_URL: '/shiplog/env/web/production/DATABASE_URL/1',
    });
    const request = JSON.stringify(startInput());
    for (const secret of secretValues) expect(request).not.toContain(secret);
    const carried = JSON.parse(vars.find((v) => v.name === 'SHIPLOG_BUILD')!.value!) as ScheduledBuild;
    expect(carried).toEqual(scheduled('01JD000000000000000000000A'));
  });

  it("runs a project's builds with the project's own service role, waiting while IAM propagates a new one", async () => {
    const role = 'arn:aws:iam::123456789012:role/shiplog/shiplog/build-web';
    const notYet = new InvalidInputException({ message: `CodeBuild is not authorized to perform: sts:AssumeRole on ${role}`, $metadata: { httpStatusCode: 400 } });
    cb.on(StartBuildCommand).rejectsOnce(notYet).rejectsOnce(notYet).callsFake(async (input: StartBuildCommandInput) => {
      const build = codeBuild(JSON.parse(input.environmentVariablesOverride!.find((v) => v.name === 'SHIPLOG_BUILD')!.value!) as ScheduledBuild, { startedAt: T0 + 60_000 });
      known.push(build);
      return { build };
    });
    const slept: number[] = [];
    const asked: string[] = [];
    await scheduler({ serviceRoleFor: async (p) => (asked.push(p), role), sleep: async (ms) => void slept.push(ms) }).submit(scheduled('01JD000000000000000000000A'));
    expect(asked).toEqual(['web']);
    expect(cb.commandCalls(StartBuildCommand).map((c) => c.args[0].input.serviceRoleOverride)).toEqual([role, role, role]);
    expect(slept).toEqual([5000, 5000]);
    expect(calls.started).toHaveLength(1);
    // Any other refusal is not waited out.
    cb.on(StartBuildCommand).rejects(new InvalidInputException({ message: 'Invalid buildspec', $metadata: { httpStatusCode: 400 } }));
    await expect(scheduler({ serviceRoleFor: async () => role, sleep: async (ms) => void slept.push(ms) }).submit(scheduled('01JD000000000000000000000E', { lane: 'web#other#preview' })))
      .rejects.toBeInstanceOf(BuildRunnerConfigError);
    expect(slept).toHaveLength(2);
  });

  it('supersedes: stops the older running build of its lane and reports it', async () => {
    const older = scheduled('01JD000000000000000000000A');
    const otherLane = scheduled('01JD000000000000000000000C', { lane: 'web#feature#preview', requestedAt: '2026-11-22T09:00:00.000Z' });
    const olderDone = scheduled('01JD000000000000000000000D', { requestedAt: '2026-11-22T09:30:00.000Z' });
    known.push(codeBuild(older), codeBuild(otherLane), codeBuild(olderDone, { status: 'SUCCEEDED', startedAt: T0 - 1000 }));
    const newer = scheduled('01JD000000000000000000000B', { requestedAt: '2026-11-22T10:01:00.000Z' });
    await scheduler().submit(newer);
    expect(cb.commandCalls(StopBuildCommand).map((c) => c.args[0].input.id)).toEqual([codeBuild(older).id]);
    expect(calls.superseded).toEqual([[older.deploymentId, newer.deploymentId]]);
    expect(calls.started.map(([d]) => d)).toEqual([newer.deploymentId]);
  });

  it('does not start a build when its lane already runs a newer one', async () => {
    const newer = scheduled('01JD000000000000000000000B', { requestedAt: '2026-11-22T10:01:00.000Z' });
    known.push(codeBuild(newer));
    await scheduler().submit(scheduled('01JD000000000000000000000A'));
    expect(cb.commandCalls(StartBuildCommand)).toHaveLength(0);
    expect(calls.superseded).toEqual([['01JD000000000000000000000A', newer.deploymentId]]);
  });

  it('stops its own build when a newer one of the lane started concurrently', async () => {
    const newer = scheduled('01JD000000000000000000000B', { requestedAt: '2026-11-22T10:01:00.000Z' });
    cb.on(StartBuildCommand).callsFake(async (input: StartBuildCommandInput) => {
      const build = codeBuild(JSON.parse(input.environmentVariablesOverride!.at(-1)!.value!) as ScheduledBuild);
      known.push(build, codeBuild(newer, { startedAt: T0 + 1000 }));
      return { build };
    });
    const mine = scheduled('01JD000000000000000000000A');
    await scheduler().submit(mine);
    expect(cb.commandCalls(StopBuildCommand).map((c) => c.args[0].input.id)).toEqual([codeBuild(mine).id]);
    expect(calls.superseded).toEqual([[mine.deploymentId, newer.deploymentId]]);
  });

  it('finds the build an earlier attempt started instead of starting another', async () => {
    const b = scheduled('01JD000000000000000000000A');
    known.push(codeBuild(b));
    await scheduler().submit(b);
    expect(cb.commandCalls(StartBuildCommand)).toHaveLength(0);
    expect(calls.started).toEqual([[b.deploymentId, codeBuild(b).id, expect.any(String)]]);
  });

  it('reports nothing for an older build that finished before it could be stopped', async () => {
    known.push(codeBuild(scheduled('01JD000000000000000000000A')));
    cb.on(StopBuildCommand).rejects(new InvalidInputException({ message: 'Build cannot be stopped: it is not in progress', $metadata: { httpStatusCode: 400 } }));
    await scheduler().submit(scheduled('01JD000000000000000000000B', { requestedAt: '2026-11-22T10:01:00.000Z' }));
    expect(cb.commandCalls(StopBuildCommand)).toHaveLength(1);
    expect(calls.superseded).toEqual([]);
  });

  it('translates throttling and limits into a retryable error, a missing project into a configuration error', async () => {
    const throttled = new CodeBuildServiceException({ name: 'ThrottlingException', $fault: 'client', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
    cb.on(StartBuildCommand).rejectsOnce(throttled)
      .rejectsOnce(new AccountLimitExceededException({ message: 'Cannot have more than 20 active builds for the account', $metadata: { httpStatusCode: 400 } }))
      .rejectsOnce(new ResourceNotFoundException({ message: `Project cannot be found: arn:aws:codebuild:us-east-1:123456789012:project/${PROJECT}`, $metadata: { httpStatusCode: 400 } }));
    const s = scheduler();
    const b = scheduled('01JD000000000000000000000A');
    await expect(s.submit(b)).rejects.toSatisfy((e: unknown) => e instanceof BuildRunnerUnavailableError && e.retryable);
    await expect(s.submit(b)).rejects.toBeInstanceOf(BuildRunnerUnavailableError);
    await expect(s.submit(b)).rejects.toSatisfy((e: unknown) => e instanceof BuildRunnerConfigError && !e.retryable);
    expect(calls.started).toEqual([]);
  });
});

describe('sourceFor', () => {
  const sha = '9fceb02d0ae598e95dc970b74767f19372d61af8';
  it('maps S3 snapshots, GitHub repositories and anything else', () => {
    expect(sourceFor({ repo: 's3://shiplog-artifacts/sources/web/', sha })).toEqual({ sourceTypeOverride: 'S3', sourceLocationOverride: `shiplog-artifacts/sources/web/${sha}.zip` });
    expect(sourceFor({ repo: 's3://b/web.zip', sha })).toEqual({ sourceTypeOverride: 'S3', sourceLocationOverride: 'b/web.zip' });
    expect(sourceFor({ repo: 'https://github.com/acme/web', sha })).toEqual({ sourceTypeOverride: 'GITHUB', sourceLocationOverride: 'https://github.com/acme/web', sourceVersion: sha });
    expect(sourceFor({ repo: 'https://git.example.com/web.git', sha })).toEqual({ sourceTypeOverride: 'NO_SOURCE' });
  });

  it("fetches a GitHub source through the stage's connection, and only a GitHub source", async () => {
    const connection = 'arn:aws:codeconnections:eu-west-1:123456789012:connection/0f4d8a4e-6a52-4a10-9c3e-1b2c3d4e5f60';
    expect(sourceFor({ repo: 'https://github.com/acme/web.git', sha }, connection)).toEqual({
      sourceTypeOverride: 'GITHUB', sourceLocationOverride: 'https://github.com/acme/web.git', sourceVersion: sha,
      sourceAuthOverride: { type: 'CODECONNECTIONS', resource: connection },
    });
    expect(sourceFor({ repo: 's3://b/sources/web/', sha }, connection)).not.toHaveProperty('sourceAuthOverride');
    expect(sourceFor({ repo: 'https://git.example.com/web.git', sha }, connection)).not.toHaveProperty('sourceAuthOverride');

    const b = scheduled('01JD000000000000000000000A');
    await scheduler({ githubConnectionArn: connection }).submit(b);
    await scheduler({ githubConnectionArn: connection }).submit({ ...scheduled('01JD000000000000000000000B'), job: { ...b.job, repo: 's3://b/sources/web/' } });
    await scheduler().submit({ ...scheduled('01JD000000000000000000000C'), job: b.job });
    const [github, s3, unconnected] = cb.commandCalls(StartBuildCommand).map((c) => c.args[0].input);
    expect(github).toMatchObject({ sourceTypeOverride: 'GITHUB', sourceVersion: b.job.sha, sourceAuthOverride: { type: 'CODECONNECTIONS', resource: connection } });
    expect(s3!.sourceTypeOverride).toBe('S3');
    expect(s3).not.toHaveProperty('sourceAuthOverride');
    // Without a connection CodeBuild falls back to the account's imported credential.
    expect(unconnected!.sourceTypeOverride).toBe('GITHUB');
    expect(unconnected).not.toHaveProperty('sourceAuthOverride');
  });

  it('lets the buildspec fetch the commit when CodeBuild has no source', async () => {
    const b = scheduled('01JD000000000000000000000A');
    await scheduler().submit({ ...b, job: { ...b.job, repo: 'https://git.example.com/web.git' } });
    const input = startInput();
    expect(input.sourceTypeOverride).toBe('NO_SOURCE');
    expect(input.environmentVariablesOverride).toContainEqual({ name: 'SHIPLOG_REPO', type: 'PLAINTEXT', value: 'https://git.example.com/web.git' });
    expect(input.buildspecOverride).toContain('git checkout -q --detach FETCH_HEAD');
  });
});

describe('listShiplogBuilds', () => {
  it('reads pages newest first until one reaches past the window, and keeps only shiplog builds', async () => {
    const recent = Array.from({ length: 100 }, (_, i) => codeBuild(scheduled(`01JD00000000000000000001${String(i).padStart(2, '0')}`), { startedAt: T0 - i * 1000 }));
    const old = codeBuild(scheduled('01JD000000000000000000000Z'), { startedAt: T0 - 10 * 3600_000 });
    const foreign: Build = { ...codeBuild(scheduled('x')), id: `${PROJECT}:foreign`, environment: { type: 'LINUX_CONTAINER', image: 'i', computeType: 'BUILD_GENERAL1_SMALL', environmentVariables: [] } };
    cb.on(ListBuildsForProjectCommand)
      .resolvesOnce({ ids: recent.map((b) => b.id!), nextToken: 'page-2' })
      .resolvesOnce({ ids: [foreign.id!, old.id!], nextToken: 'page-3' });
    known.push(...recent, old, foreign);
    const found = await listShiplogBuilds(client, PROJECT, T0 - 3600_000);
    expect(found).toHaveLength(100);
    expect(cb.commandCalls(ListBuildsForProjectCommand).map((c) => c.args[0].input.nextToken)).toEqual([undefined, 'page-2']);
    // Newest first is the default; CodeBuild refuses an explicit sortOrder past 100 builds.
    expect(cb.commandCalls(ListBuildsForProjectCommand)[0]!.args[0].input.sortOrder).toBeUndefined();
  });
});
