import type { StoredEvent } from '../../events/index.ts';
import type { EventStore } from '../../events/store/index.ts';
import { deploymentKeys, deploymentsProjection } from '../deployments.ts';
import { fromStored } from '../incoming.ts';
import { follows, keyString } from '../types.ts';
import type { Urls } from '../urls.ts';
import { evolveDeploymentInto, initialDeployment, type DeploymentView } from '../views/deployment.ts';
import { withCausation, type CausalEntry } from '../views/timeline.ts';

/** A moment in a deployment's life: its n-th event (1-based, commit order), or a time. */
export type ReplayAt = { event: number } | { time: string };

/**
 * Reads `--at`: a whole number is an event number, anything else must be an ISO 8601 time.
 *
 * @example
 * parseAt('3');                          // { event: 3 }
 * parseAt('2026-11-22T10:00:05Z');       // { time: '2026-11-22T10:00:05.000Z' }
 */
export const parseAt = (raw: string): ReplayAt => {
  if (/^\d+$/.test(raw)) return { event: Number(raw) };
  const t = Date.parse(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(t)) throw new Error(`--at takes an ISO 8601 time or an event number, got "${raw}"`);
  return { time: new Date(t).toISOString() };
};

/**
 * The fold of a deployment's stored events: the same documents the `deployments` projection
 * keeps (same events, same `evolve`).
 *
 * @example
 * const view = foldDeployment('d1', await store.readDeployment('d1'));
 */
export const foldDeployment = (deploymentId: string, events: StoredEvent[]): DeploymentView => {
  const key = deploymentKeys.deployment(deploymentId);
  const ks = keyString(key);
  let view = initialDeployment(deploymentId);
  const seen = new Map<string, number>();
  for (const e of events) {
    if (!follows(deploymentsProjection, e.metadata.streamId)) continue;
    if (e.metadata.version <= (seen.get(e.metadata.streamId) ?? 0)) continue;
    seen.set(e.metadata.streamId, e.metadata.version);
    const { event } = fromStored(e);
    if (!event || !deploymentsProjection.keysOf(event).some((k) => keyString(k) === ks)) continue;
    view = evolveDeploymentInto(view, event);
  }
  return view;
};

/**
 * A deployment as it was at a moment, rebuilt from the store alone.
 *
 * @example
 * const { state, timeline } = await replayDeployment(store, 'd1', { at: { event: 4 } });
 */
export interface ReplayedDeployment {
  deploymentId: string;
  /** What `--at` selected, and how many of the deployment's stored events that is. */
  at: { event: number; time: string; of: number };
  state: Omit<DeploymentView, 'timeline'> & { url: string | null };
  timeline: CausalEntry[];
}

export const replayDeployment = async (
  store: EventStore,
  deploymentId: string,
  opts: { at?: ReplayAt; urls?: Urls } = {},
): Promise<ReplayedDeployment> => {
  const all = await store.readDeployment(deploymentId);
  if (all.length === 0) throw new Error(`no deployment ${deploymentId} in the store`);
  let upTo = all;
  const at = opts.at;
  if (at && 'event' in at) {
    if (at.event < 1 || at.event > all.length) throw new Error(`deployment ${deploymentId} has ${all.length} events: --at takes 1 to ${all.length}, got ${at.event}`);
    upTo = all.slice(0, at.event);
  } else if (at) {
    upTo = all.filter((e) => e.metadata.occurredAt <= at.time);
    if (upTo.length === 0) throw new Error(`nothing had happened to deployment ${deploymentId} by ${at.time} (its first event is at ${all[0]!.metadata.occurredAt})`);
  }
  const view = foldDeployment(deploymentId, upTo);
  const { timeline, ...state } = view;
  const lastTime = upTo.reduce((t, e) => (e.metadata.occurredAt > t ? e.metadata.occurredAt : t), '');
  return {
    deploymentId,
    at: { event: upTo.length, time: at && 'time' in at ? at.time : lastTime, of: all.length },
    state: { ...state, url: opts.urls && state.projectId ? opts.urls.deployment(state.projectId, deploymentId) : null },
    timeline: withCausation(timeline),
  };
};
