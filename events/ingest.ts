import { z } from 'zod';
import { Actor } from './envelope.ts';
import {
  Alias, Branch, Commit, EnvVarName, GitPerson, Id, ProjectId, Repository, Sha, Target, Timestamp,
} from './primitives.ts';

/**
 * How a project is built: a snapshot of these goes into every `DeploymentRequested`, so a
 * deployment is rebuilt exactly as it was even after the settings change.
 *
 * @example
 * BuildSettings.parse({ framework: 'nextjs', rootDirectory: '.', nodeVersion: '20.x' });
 */
export const BuildSettings = z.object({
  framework: z.literal('nextjs'),
  rootDirectory: z.string().min(1),
  nodeVersion: z.enum(['20.x', '22.x']),
  installCommand: z.string().optional().describe('Overrides the detected package manager install'),
  buildCommand: z.string().optional().describe('Overrides `next build` (OpenNext wraps it)'),
  healthPath: z.string().optional().describe('What the health gate requests before an alias moves to a deployment; `/` by default'),
});
export type BuildSettings = z.infer<typeof BuildSettings>;

/**
 * A project's deploy settings. `previewBranches: 'none'` deploys only the production branch.
 *
 * @example
 * ProjectSettings.parse({ productionBranch: 'main', previewBranches: 'all', autoDeploy: true, build });
 */
export const ProjectSettings = z.object({
  productionBranch: Branch,
  previewBranches: z.enum(['all', 'none']),
  autoDeploy: z.boolean().describe('When false, pushes are recorded but deploy only on request'),
  build: BuildSettings,
});
export type ProjectSettings = z.infer<typeof ProjectSettings>;

/**
 * A project was registered.
 *
 * @example
 * ProjectCreated.parse({ type: 'ProjectCreated', data: { projectId: 'web', name: 'Web', repository, settings } });
 */
export const ProjectCreated = z.object({
  type: z.literal('ProjectCreated'),
  data: z.object({ projectId: ProjectId, name: z.string().min(1).max(100), repository: Repository, settings: ProjectSettings }),
});
export type ProjectCreated = z.infer<typeof ProjectCreated>;

/**
 * A project's settings changed. Carries the full settings after the change (so folds need no
 * merge) and which top-level fields changed.
 *
 * @example
 * ProjectSettingsChanged.parse({ type: 'ProjectSettingsChanged', data: { projectId: 'web', settings, changed: ['productionBranch'] } });
 */
export const ProjectSettingsChanged = z.object({
  type: z.literal('ProjectSettingsChanged'),
  data: z.object({
    projectId: ProjectId,
    settings: ProjectSettings,
    changed: z.array(z.enum(['productionBranch', 'previewBranches', 'autoDeploy', 'build'])).min(1),
  }),
});
export type ProjectSettingsChanged = z.infer<typeof ProjectSettingsChanged>;

/**
 * A path prefix of a project's domain that another project serves (multi-zone): one or more
 * path segments, no trailing slash, never under `/_next` or `/api` (the host's own). The
 * mounted project is built with this prefix as its `basePath`.
 *
 * @example
 * MountPrefix.parse('/outreach');
 */
export const MountPrefix = z
  .string()
  .max(200)
  .regex(/^(?:\/[A-Za-z0-9][A-Za-z0-9._~-]*)+$/, 'must be a path prefix like /outreach: segments of letters, digits, . _ ~ -, no trailing slash')
  .refine((p) => !/^\/(?:_next|api)(?:\/|$)/i.test(p), 'must not be under /_next or /api (the host project serves those)');

/**
 * One mount: requests whose path is `prefix` or starts with `prefix/` are served by `project`'s
 * production deployment, with the full path.
 *
 * @example
 * Mount.parse({ prefix: '/outreach', project: 'outreach' });
 */
export const Mount = z.object({ prefix: MountPrefix, project: ProjectId });
export type Mount = z.infer<typeof Mount>;

