import type { EventData, StoredEvent } from '../../events/index.ts';
import type { DrainStats } from './drain.ts';

/**
 * A subscription as the API lists it: its settings and delivery counts, never its secret.
 *
 * @example
 * const rows = listSubscriptions(await store.readProject('web'));
 */
export interface SubscriptionView {
  subscriptionId: string;
  /** `events`, or `runtime-logs` (a log drain: its counts are `drain`, not `delivered`/`failed`). */
  kind: 'events' | 'runtime-logs';
  targetUrl: string;
  eventPattern: string;
  description: string | null;
  createdAt: string;
  createdBy: EventData<'SubscriptionCreated'>['createdBy'];
  delivered: number;
  failed: number;
  lastDeliveryAt: string | null;
  /** A log drain's counters in the process that runs it (locally: `shiplog dev`), when it has sent or buffered any. */
  drain?: DrainStats;
}

/**
 * The active subscriptions of a project, folded from its events (in commit order). Idempotent by
 * construction: a removed id never comes back, counts are by event id.
 *
 * @example
 * listSubscriptions(await store.readProject('web')).map((s) => s.targetUrl);
 */
export const listSubscriptions = (events: readonly StoredEvent[]): SubscriptionView[] => {
  const subs = new Map<string, SubscriptionView>();
  const removed = new Set<string>();
  const seen = new Set<string>();
  for (const e of events) {
    if (seen.has(e.metadata.eventId)) continue;
    seen.add(e.metadata.eventId);
    if (e.type === 'SubscriptionCreated') {
      const d = e.data as EventData<'SubscriptionCreated'>;
      if (removed.has(d.subscriptionId)) continue;
      subs.set(d.subscriptionId, {
        subscriptionId: d.subscriptionId, kind: d.kind ?? 'events', targetUrl: d.targetUrl, eventPattern: d.eventPattern, description: d.description ?? null,
        createdAt: e.metadata.occurredAt, createdBy: d.createdBy, delivered: 0, failed: 0, lastDeliveryAt: null,
      });
    } else if (e.type === 'SubscriptionRemoved') {
      const id = (e.data as EventData<'SubscriptionRemoved'>).subscriptionId;
      removed.add(id);
      subs.delete(id);
    } else if (e.type === 'DeliverySucceeded' || e.type === 'DeliveryFailed') {
      const s = subs.get((e.data as EventData<'DeliverySucceeded'>).subscriptionId);
      if (!s) continue;
      if (e.type === 'DeliverySucceeded') s.delivered++;
      else s.failed++;
      s.lastDeliveryAt = e.metadata.occurredAt;
    }
  }
  return [...subs.values()];
};
