import type { StoredEvent } from '../events/index.ts';
import type { EventStore } from '../events/store/index.ts';
import { fromStored } from './incoming.ts';
import { follows, keyString, type AnyProjection, type DocKey, type Incoming } from './types.ts';

/** A document and where it lives. */
export interface KeyedDoc<S = unknown> {
  key: DocKey;
  state: S;
}

/**
 * A projection folded in memory: its documents and, per stream, the last applied version.
 *
 * @example
 * const fold = memoryFold(deploymentsProjection);
 * for (const e of events) fold.apply(fromStored(e));
 * fold.docs.size;
 */
export interface MemoryFold<S = unknown> {
  projection: AnyProjection;
  docs: Map<string, KeyedDoc<S>>;
  applied: Map<string, number>;
  /**
   * Applies an event unless its stream already went past it, holding it back while its
   * predecessor has not come; returns whether it took the event.
   */
  apply(incoming: Incoming): boolean;
  /** Events held back for a missing predecessor (never applied if it does not come). */
  readonly held: number;
}

/**
 * Applies one event to in-memory documents: the core every runner shares. Returns the states
 * it changed (`null`: deleted), keyed by `keyString`.
 *
 * @example
 * const changes = applyEvent(projection, (key) => docs.get(keyString(key))?.state, event);
 */
export const applyEvent = (
  projection: AnyProjection,
  current: (key: DocKey) => unknown,
  incoming: Incoming,
): Map<string, KeyedDoc<unknown | null>> => {
  const changes = new Map<string, KeyedDoc<unknown | null>>();
  const event = incoming.event;
  if (!event) return changes;
  for (const key of projection.keysOf(event)) {
    const ks = keyString(key);
    const before = changes.has(ks) ? changes.get(ks)!.state : current(key);
    const state = before === undefined || before === null ? projection.initialState(key) : before;
    changes.set(ks, { key, state: projection.evolve(state, event, key) });
  }
  return changes;
};

export const memoryFold = <S = unknown>(projection: AnyProjection): MemoryFold<S> => {
  const docs = new Map<string, KeyedDoc<S>>();
  const applied = new Map<string, number>();
  // Events that came before their predecessor (global order is commit-clock order, which two
  // writers' clocks can make disagree with a stream's versions): held until it comes.
  const held = new Map<string, Map<number, Incoming>>();
  // The hot loop of rebuilds and replays: what `applyEvent` does, written straight into `docs`
  // (a key listed twice sees its first change, as there), without a map of changes per event.
  const applyOne = (incoming: Incoming) => {
    applied.set(incoming.streamId, incoming.version);
    const event = incoming.event;
    if (!event) return;
    for (const key of projection.keysOf(event)) {
      const ks = keyString(key);
      const before = docs.get(ks)?.state;
      const state = projection.evolve(before === undefined || before === null ? projection.initialState(key) : before, event, key);
      if (state === null) docs.delete(ks);
      else docs.set(ks, { key, state });
    }
  };
  // Whether the projection follows a stream, per stream prefix (`follows` splits the id each time).
  const followed = new Map<string, boolean>();
  const followsStream = (streamId: string): boolean => {
    const hash = streamId.indexOf('#');
    const prefix = hash < 0 ? streamId : streamId.slice(0, hash);
    let f = followed.get(prefix);
    if (f === undefined) followed.set(prefix, (f = follows(projection, streamId)));
    return f;
  };
  return {
    projection,
    docs,
    applied,
    get held() {
      return [...held.values()].reduce((n, m) => n + m.size, 0);
    },
    apply: (incoming) => {
      const { streamId, version } = incoming;
      if (!followsStream(streamId)) return false;
      const current = applied.get(streamId) ?? 0;
      if (version <= current) return false;
      if (version > current + 1) {
        const waiting = held.get(streamId) ?? new Map<number, Incoming>();
        if (waiting.has(version)) return false;
        held.set(streamId, waiting.set(version, incoming));
        return true;
      }
      applyOne(incoming);
      const waiting = held.get(streamId);
      for (let next = version + 1; waiting?.has(next); next++) {
        applyOne(waiting.get(next)!);
        waiting.delete(next);
      }
      if (waiting?.size === 0) held.delete(streamId);
      return true;
    },
  };
};

/**
 * Folds stored events (in the order given) into fresh in-memory documents.
 *
 * @example
 * const { docs } = foldEvents(deploymentsProjection, await store.readDeployment('d1'));
 */
export const foldEvents = <S = unknown>(projection: AnyProjection, events: Iterable<StoredEvent>): MemoryFold<S> => {
  const fold = memoryFold<S>(projection);
  for (const e of events) fold.apply(fromStored(e));
  return fold;
};

/**
 * Folds the whole store, in global order from `cursor`, into several projections at once (one
 * read of the store). Returns the folds, how many events were read and the last position.
 *
 * @example
 * const { folds, lastPosition } = await foldStore(store, defaultProjections());
 */
export const foldStore = async (
  store: EventStore,
  projections: AnyProjection[],
  opts: { cursor?: string | null; pageSize?: number; onProgress?: (events: number) => void } = {},
): Promise<{ folds: MemoryFold[]; events: number; lastPosition: string | null; lastRecordedAt: string | null }> => {
  const folds = projections.map((p) => memoryFold(p));
  let events = 0;
  let last: StoredEvent | undefined;
  for await (const e of store.iterateAll({ cursor: opts.cursor ?? null, pageSize: opts.pageSize ?? 1000 })) {
    const incoming = fromStored(e);
    for (const fold of folds) fold.apply(incoming);
    last = e;
    if (++events % 10_000 === 0) opts.onProgress?.(events);
  }
  return { folds, events, lastPosition: last?.position ?? null, lastRecordedAt: last?.recordedAt ?? null };
};
