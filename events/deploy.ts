import { z } from 'zod';
import { Actor } from './envelope.ts';
import { Alias, DurationMs, Id, ProjectId, Sha, Target, Timestamp } from './primitives.ts';

/** The ids every deployment-scoped deploy event carries. */
const DeploymentRef = z.object({ projectId: ProjectId, deploymentId: Id });

/**
 * The deployment's static assets are in place (S3 prefix on AWS, an immutable directory locally).
 *
 * @example
 * AssetsUploaded.parse({ type: 'AssetsUploaded', data: { projectId: 'web', deploymentId: 'd1',
 *   assetsUri: 's3://assets/web/d1/', fileCount: 412, totalBytes: 5242880, durationMs: 2100 } });
 */
export const AssetsUploaded = z.object({
  type: z.literal('AssetsUploaded'),
  data: DeploymentRef.extend({
    sha: Sha.describe('The commit the deployment was built from'),
    requestedAt: Timestamp.describe('When the deployment was requested: orders deployments of one alias'),
    assetsUri: z.string().min(1),
    fileCount: z.number().int().min(0),
    totalBytes: z.number().int().min(0),
    durationMs: DurationMs,
  }),
});
export type AssetsUploaded = z.infer<typeof AssetsUploaded>;

/**
 * One of the deployment's functions was published as an immutable version. OpenNext yields
 * a server function and optionally image optimization and revalidation functions.
 *
 * @example
 * FunctionVersionPublished.parse({ type: 'FunctionVersionPublished', data: { projectId: 'web', deploymentId: 'd1',
 *   role: 'server', functionName: 'shiplog-web-server', version: '42', codeSha256: 'q1w2…' } });
 */
export const FunctionVersionPublished = z.object({
  type: z.literal('FunctionVersionPublished'),
  data: DeploymentRef.extend({
    role: z.enum(['server', 'image-optimization', 'revalidation']),
    functionName: z.string().min(1),
    version: z.string().min(1).describe('Lambda version number, or the local version directory name'),
    codeSha256: z.string().min(1),
  }),
});
export type FunctionVersionPublished = z.infer<typeof FunctionVersionPublished>;

/**
 * An alias now points at another deployment. The mechanism behind going live, rollback and
 * promote; `fromDeploymentId` is null for an alias's first deployment.
 *
 * @example
 * AliasShifted.parse({ type: 'AliasShifted', data: { projectId: 'web', alias: 'production', fromDeploymentId: 'd1',
 *   toDeploymentId: 'd2', reason: 'deploy' } });
 */
export const AliasShifted = z.object({
  type: z.literal('AliasShifted'),
  data: z.object({
    projectId: ProjectId,
    alias: Alias,
    fromDeploymentId: Id.nullable(),
    toDeploymentId: Id,
    reason: z.enum(['deploy', 'rollback', 'promote']),
  }),
});
export type AliasShifted = z.infer<typeof AliasShifted>;

/**
 * The deployment serves traffic: its own immutable URL, plus the alias URLs now pointing at it.
 *
 * @example
 * DeploymentLive.parse({ type: 'DeploymentLive', data: { projectId: 'web', deploymentId: 'd2', target: 'production', alias: 'production',
 *   sha, url: 'https://web-d2.shiplog.example.com', aliasUrls: ['https://web.shiplog.example.com'], previousDeploymentId: 'd1', totalMs: 95000 } });
 */
export const DeploymentLive = z.object({
  type: z.literal('DeploymentLive'),
  data: DeploymentRef.extend({
    target: Target,
    alias: Alias,
    sha: Sha,
    url: z.url(),
    aliasUrls: z.array(z.url()),
    previousDeploymentId: Id.nullable(),
    totalMs: DurationMs.describe('From DeploymentRequested to live'),
  }),
});
export type DeploymentLive = z.infer<typeof DeploymentLive>;