/**
 * A project mounted another project at a path prefix of its domain, or removed a mount. Carries
 * every mount after the change (so folds need no merge) and the one change.
 *
 * @example
 * ProjectMountsChanged.parse({ type: 'ProjectMountsChanged', data: { projectId: 'web', mounts: [{ prefix: '/outreach', project: 'outreach' }],
 *   change: { op: 'add', prefix: '/outreach', project: 'outreach' } } });
 */
export const ProjectMountsChanged = z.object({
  type: z.literal('ProjectMountsChanged'),
  data: z.object({
    projectId: ProjectId,
    mounts: z.array(Mount).max(50).describe('Every mount of the project after the change, by prefix'),
    change: Mount.extend({ op: z.enum(['add', 'remove']) }),
  }),
});
export type ProjectMountsChanged = z.infer<typeof ProjectMountsChanged>;

/**
 * An environment variable reference: name, target and version. Never the value, which lives
 * encrypted outside the event store (events are kept forever and sent to outside subscribers).
 *
 * @example
 * EnvVarRef.parse({ name: 'DATABASE_URL', target: 'production', version: 3 });
 */
export const EnvVarRef = z.object({ name: EnvVarName, target: Target, version: z.number().int().min(1) });
export type EnvVarRef = z.infer<typeof EnvVarRef>;

/**
 * An environment variable was created or given a new value (a new `version`, per name and target).
 * `sensitive` variables cannot be read back in the dashboard, only replaced.
 *
 * @example
 * EnvVarSet.parse({ type: 'EnvVarSet', data: { projectId: 'web', name: 'API_KEY', target: 'production', version: 2, sensitive: true } });
 */
export const EnvVarSet = z.object({
  type: z.literal('EnvVarSet'),
  data: EnvVarRef.extend({ projectId: ProjectId, sensitive: z.boolean() }),
});
export type EnvVarSet = z.infer<typeof EnvVarSet>;

/**
 * An environment variable was removed from a target. `version` is the removed one.
 *
 * @example
 * EnvVarRemoved.parse({ type: 'EnvVarRemoved', data: { projectId: 'web', name: 'API_KEY', target: 'preview', version: 2 } });
 */
export const EnvVarRemoved = z.object({ type: z.literal('EnvVarRemoved'), data: EnvVarRef.extend({ projectId: ProjectId }) });
export type EnvVarRemoved = z.infer<typeof EnvVarRemoved>;

/**
 * A push reached shiplog (GitHub webhook or the shiplog git remote). Recorded as received;
 * whether it deploys is decided after (`DeploymentRequested` or `PushIgnored`).
 * `branch` is null for tag pushes; `headCommit` is null when the branch was deleted.
 *
 * @example
 * PushReceived.parse({ type: 'PushReceived', data: { projectId: 'web', deliveryId: 'd-1', source: 'github', repository: 'acme/web',
 *   ref: 'refs/heads/main', branch: 'main', before, after, headCommit, pusher: { name: 'ada' }, forced: false } });
 */
export const PushReceived = z.object({
  type: z.literal('PushReceived'),
  data: z.object({
    projectId: ProjectId,
    deliveryId: z.string().min(1).describe('X-GitHub-Delivery, or the id the shiplog git remote assigns'),
    source: z.enum(['github', 'git']),
    repository: z.string().min(1).describe('Repository full name'),
    ref: z.string().min(1),
    branch: Branch.nullable(),
    before: Sha,
    after: Sha,
    headCommit: Commit.nullable(),
    pusher: GitPerson,
    forced: z.boolean(),
  }),
});
export type PushReceived = z.infer<typeof PushReceived>;

/**
 * Why a push did not deploy.
 *
 * @example
 * PushIgnoredReason.parse('branch-not-tracked');
 */
export const PushIgnoredReason = z.enum([
  'tag', 'branch-deleted', 'duplicate-delivery', 'branch-not-tracked', 'auto-deploy-disabled', 'skip-ci-in-message',
]);

