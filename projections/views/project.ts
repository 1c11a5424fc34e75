import type { Actor, Mount, ProjectSettings, Repository, Target } from '../../events/index.ts';
import type { ProjectionEvent } from '../types.ts';

/** What an alias serves now. `pinned`: after a rollback the alias takes no automatic deployments. */
export interface AliasState {
  deploymentId: string;
  since: string;
  reason: 'deploy' | 'rollback' | 'promote';
  pinned: boolean;
}

/**
 * A project as the dashboard lists it. URLs are added when read (`readModels`), so a changed
 * sites port or CloudFront domain needs no rebuild.
 *
 * @example
 * (await models.getProject('web'))?.liveDeploymentId;
 */
export interface ProjectView {
  projectId: string;
  name: string | null;
  repository: Repository | null;
  settings: ProjectSettings | null;
  /**
   * Projects served at path prefixes of this one's domain (multi-zone), by prefix. Absent from
   * documents written before mounts existed: read it as `mounts ?? []`.
   */
  mounts?: Mount[];
  createdAt: string | null;
  createdBy: Actor | null;
  /** Per alias (`production`, `preview-<branch>`), from that alias's release stream. */
  aliases: Record<string, AliasState>;
  /** The deployment the production alias serves. */
  liveDeploymentId: string | null;
  /** The most recently requested deployment (by `requestedAt`). */
  latestDeployment: { deploymentId: string; requestedAt: string; target: Target; branch: string; sha: string } | null;
  deploymentCount: number;
  lastPush: { branch: string | null; sha: string; pusher: string; at: string } | null;
  updatedAt: string | null;
}

export const initialProject = (projectId: string): ProjectView => ({
  projectId, name: null, repository: null, settings: null, mounts: [], createdAt: null, createdBy: null, aliases: {},
  liveDeploymentId: null, latestDeployment: null, deploymentCount: 0, lastPush: null, updatedAt: null,
});

// `pinned` undefined: the alias keeps the pin it had.
const pointAliasInto = (
  v: ProjectView, alias: string, deploymentId: string, since: string, reason: AliasState['reason'], pinned: boolean | undefined,
): ProjectView => {
  v.aliases[alias] = { deploymentId, since, reason, pinned: pinned ?? v.aliases[alias]?.pinned ?? false };
  v.liveDeploymentId = v.aliases.production?.deploymentId ?? null;
  return v;
};

const projectTypes: ReadonlySet<string> = new Set([
  'ProjectCreated', 'ProjectSettingsChanged', 'ProjectMountsChanged', 'PushReceived', 'DeploymentRequested', 'AliasShifted', 'DeploymentLive', 'RolledBack', 'Promoted',
]);

/**
 * Folds an event into a project in place (`v` must be the caller's own, see {@link copyProject})
 * and returns it.
 *
 * @example
 * const project = events.reduce(evolveProjectInto, initialProject('web'));
 */
export const evolveProjectInto = (v: ProjectView, e: ProjectionEvent): ProjectView => {
  if (!projectTypes.has(e.type)) return v;
  const at = e.metadata.occurredAt;
  if (!(v.updatedAt && v.updatedAt >= at)) v.updatedAt = at;
  switch (e.type) {
    case 'ProjectCreated':
      v.name = e.data.name;
      v.repository = e.data.repository;
      v.settings = e.data.settings;
      v.createdAt = at;
      v.createdBy = e.metadata.actor;
      return v;
    case 'ProjectSettingsChanged':
      v.settings = e.data.settings;
      return v;
    case 'ProjectMountsChanged':
      v.mounts = e.data.mounts;
      return v;
    case 'PushReceived': {
      const p = e.data.pusher;
      v.lastPush = { branch: e.data.branch, sha: e.data.after, pusher: p.username ?? p.name, at };
      return v;
    }
    case 'DeploymentRequested': {
      const d = e.data;
      const cur = v.latestDeployment;
      v.deploymentCount += 1;
      if (!cur || d.requestedAt > cur.requestedAt || (d.requestedAt === cur.requestedAt && d.deploymentId > cur.deploymentId)) {
        v.latestDeployment = { deploymentId: d.deploymentId, requestedAt: d.requestedAt, target: d.target, branch: d.branch, sha: d.commit.sha };
      }
      return v;
    }
    case 'AliasShifted': {
      const reason = e.data.reason;
      return pointAliasInto(v, e.data.alias, e.data.toDeploymentId, at, reason, reason === 'rollback' ? true : reason === 'promote' ? false : undefined);
    }
    case 'DeploymentLive':
      if (v.aliases[e.data.alias]?.deploymentId === e.data.deploymentId) return v;
      return pointAliasInto(v, e.data.alias, e.data.deploymentId, at, 'deploy', undefined);
    case 'RolledBack':
      return pointAliasInto(v, e.data.alias, e.data.toDeploymentId, at, 'rollback', true);
    case 'Promoted':
      return pointAliasInto(v, e.data.alias, e.data.deploymentId, at, 'promote', false);
    default:
      return v;
  }
};

/**
 * A copy of a project that {@link evolveProjectInto} can change without touching the original.
 *
 * @example
 * const mine = evolveProjectInto(copyProject(shared), event);
 */
export const copyProject = (v: ProjectView): ProjectView => ({ ...v, aliases: { ...v.aliases } });

/**
 * Folds an event into a project. Settings and pushes come from the project stream, alias states
 * each from their own release stream, and the latest deployment is a maximum: no interleaving of
 * streams changes the result. Pure.
 *
 * @example
 * const project = events.reduce(evolveProject, initialProject('web'));
 */
export const evolveProject = (v: ProjectView, e: ProjectionEvent): ProjectView =>
  projectTypes.has(e.type) ? evolveProjectInto(copyProject(v), e) : v;
