import type { Target } from '../../events/index.ts';
import type { ProjectionEvent } from '../types.ts';

/**
 * The delivery facts of one deployment, each the earliest time it happened, so facts from
 * different streams combine in any order.
 *
 * @example
 * const facts = events.reduce(evolveDeliveryFacts, initialDeliveryFacts('d1', 'web'));
 */
export interface DeliveryFacts {
  deploymentId: string;
  projectId: string;
  target: Target | null;
  requestedAt: string | null;
  /** When the change was committed (the commit's timestamp, else the request time). */
  committedAt: string | null;
  liveAt: string | null;
  failedAt: string | null;
  /** When an alias was rolled back away from this deployment. */
  rolledBackAt: string | null;
  /** When a critical alarm was raised while it served. */
  alarmAt: string | null;
  alarmClearedAt: string | null;
}

export const initialDeliveryFacts = (deploymentId: string, projectId: string): DeliveryFacts => ({
  deploymentId, projectId, target: null, requestedAt: null, committedAt: null, liveAt: null, failedAt: null,
  rolledBackAt: null, alarmAt: null, alarmClearedAt: null,
});

const min = (a: string | null, b: string): string => (a !== null && a <= b ? a : b);

/**
 * Folds an event into the facts in place (`f` must be the caller's own; a shallow copy will do)
 * and returns them.
 *
 * @example
 * const facts = events.reduce(evolveDeliveryFactsInto, initialDeliveryFacts('d1', 'web'));
 */
export const evolveDeliveryFactsInto = (f: DeliveryFacts, e: ProjectionEvent): DeliveryFacts => {
  const at = e.metadata.occurredAt;
  switch (e.type) {
    case 'DeploymentRequested':
      f.target = e.data.target;
      f.requestedAt = e.data.requestedAt;
      f.committedAt = e.data.commit.timestamp ?? e.data.requestedAt;
      break;
    case 'DeploymentLive':
      f.target = f.target ?? e.data.target;
      f.liveAt = min(f.liveAt, at);
      break;
    case 'DeploymentFailed':
      f.failedAt = min(f.failedAt, at);
      break;
    case 'RolledBack':
      if (e.data.fromDeploymentId === f.deploymentId) f.rolledBackAt = min(f.rolledBackAt, at);
      break;
    case 'AlarmRaised':
      if (e.data.severity === 'critical') f.alarmAt = min(f.alarmAt, e.data.since);
      break;
    case 'AlarmCleared':
      f.alarmClearedAt = min(f.alarmClearedAt, at);
      break;
    default:
  }
  return f;
};

/**
 * Folds an event into the delivery facts of a deployment. Pure.
 *
 * @example
 * const facts = events.reduce(evolveDeliveryFacts, initialDeliveryFacts('d1', 'web'));
 */
export const evolveDeliveryFacts = (f: DeliveryFacts, e: ProjectionEvent): DeliveryFacts => evolveDeliveryFactsInto({ ...f }, e);

/** A distribution of durations in milliseconds. */
export interface DurationStats {
  samples: number;
  medianMs: number | null;
  p90Ms: number | null;
}

/**
 * The DORA four of a project over a window, for production deployments that went live in it.
 *
 * - deployment frequency: production deployments live per day (and per week);
 * - lead time for changes: from commit to live;
 * - change failure rate: share of them that were rolled back or raised a critical alarm;
 * - time to restore: from the failure (the alarm, else going live) to the rollback, the alarm
 *   clearing, or the next production deployment going live, whichever came first.
 *
 * @example
 * (await models.deliveryMetrics('web', { days: 30 })).changeFailureRate; // 0.12
 */
export interface DeliveryMetrics {
  projectId: string;
  from: string;
  to: string;
  deployments: number;
  failedDeployments: number;
  deploymentFrequency: { perDay: number; perWeek: number };
  leadTime: DurationStats;
  changeFailureRate: number | null;
  changeFailures: number;
  timeToRestore: DurationStats & { unresolved: number };
}

const stats = (values: number[]): DurationStats => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]! : null);
  return { samples: sorted.length, medianMs: at(0.5), p90Ms: at(0.9) };
};

const t = (iso: string): number => Date.parse(iso);

/**
 * Computes the DORA four from the delivery facts of a project's deployments. Pure.
 *
 * @example
 * computeDeliveryMetrics('web', facts, { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' });
 */
export const computeDeliveryMetrics = (
  projectId: string,
  facts: DeliveryFacts[],
  window: { from: string; to: string },
): DeliveryMetrics => {
  const inWindow = (iso: string | null): iso is string => iso !== null && iso >= window.from && iso < window.to;
  const production = facts.filter((f) => f.target === 'production');
  const live = production.filter((f) => inWindow(f.liveAt)).sort((a, b) => (a.liveAt! < b.liveAt! ? -1 : 1));
  const allLive = production.filter((f) => f.liveAt !== null).map((f) => f.liveAt!).sort();
  const days = Math.max(1e-9, (t(window.to) - t(window.from)) / 86_400_000);

  const failures = live.filter((f) => f.rolledBackAt !== null || (f.alarmAt !== null && f.alarmAt >= f.liveAt!));
  const restores: number[] = [];
  let unresolved = 0;
  for (const f of failures) {
    const start = f.alarmAt !== null && f.alarmAt >= f.liveAt! ? f.alarmAt : f.liveAt!;
    const candidates = [
      f.rolledBackAt,
      f.alarmClearedAt !== null && f.alarmClearedAt >= start ? f.alarmClearedAt : null,
      allLive.find((at) => at > f.liveAt!) ?? null,
    ].filter((c): c is string => c !== null && c >= start);
    if (candidates.length === 0) unresolved++;
    else restores.push(t(candidates.sort()[0]!) - t(start));
  }

  return {
    projectId,
    from: window.from,
    to: window.to,
    deployments: live.length,
    failedDeployments: production.filter((f) => inWindow(f.failedAt) && f.liveAt === null).length,
    deploymentFrequency: { perDay: live.length / days, perWeek: (live.length / days) * 7 },
    leadTime: stats(live.map((f) => Math.max(0, t(f.liveAt!) - t(f.committedAt ?? f.requestedAt ?? f.liveAt!)))),
    changeFailureRate: live.length ? failures.length / live.length : null,
    changeFailures: failures.length,
    timeToRestore: { ...stats(restores), unresolved },
  };
};
