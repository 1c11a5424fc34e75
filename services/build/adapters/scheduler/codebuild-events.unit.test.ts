import { BatchGetBuildsCommand, CodeBuildClient, ListBuildsForProjectCommand, type Build, type BuildPhaseType } from '@aws-sdk/client-codebuild';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { BuildOutcome } from '../../ports.ts';
import type { SchedulerEvents } from '../../scheduler.ts';
import type { ArtifactManifest } from './buildspec.ts';
import { ARTIFACTS, codeBuild, failedPhases, PROJECT, scheduled, stateChange, T0 } from './codebuild.fixtures.ts';
import { codeBuildCompletions, fromStateChange } from './codebuild-events.ts';

const cb = mockClient(CodeBuildClient);
const s3m = mockClient(S3Client);
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const codebuild = new CodeBuildClient({ region: 'us-east-1', credentials });
const s3 = new S3Client({ region: 'us-east-1', credentials });

const manifest: ArtifactManifest = { sha256: 'ab'.repeat(32), sizeBytes: 4096, files: 12, versions: { next: '16.4.5', openNext: '4.1.12' } };
const d1 = scheduled('01JD000000000000000000000A');

let known: Build[];
let open: Set<string>;
let calls: { finished: [string, BuildOutcome][]; superseded: [string, string][] };
const events: SchedulerEvents = {
  started: async () => undefined,
  finished: async (b, o) => void calls.finished.push([b.deploymentId, o]),
  superseded: async (b, by) => void calls.superseded.push([b.deploymentId, by]),
};
const completions = () => codeBuildCompletions({
  codebuild, s3, projectName: PROJECT, events, now: () => T0 + 3600_000,
  isOpen: async (id) => open.has(id),
  logTail: async (logs) => [`tail of ${logs.stream}`],
});
const outcomeFor = async (build: Build): Promise<BuildOutcome> => {
  await completions().onStateChange(stateChange(build));
  expect(calls.finished).toHaveLength(1);
  return calls.finished[0]![1];
};

beforeEach(() => {
  cb.reset();
  s3m.reset();
  known = [];
  open = new Set([d1.deploymentId]);
  calls = { finished: [], superseded: [] };
  cb.on(ListBuildsForProjectCommand).callsFake(async () => ({ ids: known.map((b) => b.id!) }));
  cb.on(BatchGetBuildsCommand).callsFake(async ({ ids }: { ids: string[] }) => ({ builds: known.filter((b) => ids.includes(b.id!)), buildsNotFound: [] }));
  s3m.on(GetObjectCommand, { Bucket: ARTIFACTS, Key: `artifacts/web/${d1.deploymentId}/shiplog-build.json` })
    .resolves({ Body: { transformToString: async () => JSON.stringify(manifest) } as never });
});

