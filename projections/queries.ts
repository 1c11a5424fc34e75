import { activityKeys } from './activity.ts';
import { deliveryKeys } from './delivery.ts';
import { deploymentKeys, type BuildLogView } from './deployments.ts';
import { projectKeys } from './projects.ts';
import { activeNamespace } from './registry.ts';
import type { Page, RegistryEntry, ViewStore } from './store/ports.ts';
import type { Urls } from './urls.ts';
import type { ActivityEntry } from './views/activity.ts';
import { summarizeDeployment, type DeploymentSummary, type DeploymentView } from './views/deployment.ts';
import type { DomainView } from './views/domain.ts';
import { computeDeliveryMetrics, type DeliveryFacts, type DeliveryMetrics } from './views/dora.ts';
import type { EnvVarView } from './views/env-vars.ts';
import type { ProjectView } from './views/project.ts';
import { withCausation, type CausalEntry } from './views/timeline.ts';

export type ProjectWithUrls = ProjectView & { productionUrl: string; liveUrl: string | null };
export type DeploymentListItem = DeploymentSummary & { url: string };
export type DeploymentDetail = Omit<DeploymentView, 'timeline'> & { url: string; timeline: CausalEntry[] };

const DAY = 86_400_000;

/**
 * The read side of the projections, for the dashboard, the API and the CLI. Each method is one
 * GetItem or one Query on the serving generation (whose name is read from the registry and
 * cached for `cacheMs`). URLs come from `urls`, so AWS supplies CloudFront's.
 *
 * @example
 * const models = readModels({ views, urls: localUrls(3001) });
 * const page = await models.listDeployments('web', { limit: 20 });
 * const next = await models.listDeployments('web', { limit: 20, cursor: page.cursor });
 */
