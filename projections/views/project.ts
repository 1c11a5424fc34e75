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

const pointAlias = (v: ProjectView, alias: string, next: Omit<AliasState, 'pinned'> & { pinned?: boolean }): ProjectView => {
  const aliases = { ...v.aliases, [alias]: { ...next, pinned: next.pinned ?? v.aliases[alias]?.pinned ?? false } };
  return { ...v, aliases, liveDeploymentId: aliases.production?.deploymentId ?? null };
};

/**
 * Folds an event into a project. Settings and pushes come from the project stream, alias states
 * each from their own release stream, and the latest deployment is a maximum: no interleaving of
 * streams changes the result.
 *
 * @example
 * const project = events.reduce(evolveProject, initialProject('web'));
 */
export const evolveProject = (v0: ProjectView, e: ProjectionEvent): ProjectView => {
  const at = e.metadata.occurredAt;
  const v = { ...v0, updatedAt: v0.updatedAt && v0.updatedAt >= at ? v0.updatedAt : at };
  switch (e.type) {
    case 'ProjectCreated':
      return { ...v, name: e.data.name, repository: e.data.repository, settings: e.data.settings, createdAt: at, createdBy: e.metadata.actor };
    case 'ProjectSettingsChanged':
      return { ...v, settings: e.data.settings };
    case 'ProjectMountsChanged':
      return { ...v, mounts: e.data.mounts };
    case 'PushReceived': {
      const p = e.data.pusher;
      return { ...v, lastPush: { branch: e.data.branch, sha: e.data.after, pusher: p.username ?? p.name, at } };
    }
    case 'DeploymentRequested': {
      const d = e.data;
      const candidate = { deploymentId: d.deploymentId, requestedAt: d.requestedAt, target: d.target, branch: d.branch, sha: d.commit.sha };
      const cur = v.latestDeployment;
      const newer = !cur || d.requestedAt > cur.requestedAt || (d.requestedAt === cur.requestedAt && d.deploymentId > cur.deploymentId);
      return { ...v, deploymentCount: v.deploymentCount + 1, latestDeployment: newer ? candidate : cur };
    }
    case 'AliasShifted':
      return pointAlias(v, e.data.alias, {
        deploymentId: e.data.toDeploymentId, since: at, reason: e.data.reason,
        ...(e.data.reason === 'rollback' ? { pinned: true } : e.data.reason === 'promote' ? { pinned: false } : {}),
      });
    case 'DeploymentLive':
      if (v.aliases[e.data.alias]?.deploymentId === e.data.deploymentId) return v;
      return pointAlias(v, e.data.alias, { deploymentId: e.data.deploymentId, since: at, reason: 'deploy' });
    case 'RolledBack':
      return pointAlias(v, e.data.alias, { deploymentId: e.data.toDeploymentId, since: at, reason: 'rollback', pinned: true });
    case 'Promoted':
      return pointAlias(v, e.data.alias, { deploymentId: e.data.deploymentId, since: at, reason: 'promote', pinned: false });
    default:
      return v0;
  }
};
