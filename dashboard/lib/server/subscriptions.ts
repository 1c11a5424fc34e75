import 'server-only';
import type { StoredEvent, EventData, EventStore } from '../../../events/index.ts';

/** A webhook subscription of a project, as its events tell it. */
export interface SubscriptionRow {
  subscriptionId: string;
  /** `events`, or `runtime-logs` (a log drain: batches of runtime log records, not counted here). */
  kind: 'events' | 'runtime-logs';
  targetUrl: string;
  eventPattern: string;
  description: string | null;
  createdAt: string;
  delivered: number;
  failed: number;
  lastDeliveryAt: string | null;
}

/**
 * A project's live subscriptions, folded from its events in the store (no read model holds
 * them yet). Reads the project's whole history, so the page streams it in separately.
 * TODO(when a subscriptions projection exists): read it instead.
 *
 * @example
 * const subs = await projectSubscriptions(store, 'web');
 */
export const projectSubscriptions = async (store: EventStore, projectId: string): Promise<SubscriptionRow[]> => {
  const subs = new Map<string, SubscriptionRow>();
  const events: StoredEvent[] = await store.readProject(projectId);
  for (const e of events) {
    if (e.type === 'SubscriptionCreated') {
      const d = e.data as EventData<'SubscriptionCreated'>;
      subs.set(d.subscriptionId, {
        subscriptionId: d.subscriptionId, kind: d.kind ?? 'events', targetUrl: d.targetUrl, eventPattern: d.eventPattern, description: d.description ?? null,
        createdAt: e.metadata.occurredAt, delivered: 0, failed: 0, lastDeliveryAt: null,
      });
    } else if (e.type === 'SubscriptionRemoved') {
      subs.delete((e.data as EventData<'SubscriptionRemoved'>).subscriptionId);
    } else if (e.type === 'DeliverySucceeded' || e.type === 'DeliveryFailed') {
      const s = subs.get((e.data as { subscriptionId: string }).subscriptionId);
      if (!s) continue;
      if (e.type === 'DeliverySucceeded') s.delivered++;
      else s.failed++;
      s.lastDeliveryAt = e.metadata.occurredAt;
    }
  }
  return [...subs.values()];
};
