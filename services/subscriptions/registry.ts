import type { EventData } from '../../events/index.ts';
import { compilePattern, type EventMatcher } from '../../events/bus/pattern/index.ts';
import type { EventStore } from '../../events/store/index.ts';

/**
 * An active subscription, with its pattern compiled once.
 *
 * @example
 * const live = (await registry.active('web')).filter((s) => s.matches(ebEvent));
 */
export interface ActiveSubscription {
  data: EventData<'SubscriptionCreated'>;
  /** When the subscription was created: it receives only events that occurred from then on. */
  createdAt: string;
  matches: EventMatcher;
}

interface Entry {
  created: Map<string, ActiveSubscription>;
  removed: Set<string>;
  loadedAt: number;
}

export interface RegistryOptions {
  store: EventStore;
  /** How long a project's subscriptions are trusted before they are read again (default 5 s). */
  ttlMs?: number;
  /** How far back a refresh reads again, for writers whose clocks or commits lag (default 60 s). */
  overlapMs?: number;
  clock?: () => number;
}

/**
 * The active subscriptions of each project, cached for `ttlMs`. The first read folds the
 * project's whole history; a refresh reads only what was recorded since the last read (minus
 * `overlapMs`), so the delivery events that pile up in a project are not read again and again.
 * The fold is order-insensitive and idempotent (a removed id never comes back), so reading an
 * event twice is harmless.
 *
 * @example
 * const registry = subscriptionRegistry({ store, ttlMs: 5000 });
 * await registry.active('web');
 * registry.invalidate('web'); // after a create or remove in this process
 */
export const subscriptionRegistry = ({ store, ttlMs = 5000, overlapMs = 60_000, clock = Date.now }: RegistryOptions) => {
  const cache = new Map<string, Entry>();

  const refresh = async (projectId: string, entry: Entry | undefined): Promise<Entry> => {
    const startedAt = clock();
    const next: Entry = entry ?? { created: new Map(), removed: new Set(), loadedAt: 0 };
    const after = entry ? new Date(entry.loadedAt - overlapMs).toISOString() : undefined;
    for (const e of await store.readProject(projectId, after ? { after } : {})) {
      if (e.type === 'SubscriptionCreated') {
        const data = e.data as EventData<'SubscriptionCreated'>;
        if (!next.created.has(data.subscriptionId)) next.created.set(data.subscriptionId, { data, createdAt: e.metadata.occurredAt, matches: compilePattern(data.eventPattern) });
      } else if (e.type === 'SubscriptionRemoved') {
        next.removed.add((e.data as EventData<'SubscriptionRemoved'>).subscriptionId);
      }
    }
    next.loadedAt = startedAt;
    cache.set(projectId, next);
    return next;
  };

  return {
    active: async (projectId: string): Promise<ActiveSubscription[]> => {
      const cached = cache.get(projectId);
      const entry = cached && clock() - cached.loadedAt < ttlMs ? cached : await refresh(projectId, cached);
      return [...entry.created.values()].filter((s) => !entry.removed.has(s.data.subscriptionId));
    },
    /** Forgets a project, so the next `active` reads it whole. */
    invalidate: (projectId: string): void => {
      cache.delete(projectId);
    },
  };
};
export type SubscriptionRegistry = ReturnType<typeof subscriptionRegistry>;
