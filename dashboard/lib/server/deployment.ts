import 'server-only';
import type { StoredEvent } from '../../../events/index.ts';
import type { LogLine } from '../../../services/build/index.ts';
import { replayDeployment } from '../../../projections/index.ts';
import type { DeploymentView, CausalEntry } from '../../../projections/index.ts';
import { apiGet } from './api.ts';
import { context } from './context.ts';

/**
 * Everything the deployment page shows. `state` comes from the read model, or, when `at` asks
 * for a moment of its past, from replaying the event store up to that event (never from the
 * read model). `events` are the deployment's stored events, for their JSON and the time-travel
 * stops.
 */
export interface DeploymentPageData {
  state: Omit<DeploymentView, 'timeline'> & { url: string | null };
  timeline: CausalEntry[];
  events: StoredEvent[];
  /** The event number shown, when travelling in time. */
  at: number | null;
  fromReplay: boolean;
  log: LogLine[];
  logError: string | null;
}

export const loadDeployment = async (deploymentId: string, at: number | null): Promise<DeploymentPageData | undefined> => {
  const { models, store, urls } = context();
  const [detail, events] = await Promise.all([models.getDeployment(deploymentId), store.readDeployment(deploymentId)]);
  if (!detail && events.length === 0) return undefined;
  const travel = at !== null && events.length > 0 ? Math.min(Math.max(1, at), events.length) : null;
  let state: DeploymentPageData['state'];
  let timeline: CausalEntry[];
  let fromReplay = false;
  if (detail && travel === null) {
    ({ timeline, ...state } = detail);
  } else {
    // Time travel, or the read model has not caught up with a brand-new deployment yet.
    const replayed = await replayDeployment(store, deploymentId, { urls, ...(travel !== null ? { at: { event: travel } } : {}) });
    state = replayed.state;
    timeline = replayed.timeline;
    fromReplay = true;
  }
  let log: LogLine[] = [];
  let logError: string | null = null;
  try {
    log = await apiGet<LogLine[]>(`/api/deployments/${encodeURIComponent(deploymentId)}/logs`);
  } catch (err) {
    logError = (err as Error).message;
  }
  return { state, timeline, events, at: travel, fromReplay, log, logError };
};