describe('state change → outcome', () => {
  it('SUCCEEDED: the artifact in S3, phase durations and the manifest\'s versions', async () => {
    expect(await outcomeFor(codeBuild(d1, { status: 'SUCCEEDED' }))).toEqual({
      ok: true,
      artifactDir: `s3://${ARTIFACTS}/artifacts/web/${d1.deploymentId}/`,
      durationsMs: { checkout: 4000, install: 30_000, build: 71_000, package: 25_000 },
      versions: manifest.versions,
    });
  });

  it('SUCCEEDED without a manifest: the packaging did not finish', async () => {
    s3m.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }));
    expect(await outcomeFor(codeBuild(d1, { status: 'SUCCEEDED' }))).toMatchObject({ ok: false, reason: 'package-failed', exitCode: null });
  });

  it.each([
    ['INSTALL', 'npm ci', 'install-failed', 'install command "npm ci" exited with code 1'],
    ['BUILD', 'npx next build', 'build-failed', 'build command "npx next build" exited with code 1'],
    ['BUILD', 'eval "$SHIPLOG_BUILD_COMMAND"', 'build-failed', 'build command (the one the build log\'s "build:" line names) exited with code 1'],
    ['INSTALL', 'cd "$SHIPLOG_INSTALL_DIR" && if [ "$SHIPLOG_MODULES_RESTORED" != 1 ]; then eval "$SHIPLOG_INSTALL_COMMAND"; fi', 'install-failed', 'install command (the one the build log\'s "install:" line names) exited with code 1'],
    ['PRE_BUILD', 'd="$PWD"; exit 1', 'build-failed', 'build command "d="$PWD"; exit 1" exited with code 1'],
    ['POST_BUILD', 'npx --yes @opennextjs/aws@4.1.12 build', 'package-failed', 'package command "npx --yes @opennextjs/aws@4.1.12 build" exited with code 1'],
    ['INSTALL', 'git init -q "$CODEBUILD_SRC_DIR" && git checkout -q --detach FETCH_HEAD # shiplog:checkout', 'checkout-failed', 'checkout command "git init -q "$CODEBUILD_SRC_DIR" && git checkout -q --detach FETCH_HEAD" exited with code 1'],
  ] as [BuildPhaseType, string, string, string][])('FAILED in %s (%s): %s', async (phase, command, reason, message) => {
    const outcome = await outcomeFor(codeBuild(d1, { status: 'FAILED', phases: failedPhases(phase, command) }));
    expect(outcome).toEqual({ ok: false, reason, exitCode: 1, message, logTail: [`tail of ${d1.deploymentId}/${codeBuild(d1).id!.split(':')[1]}`] });
  });

  it('FAILED in DOWNLOAD_SOURCE: the checkout', async () => {
    const phases = failedPhases('DOWNLOAD_SOURCE', 'x');
    phases[3]!.contexts = [{ statusCode: 'CLIENT_ERROR', message: 'reference not found for primary source and source version 9fceb02' }];
    expect(await outcomeFor(codeBuild(d1, { status: 'FAILED', phases }))).toMatchObject({
      ok: false, reason: 'checkout-failed', exitCode: null, message: 'phase DOWNLOAD_SOURCE failed: reference not found for primary source and source version 9fceb02',
    });
  });

  it('TIMED_OUT, FAULT and STOPPED', async () => {
    expect(await outcomeFor(codeBuild(d1, { status: 'TIMED_OUT' }))).toMatchObject({ ok: false, reason: 'timed-out', message: 'build exceeded its 20 min limit' });
    calls.finished = [];
    expect(await outcomeFor(codeBuild(d1, { status: 'FAULT' }))).toMatchObject({ ok: false, reason: 'infrastructure' });
    calls.finished = [];
    expect(await outcomeFor(codeBuild(d1, { status: 'STOPPED' }))).toMatchObject({ ok: false, reason: 'canceled', exitCode: null });
  });

  it('STOPPED while a newer build of the lane exists: superseded by it', async () => {
    const newer = scheduled('01JD000000000000000000000B', { requestedAt: '2026-11-22T10:01:00.000Z' });
    known.push(codeBuild(newer, { startedAt: T0 + 1000 }), codeBuild(d1, { status: 'STOPPED' }));
    expect(await completions().onStateChange(stateChange(codeBuild(d1, { status: 'STOPPED' })))).toBe('superseded');
    expect(calls).toEqual({ finished: [], superseded: [[d1.deploymentId, newer.deploymentId]] });
  });

  it('reads the event as AWS sends it, ARN and phase contexts included', () => {
    const build = fromStateChange(stateChange(codeBuild(d1, { status: 'FAILED', phases: failedPhases('INSTALL', 'npm ci') })));
    expect(build).toMatchObject({ id: codeBuild(d1).id, status: 'FAILED', complete: true, scheduled: d1, timeoutMinutes: 20 });
    expect(build!.phases.find((p) => p.type === 'INSTALL')!.contexts).toEqual([
      { statusCode: 'COMMAND_EXECUTION_ERROR', message: 'Error while executing command: npm ci. Reason: exit status 1' },
    ]);
  });
});

describe('state change: what is ignored', () => {
  it('in-progress builds, other projects, builds already finished in the store, and non-CodeBuild events', async () => {
    const c = completions();
    expect(await c.onStateChange(stateChange(codeBuild(d1)))).toBe('ignored');
    expect(await c.onStateChange({ ...stateChange(codeBuild(d1, { status: 'SUCCEEDED' })), detail: { ...stateChange(codeBuild(d1, { status: 'SUCCEEDED' })).detail, 'project-name': 'other' } })).toBe('ignored');
    open.clear();
    expect(await c.onStateChange(stateChange(codeBuild(d1, { status: 'FAILED' })))).toBe('ignored');
    expect(await c.onStateChange({ source: 'shiplog.build', 'detail-type': 'BuildStarted', detail: {} })).toBe('ignored');
    expect(calls).toEqual({ finished: [], superseded: [] });
  });

  it('asks CodeBuild for the build when the event carries no environment', async () => {
    known.push(codeBuild(d1, { status: 'TIMED_OUT' }));
    expect(await completions().onStateChange(stateChange(codeBuild(d1, { status: 'TIMED_OUT' }), { withEnvironment: false }))).toBe('finished');
    expect(cb.commandCalls(BatchGetBuildsCommand)[0]!.args[0].input.ids).toEqual([codeBuild(d1).id]);
    expect(calls.finished[0]![1]).toMatchObject({ reason: 'timed-out' });
  });
});

describe('reconcile', () => {
  it('finds a finished build whose state-change event was lost, and only those', async () => {
    const stillRunning = scheduled('01JD000000000000000000000C', { lane: 'web#b#preview' });
    const alreadyRecorded = scheduled('01JD000000000000000000000D', { lane: 'web#c#preview' });
    open.add(stillRunning.deploymentId);
    known.push(codeBuild(d1, { status: 'SUCCEEDED' }), codeBuild(stillRunning), codeBuild(alreadyRecorded, { status: 'FAILED' }));
    const result = await completions().reconcile();
    expect(result).toEqual({ checked: 2, reported: [d1.deploymentId] });
    expect(calls.finished).toEqual([[d1.deploymentId, expect.objectContaining({ ok: true, artifactDir: `s3://${ARTIFACTS}/artifacts/web/${d1.deploymentId}/` })]]);
  });

  it('reports nothing twice: a second run finds the store up to date', async () => {
    known.push(codeBuild(d1, { status: 'SUCCEEDED' }));
    const c = completions();
    await c.reconcile();
    open.delete(d1.deploymentId); // what BuildSucceeded does to the store
    expect(await c.reconcile()).toEqual({ checked: 1, reported: [] });
    expect(calls.finished).toHaveLength(1);
  });
});