/**
 * A push was received and deliberately not deployed.
 *
 * @example
 * PushIgnored.parse({ type: 'PushIgnored', data: { projectId: 'web', deliveryId: 'd-1', ref: 'refs/tags/v1', sha, reason: 'tag' } });
 */
export const PushIgnored = z.object({
  type: z.literal('PushIgnored'),
  data: z.object({
    projectId: ProjectId,
    deliveryId: z.string().min(1),
    ref: z.string().min(1),
    sha: Sha,
    reason: PushIgnoredReason,
    detail: z.string().max(1000).optional(),
  }),
});
export type PushIgnored = z.infer<typeof PushIgnored>;

/**
 * A deployment was requested: everything the build needs, snapshotted at request time.
 * `requestedAt` orders deployments of one alias: an older request never replaces a newer live one.
 * `sourceDeploymentId` is set for `redeploy` and `promote` (a preview rebuilt with production env).
 *
 * @example
 * DeploymentRequested.parse({ type: 'DeploymentRequested', data: { projectId: 'web', deploymentId: 'd1', target: 'production',
 *   alias: 'production', trigger: 'push', branch: 'main', commit, repository, buildSettings, env: [], requestedBy, requestedAt } });
 */
export const DeploymentRequested = z.object({
  type: z.literal('DeploymentRequested'),
  data: z.object({
    projectId: ProjectId,
    deploymentId: Id,
    target: Target,
    alias: Alias,
    trigger: z.enum(['push', 'manual', 'redeploy', 'promote']),
    branch: Branch,
    commit: Commit,
    repository: Repository,
    buildSettings: BuildSettings,
    env: z.array(EnvVarRef).describe('Names and versions of the env vars the build gets; never values'),
    requestedBy: Actor,
    requestedAt: Timestamp,
    pushDeliveryId: z.string().min(1).optional(),
    sourceDeploymentId: Id.optional(),
  }),
});
export type DeploymentRequested = z.infer<typeof DeploymentRequested>;

/**
 * Someone asked to roll an alias back. Without `toDeploymentId`, the deployment that was live
 * before the current one is meant.
 *
 * @example
 * RollbackRequested.parse({ type: 'RollbackRequested', data: { projectId: 'web', alias: 'production', reason: '500s on /cart', requestedBy } });
 */
export const RollbackRequested = z.object({
  type: z.literal('RollbackRequested'),
  data: z.object({
    projectId: ProjectId,
    alias: Alias,
    toDeploymentId: Id.optional(),
    reason: z.string().max(1000),
    requestedBy: Actor,
  }),
});
export type RollbackRequested = z.infer<typeof RollbackRequested>;

/**
 * Someone asked to make an existing deployment live on an alias (after a rollback, or a staged
 * production deployment). A preview is promoted by a `DeploymentRequested` with trigger `promote`.
 *
 * @example
 * PromoteRequested.parse({ type: 'PromoteRequested', data: { projectId: 'web', deploymentId: 'd7', alias: 'production', requestedBy } });
 */
export const PromoteRequested = z.object({
  type: z.literal('PromoteRequested'),
  data: z.object({ projectId: ProjectId, deploymentId: Id, alias: Alias, reason: z.string().max(1000).optional(), requestedBy: Actor }),
});
export type PromoteRequested = z.infer<typeof PromoteRequested>;

/**
 * Every event the ingest service (API and command side) emits.
 *
 * @example
 * IngestEvent.parse({ type: 'ProjectCreated', data });
 */
export const IngestEvent = z.discriminatedUnion('type', [
  ProjectCreated, ProjectSettingsChanged, ProjectMountsChanged, EnvVarSet, EnvVarRemoved, PushReceived, PushIgnored,
  DeploymentRequested, RollbackRequested, PromoteRequested,
]);
export type IngestEvent = z.infer<typeof IngestEvent>;