/**
 * The deployment will not go live because a step failed. A failed build ends here too, so
 * subscribers can watch one event for "deployment ended badly".
 *
 * @example
 * DeploymentFailed.parse({ type: 'DeploymentFailed', data: { projectId: 'web', deploymentId: 'd1', stage: 'build', message: 'next build exited with code 1' } });
 */
export const DeploymentFailed = z.object({
  type: z.literal('DeploymentFailed'),
  data: DeploymentRef.extend({
    stage: z.enum(['build', 'upload', 'publish', 'alias', 'health']).describe('`health`: the new version did not answer its health path with a non-5xx before its alias moved'),
    message: z.string().max(2000),
    buildId: Id.optional(),
  }),
});
export type DeploymentFailed = z.infer<typeof DeploymentFailed>;

/**
 * The deploy service refused to make a deployment live. `stale`: a deployment requested later is
 * already live on the alias. `pinned-by-rollback`: after a rollback the alias takes no automatic
 * deployments until one is promoted (as Vercel does).
 *
 * @example
 * DeploymentRejected.parse({ type: 'DeploymentRejected', data: { projectId: 'web', deploymentId: 'd1', alias: 'production', reason: 'stale', liveDeploymentId: 'd2' } });
 */
export const DeploymentRejected = z.object({
  type: z.literal('DeploymentRejected'),
  data: DeploymentRef.extend({
    alias: Alias,
    reason: z.enum(['stale', 'pinned-by-rollback', 'already-live', 'not-ready', 'unhealthy']),
    liveDeploymentId: Id.nullable(),
    detail: z.string().max(1000).optional(),
  }),
});
export type DeploymentRejected = z.infer<typeof DeploymentRejected>;

/**
 * An alias was rolled back to an earlier deployment (the alias is pinned from now on).
 *
 * @example
 * RolledBack.parse({ type: 'RolledBack', data: { projectId: 'web', alias: 'production', fromDeploymentId: 'd2', toDeploymentId: 'd1', requestedBy, reason: '500s' } });
 */
export const RolledBack = z.object({
  type: z.literal('RolledBack'),
  data: z.object({
    projectId: ProjectId,
    alias: Alias,
    fromDeploymentId: Id,
    toDeploymentId: Id,
    requestedBy: Actor,
    reason: z.string().max(1000),
  }),
});
export type RolledBack = z.infer<typeof RolledBack>;

/**
 * An existing deployment was promoted to an alias (unpinning it after a rollback).
 *
 * @example
 * Promoted.parse({ type: 'Promoted', data: { projectId: 'web', deploymentId: 'd3', alias: 'production', fromDeploymentId: 'd1', requestedBy } });
 */
export const Promoted = z.object({
  type: z.literal('Promoted'),
  data: DeploymentRef.extend({ alias: Alias, fromDeploymentId: Id.nullable(), requestedBy: Actor }),
});
export type Promoted = z.infer<typeof Promoted>;

/**
 * A rollback that could not be done, and why (nothing earlier to go back to, or the requested
 * deployment is not a ready deployment of this project).
 *
 * @example
 * RollbackRejected.parse({ type: 'RollbackRejected', data: { projectId: 'web', alias: 'production', reason: 'no earlier deployment', requestedBy } });
 */
export const RollbackRejected = z.object({
  type: z.literal('RollbackRejected'),
  data: z.object({
    projectId: ProjectId,
    alias: Alias,
    toDeploymentId: Id.optional(),
    reason: z.string().max(1000),
    requestedBy: Actor,
  }),
});
export type RollbackRejected = z.infer<typeof RollbackRejected>;

/**
 * Every event the deploy service emits.
 *
 * @example
 * DeployEvent.parse({ type: 'AliasShifted', data });
 */
export const DeployEvent = z.discriminatedUnion('type', [
  AssetsUploaded, FunctionVersionPublished, AliasShifted, DeploymentLive, DeploymentFailed,
  DeploymentRejected, RolledBack, RollbackRejected, Promoted,
]);
export type DeployEvent = z.infer<typeof DeployEvent>;
