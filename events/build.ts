import { z } from 'zod';
import { Actor } from './envelope.ts';
import { BuildSettings, EnvVarRef } from './ingest.ts';
import { Alias, Branch, DurationMs, Id, ProjectId, Repository, Sha, Target, Timestamp } from './primitives.ts';

/** The ids every build event carries. */
const BuildRef = z.object({ projectId: ProjectId, deploymentId: Id, buildId: Id });

/**
 * A build was queued for a requested deployment. It snapshots what the build needs, so the
 * build stream is self-contained for retries and reconciliation.
 *
 * @example
 * BuildQueued.parse({ type: 'BuildQueued', data: { projectId: 'web', deploymentId: 'd1', buildId: 'b1', target: 'production',
 *   alias: 'production', branch: 'main', sha, repository, buildSettings, env: [], requestedAt } });
 */
export const BuildQueued = z.object({
  type: z.literal('BuildQueued'),
  data: BuildRef.extend({
    target: Target,
    alias: Alias,
    branch: Branch,
    sha: Sha,
    repository: Repository,
    buildSettings: BuildSettings,
    env: z.array(EnvVarRef),
    requestedAt: Timestamp,
  }),
});
export type BuildQueued = z.infer<typeof BuildQueued>;

/**
 * A runner picked the build up. `deadlineAt` lets reconciliation time it out if no completion
 * event ever arrives.
 *
 * @example
 * BuildStarted.parse({ type: 'BuildStarted', data: { projectId: 'web', deploymentId: 'd1', buildId: 'b1', runner: 'codebuild',
 *   runnerBuildId: 'shiplog-build:1f2e…', logUri: 'https://…', startedAt, deadlineAt } });
 */
export const BuildStarted = z.object({
  type: z.literal('BuildStarted'),
  data: BuildRef.extend({
    runner: z.enum(['codebuild', 'local']),
    runnerBuildId: z.string().min(1).describe('CodeBuild build id, or the local process id'),
    logUri: z.string().min(1).optional().describe('Where the full build log lives'),
    startedAt: Timestamp,
    deadlineAt: Timestamp,
  }),
});
export type BuildStarted = z.infer<typeof BuildStarted>;

/**
 * The build produced an OpenNext artifact. `target`, `alias`, `sha` and `requestedAt` are
 * repeated so the deploy service can decide from this event alone.
 *
 * @example
 * BuildSucceeded.parse({ type: 'BuildSucceeded', data: { projectId: 'web', deploymentId: 'd1', buildId: 'b1', target: 'production',
 *   alias: 'production', sha, requestedAt, artifact: { uri: 's3://bucket/web/d1.zip', sha256, sizeBytes: 1024 },
 *   durations: { queuedMs: 900, buildMs: 61000, totalMs: 62000 }, versions: { next: '15.1.0', opennext: '3.4.0', node: '20.19.0' } } });
 */
export const BuildSucceeded = z.object({
  type: z.literal('BuildSucceeded'),
  data: BuildRef.extend({
    target: Target,
    alias: Alias,
    sha: Sha,
    requestedAt: Timestamp,
    artifact: z.object({
      uri: z.string().min(1).describe('s3://bucket/key on AWS, file:///… locally'),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      sizeBytes: z.number().int().min(0),
    }),
    durations: z.object({ queuedMs: DurationMs, installMs: DurationMs.optional(), buildMs: DurationMs, totalMs: DurationMs }),
    versions: z.object({ next: z.string().min(1), opennext: z.string().min(1), node: z.string().min(1) }),
  }),
});
export type BuildSucceeded = z.infer<typeof BuildSucceeded>;

/**
 * Why a build failed, for grouping in the dashboard. `infrastructure` is ours, the rest the app's.
 *
 * @example
 * BuildFailureReason.parse('build-failed');
 */
export const BuildFailureReason = z.enum(['install-failed', 'build-failed', 'package-failed', 'infrastructure', 'unknown']);
export type BuildFailureReason = z.infer<typeof BuildFailureReason>;

/**
 * The build failed (schemaVersion 2; v1 carried a single `error` string, see `upcasters.ts`).
 * The log tail is bounded to stay far below EventBridge's 256 KB entry limit.
 *
 * @example
 * BuildFailed.parse({ type: 'BuildFailed', data: { projectId: 'web', deploymentId: 'd1', buildId: 'b1', reason: 'build-failed',
 *   exitCode: 1, message: 'next build exited with code 1', logTail: ['Type error: …'], durationMs: 30000 } });
 */
export const BuildFailed = z.object({
  type: z.literal('BuildFailed'),
  data: BuildRef.extend({
    reason: BuildFailureReason,
    exitCode: z.number().int().nullable().describe('Null when the process did not exit on its own'),
    message: z.string().max(2000),
    logTail: z.array(z.string().max(1000)).max(100).describe('Last lines of the build log, oldest first'),
    durationMs: DurationMs.optional(),
  }),
});
export type BuildFailed = z.infer<typeof BuildFailed>;

/**
 * The build was stopped before it finished, typically because a newer deployment of the same
 * alias superseded it (`supersededBy` is that deployment).
 *
 * @example
 * BuildCanceled.parse({ type: 'BuildCanceled', data: { projectId: 'web', deploymentId: 'd1', buildId: 'b1', reason: 'superseded', supersededBy: 'd2' } });
 */
export const BuildCanceled = z.object({
  type: z.literal('BuildCanceled'),
  data: BuildRef.extend({
    reason: z.enum(['superseded', 'user-request', 'project-removed']),
    supersededBy: Id.optional(),
    canceledBy: Actor.optional(),
  }),
});
export type BuildCanceled = z.infer<typeof BuildCanceled>;

/**
 * The build exceeded its time limit, reported by the runner or found by reconciliation
 * (a lost completion event).
 *
 * @example
 * BuildTimedOut.parse({ type: 'BuildTimedOut', data: { projectId: 'web', deploymentId: 'd1', buildId: 'b1', limitSeconds: 1800,
 *   startedAt, detectedBy: 'reconciliation' } });
 */
export const BuildTimedOut = z.object({
  type: z.literal('BuildTimedOut'),
  data: BuildRef.extend({
    limitSeconds: z.number().int().min(1),
    startedAt: Timestamp,
    detectedBy: z.enum(['runner', 'reconciliation']),
  }),
});
export type BuildTimedOut = z.infer<typeof BuildTimedOut>;

/**
 * Every event the build service emits.
 *
 * @example
 * BuildEvent.parse({ type: 'BuildStarted', data });
 */
export const BuildEvent = z.discriminatedUnion('type', [
  BuildQueued, BuildStarted, BuildSucceeded, BuildFailed, BuildCanceled, BuildTimedOut,
]);
export type BuildEvent = z.infer<typeof BuildEvent>;
