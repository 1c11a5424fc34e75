import type { StoredEvent } from '../events/index.ts';
import type { EventStore } from '../events/store/index.ts';
import { defaultProjections } from './all.ts';
import { liveNamespaces } from './registry.ts';
import { settledVersion } from './runner.ts';
import type { RegistryEntry, ViewStore } from './store/ports.ts';
import { follows, type AnyProjection } from './types.ts';

/**
 * Whether a projection's serving generation has applied an event. The runner records, per
 * stream, the last version it applied; an event is applied once that version reaches the event's.
 * A generation bulk-loaded by a rebuild stores no version for the streams it loaded: there an
 * event at or before the rebuild's baseline counts as applied (as the runner itself decides).
 */
const appliedIn = async (views: ViewStore, store: Pick<EventStore, 'readStream'>, entry: RegistryEntry, event: StoredEvent): Promise<boolean> => {
  const serving = liveNamespaces(entry)[0];
  if (!serving || !entry.active) return false;
  const stored = (await views.appliedVersions(serving.ns, [event.metadata.streamId])).get(event.metadata.streamId) ?? 0;
  if (stored >= event.metadata.version) return true;
  if (stored === 0 && serving.baseline) return (await settledVersion(store as EventStore, event.metadata.streamId, serving.baseline)) >= event.metadata.version;
  return false;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Read-your-writes for the read models: `waitFor(eventId, names)` resolves with the event once every
 * named projection's serving generation has applied it (an event id a command answered with),
 * or `undefined` when `timeoutMs` passes first (the projection lags, or no such event was committed).
 * It polls the applied version of the event's stream, 5 ms apart at first, then up to 50 ms.
 * A projection that does not follow the event's stream has nothing to wait for.
 *
 * @example
 * const positions = projectionPositions({ store, views });
 * if (await positions.waitFor(eventId, ['deployments', 'projects'], 5000)) return models.listDeployments('web');
 */
export const projectionPositions = (deps: {
  store: Pick<EventStore, 'getEvent' | 'readStream'>;
  views: ViewStore;
  /** The projections the names refer to (which streams each follows); default: all of them. */
  projections?: AnyProjection[];
}) => {
  const { store, views } = deps;
  const projections = new Map((deps.projections ?? defaultProjections()).map((p) => [p.name, p]));
  const appliedEvent = async (event: StoredEvent, names: readonly string[]): Promise<boolean> => {
    const registry = await views.readRegistry();
    for (const name of names) {
      const p = projections.get(name);
      if (p && !follows(p, event.metadata.streamId)) continue;
      const entry = registry.get(name);
      if (!entry || !(await appliedIn(views, store, entry, event))) return false;
    }
    return true;
  };
  return {
    /** Whether the named projections have applied the event now; `undefined` when the store has no such event. */
    applied: async (eventId: string, names: readonly string[]): Promise<boolean | undefined> => {
      const event = await store.getEvent(eventId);
      return event ? appliedEvent(event, names) : undefined;
    },
    /** The event once the named projections have applied it; `undefined` when `timeoutMs` passes first. */
    waitFor: async (eventId: string, names: readonly string[], timeoutMs: number): Promise<StoredEvent | undefined> => {
      const deadline = Date.now() + timeoutMs;
      let event: StoredEvent | undefined;
      for (let attempt = 0; ; attempt++) {
        event ??= await store.getEvent(eventId);
        if (event && (await appliedEvent(event, names))) return event;
        const left = deadline - Date.now();
        if (left <= 0) return undefined;
        await sleep(Math.min(left, 50, 5 * 2 ** attempt));
      }
    },
  };
};

export type ProjectionPositions = ReturnType<typeof projectionPositions>;