export const readModels = (deps: { views: ViewStore; urls: Urls; cacheMs?: number; now?: () => number }) => {
  const { views, urls } = deps;
  const now = deps.now ?? Date.now;
  let cache: { at: number; entries: Map<string, RegistryEntry> } | undefined;
  const ns = async (name: string): Promise<string | undefined> => {
    if (!cache || now() - cache.at >= (deps.cacheMs ?? 2000)) cache = { at: now(), entries: await views.readRegistry() };
    return activeNamespace(cache.entries.get(name));
  };
  const empty = <T>(): Page<T> => ({ items: [], cursor: null });

  const decorateProject = (p: ProjectView): ProjectWithUrls => ({
    ...p,
    productionUrl: urls.production(p.projectId),
    liveUrl: p.liveDeploymentId ? urls.deployment(p.projectId, p.liveDeploymentId) : null,
  });

  return {
    /** Every project with its production URL and live deployment (one Query). */
    listProjects: async (): Promise<ProjectWithUrls[]> => {
      const space = await ns('projects');
      if (!space) return [];
      const out: ProjectWithUrls[] = [];
      let cursor: string | null = null;
      do {
        const page: Page<unknown> = await views.query(space, 'projects', { cursor });
        out.push(...(page.items as ProjectView[]).map(decorateProject));
        cursor = page.cursor;
      } while (cursor);
      return out;
    },

    getProject: async (projectId: string): Promise<ProjectWithUrls | undefined> => {
      const space = await ns('projects');
      const p = space ? ((await views.get(space, projectKeys.project(projectId))) as ProjectView | undefined) : undefined;
      return p ? decorateProject(p) : undefined;
    },

    /** A project's deployments, newest first, a page at a time. */
    listDeployments: async (projectId: string, opts: { limit?: number; cursor?: string | null } = {}): Promise<Page<DeploymentListItem>> => {
      const space = await ns('deployments');
      if (!space) return empty();
      const page = await views.queryList(space, deploymentKeys.list(projectId), { descending: true, limit: opts.limit ?? 20, cursor: opts.cursor ?? null });
      return { items: (page.items as DeploymentSummary[]).map((d) => ({ ...d, url: urls.deployment(d.projectId, d.deploymentId) })), cursor: page.cursor };
    },

    /**
     * One deployment's list row, read from the table itself. The list index is eventually
     * consistent (a GSI), so a read-your-writes list merges the caller's own deployment from here.
     */
    deploymentListItem: async (deploymentId: string): Promise<DeploymentListItem | undefined> => {
      const space = await ns('deployments');
      const d = space ? ((await views.get(space, deploymentKeys.deployment(deploymentId))) as DeploymentView | undefined) : undefined;
      if (!d?.requestedAt) return undefined;
      return { ...summarizeDeployment(d), url: urls.deployment(d.projectId, d.deploymentId) };
    },

    /** One deployment with its timeline (first and last events) and causation chain. */
    getDeployment: async (deploymentId: string): Promise<DeploymentDetail | undefined> => {
      const space = await ns('deployments');
      const d = space ? ((await views.get(space, deploymentKeys.deployment(deploymentId))) as DeploymentView | undefined) : undefined;
      if (!d) return undefined;
      return { ...d, url: urls.deployment(d.projectId, d.deploymentId), timeline: withCausation(d.timeline) };
    },

    /** The build attempts of a deployment, with where their logs are. */
    listBuilds: async (deploymentId: string): Promise<BuildLogView[]> => {
      const space = await ns('deployments');
      return space ? ((await views.query(space, deploymentKeys.builds(deploymentId))).items as BuildLogView[]) : [];
    },

    /** A project's builds, newest first: the build logs index. */
    listProjectBuilds: async (projectId: string, opts: { limit?: number; cursor?: string | null } = {}): Promise<Page<BuildLogView>> => {
      const space = await ns('deployments');
      if (!space) return empty();
      return (await views.queryList(space, deploymentKeys.buildList(projectId), { descending: true, limit: opts.limit ?? 20, cursor: opts.cursor ?? null })) as Page<BuildLogView>;
    },

    listEnvVars: async (projectId: string): Promise<EnvVarView[]> => {
      const space = await ns('projects');
      return space ? ((await views.query(space, projectKeys.envVars(projectId))).items as EnvVarView[]) : [];
    },

    listDomains: async (projectId: string): Promise<DomainView[]> => {
      const space = await ns('projects');
      return space ? ((await views.query(space, projectKeys.domains(projectId))).items as DomainView[]) : [];
    },

    /** The audit feed, newest first: one project's, or everyone's. */
    activity: async (opts: { projectId?: string; limit?: number; cursor?: string | null } = {}): Promise<Page<ActivityEntry>> => {
      const space = await ns('activity');
      if (!space) return empty();
      const q = { descending: true, limit: opts.limit ?? 50, cursor: opts.cursor ?? null };
      return (opts.projectId
        ? await views.query(space, activityKeys.project(opts.projectId), q)
        : await views.queryList(space, activityKeys.all, q)) as Page<ActivityEntry>;
    },

    /** The DORA four of a project over the last `days` (default 30) or a given window. */
    deliveryMetrics: async (projectId: string, opts: { from?: string; to?: string; days?: number } = {}): Promise<DeliveryMetrics> => {
      const to = opts.to ?? new Date(now()).toISOString();
      const from = opts.from ?? new Date(Date.parse(to) - (opts.days ?? 30) * DAY).toISOString();
      const space = await ns('delivery');
      const facts: DeliveryFacts[] = [];
      if (space) {
        // Deployments requested up to a week before the window can go live (or be rolled back) in it.
        let cursor: string | null = null;
        do {
          const page: Page<unknown> = await views.queryList(space, deliveryKeys.list(projectId), { from: new Date(Date.parse(from) - 7 * DAY).toISOString(), cursor });
          facts.push(...(page.items as DeliveryFacts[]));
          cursor = page.cursor;
        } while (cursor);
      }
      return computeDeliveryMetrics(projectId, facts, { from, to });
    },
  };
};

export type ReadModels = ReturnType<typeof readModels>;
