import type { StoredEvent } from '../events/index.ts';
import type { EventStore } from '../events/store/index.ts';
import { fromStored } from './incoming.ts';
import { flatString, keyString, type AnyProjection, type DocKey, type Incoming } from './types.ts';

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
  /**
   * The documents folded so far. What it hands out never changes: events applied after it was
   * read go into copies (read it again to see them).
   */
  readonly docs: Map<string, KeyedDoc<S>>;
  /** The last applied version per stream, by first applied event (read it again after applying more). */
  readonly applied: Map<string, number>;
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

// A document as the fold holds it: changed in place while the fold owns `state`, copied first
// once `docs` has handed it out (`epoch` older than the fold's). `ks` is its `keyString`, made
// the first time `docs` hands it out; `live` turns false when it is deleted.
interface Held {
  key: DocKey;
  state: unknown;
  epoch: number;
  ks: string | null;
  live: boolean;
}

// A stream the fold follows: the last applied version (0: none yet) and the events held back
// for a missing predecessor.
interface Followed {
  streamId: string;
  version: number;
  waiting: Map<number, Incoming> | null;
}

export const memoryFold = <S = unknown>(projection: AnyProjection): MemoryFold<S> => {
  // The documents by `pk`, then `sk` (no `keyString` per event): a `pk` with one document holds
  // it directly, one with more a map by `sk`. `order` lists them as a map keyed by `keyString`
  // would: by first creation, a deleted one that comes back last.
  const byPk = new Map<string, Held | Map<string, Held>>();
  let order: Held[] = [];
  let deleted = 0;
  // Per stream id: what the fold knows of it, `null` for a stream it does not follow (one lookup
  // per event for both questions). `appliedOrder` lists them by first applied event.
  const streams = new Map<string, Followed | null>();
  const appliedOrder: Followed[] = [];
  // Streams with events held back (global order is commit-clock order, which two writers' clocks
  // can make disagree with a stream's versions): held until the predecessor comes.
  let holding = 0;
  const owned = projection.owned;
  // Bumped each time `docs` hands the states out: a state of an older epoch is shared and is
  // copied before it is changed (copy on write at the boundary, not per event).
  let epoch = 0;
  let handedOut: Map<string, KeyedDoc<S>> | null = null;
  let appliedOut: Map<string, number> | null = null;
  // The hot loop of rebuilds and replays: what `applyEvent` does, written straight into the
  // fold's documents (a key listed twice sees its first change, as there).
  const applyOne = (stream: Followed, incoming: Incoming) => {
    if (stream.version === 0) appliedOrder.push(stream);
    stream.version = incoming.version;
    appliedOut = null;
    const event = incoming.event;
    if (!event) return;
    const keys = projection.keysOf(event);
    if (keys.length > 0 && handedOut) {
      handedOut = null;
      epoch++;
    }
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      // Keys are mostly built by templates: joined before they are hashed (and kept).
      const pk = flatString(key.pk);
      const sk = flatString(key.sk);
      const slot = byPk.get(pk);
      const doc = slot === undefined ? undefined : slot instanceof Map ? slot.get(sk) : slot.key.sk === sk ? slot : undefined;
      let state: unknown;
      if (doc === undefined || doc.state === null || doc.state === undefined) state = projection.initialState(key);
      else if (!owned) state = doc.state;
      else state = doc.epoch === epoch ? doc.state : owned.copy(doc.state);
      const next = owned ? owned.evolve(state, event, key) : projection.evolve(state, event, key);
      if (next === null) {
        if (doc !== undefined) {
          if (slot instanceof Map) slot.delete(sk);
          else byPk.delete(pk);
          doc.live = false;
          // Dropped from `order` when `docs` is read, or here once they are most of it.
          if (++deleted > 1024 && deleted * 2 > order.length) {
            order = order.filter((d) => d.live);
            deleted = 0;
          }
        }
      } else if (doc === undefined) {
        const held: Held = { key, state: next, epoch, ks: null, live: true };
        if (slot === undefined) byPk.set(pk, held);
        else if (slot instanceof Map) slot.set(sk, held);
        else byPk.set(pk, new Map([[slot.key.sk, slot], [sk, held]]));
        order.push(held);
      } else {
        doc.state = next;
        doc.epoch = epoch;
      }
    }
  };
  // Whether the projection follows a stream: its prefix and a '#', or the whole id (as `follows`).
  const prefixes = [...projection.streams];
  const followsStream = (streamId: string): boolean => {
    for (let i = 0; i < prefixes.length; i++) {
      const p = prefixes[i]!;
      if (streamId.startsWith(p) && (streamId.length === p.length || streamId.charCodeAt(p.length) === 35)) return true;
    }
    return false;
  };
  return {
    projection,
    get docs() {
      if (!handedOut) {
        if (deleted > 0) {
          order = order.filter((d) => d.live);
          deleted = 0;
        }
        handedOut = new Map();
        for (let i = 0; i < order.length; i++) {
          const d = order[i]!;
          handedOut.set((d.ks ??= keyString(d.key)), { key: d.key, state: d.state as S });
        }
      }
      return handedOut;
    },
    get applied() {
      if (!appliedOut) {
        appliedOut = new Map();
        for (let i = 0; i < appliedOrder.length; i++) appliedOut.set(appliedOrder[i]!.streamId, appliedOrder[i]!.version);
      }
      return appliedOut;
    },
    get held() {
      let n = 0;
      if (holding > 0) for (const s of streams.values()) n += s?.waiting?.size ?? 0;
      return n;
    },
    apply: (incoming) => {
      const { streamId, version } = incoming;
      let stream = streams.get(streamId);
      if (stream === undefined) {
        stream = followsStream(streamId) ? { streamId, version: 0, waiting: null } : null;
        streams.set(streamId, stream);
      }
      if (stream === null) return false;
      const current = stream.version;
      if (version <= current) return false;
      if (version > current + 1) {
        const waiting = stream.waiting ?? (holding++, (stream.waiting = new Map<number, Incoming>()));
        if (waiting.has(version)) return false;
        waiting.set(version, incoming);
        return true;
      }
      applyOne(stream, incoming);
      const waiting = stream.waiting;
      if (waiting === null) return true;
      for (let next = version + 1; waiting.has(next); next++) {
        applyOne(stream, waiting.get(next)!);
        waiting.delete(next);
      }
      if (waiting.size === 0) {
        stream.waiting = null;
        holding--;
      }
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
