import type { StoredEvent } from '../events/index.ts';
import type { EventStore } from '../events/store/index.ts';
import { fromStored } from './incoming.ts';
import type { BulkDoc } from './store/ports.ts';
import { flatString, follows, keyString, type AnyProjection, type DocKey, type Incoming, type ProjectionEvent } from './types.ts';

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

// A stream the fold follows: the last applied version (0: none yet), the events held back for a
// missing predecessor, and the documents of the projections that follow it (the same versions
// for each: they all see the same events of the stream).
interface Followed {
  streamId: string;
  version: number;
  waiting: Map<number, Incoming> | null;
  by: ProjectionDocs[];
}

// One projection's documents in a fold, and the streams it follows by first applied event.
class ProjectionDocs {
  // The documents by `pk`, then `sk` (no `keyString` per event): a `pk` with one document holds
  // it directly, one with more a map by `sk`. `order` lists them as a map keyed by `keyString`
  // would: by first creation, a deleted one that comes back last.
  private readonly byPk = new Map<string, Held | Map<string, Held>>();
  private order: Held[] = [];
  private deleted = 0;
  // Bumped each time `docs` hands the states out: a state of an older epoch is shared and is
  // copied before it is changed (copy on write at the boundary, not per event).
  private epoch = 0;
  private handedOut: Map<string, KeyedDoc<unknown>> | null = null;
  readonly appliedOrder: Followed[] = [];

  constructor(readonly projection: AnyProjection) {}

  // The hot loop of rebuilds and replays: what `applyEvent` does, written straight into the
  // fold's documents (a key listed twice sees its first change, as there).
  apply(event: ProjectionEvent): void {
    const projection = this.projection;
    const keys = projection.keysOf(event);
    if (keys.length === 0) return;
    if (this.handedOut) {
      this.handedOut = null;
      this.epoch++;
    }
    const owned = projection.owned;
    const byPk = this.byPk;
    const epoch = this.epoch;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      // Keys are mostly built by templates: joined before they are hashed (and kept).
      const pk = flatString(key.pk);
      const sk = flatString(key.sk);
      const slot = byPk.get(pk);
      const doc = slot === undefined ? undefined : slot instanceof Map ? slot.get(sk) : slot.key.sk === sk ? slot : undefined;
      if (doc === undefined) {
        const state = projection.initialState(key);
        const next = owned ? owned.evolve(state, event, key) : projection.evolve(state, event, key);
        if (next === null) continue;
        const held: Held = { key, state: next, epoch, ks: null, live: true };
        if (slot === undefined) byPk.set(pk, held);
        else if (slot instanceof Map) slot.set(sk, held);
        else byPk.set(pk, new Map([[slot.key.sk, slot], [sk, held]]));
        this.order.push(held);
        continue;
      }
      let state: unknown;
      if (doc.state === null || doc.state === undefined) state = projection.initialState(key);
      else if (!owned) state = doc.state;
      else state = doc.epoch === epoch ? doc.state : owned.copy(doc.state);
      const next = owned ? owned.evolve(state, event, key) : projection.evolve(state, event, key);
      if (next === null) this.remove(doc);
      else {
        doc.state = next;
        doc.epoch = epoch;
      }
    }
  }

  private remove(doc: Held): void {
    const { pk, sk } = doc.key;
    const slot = this.byPk.get(pk);
    if (slot instanceof Map) slot.delete(sk);
    else this.byPk.delete(pk);
    doc.live = false;
    // Dropped from `order` when `docs` is read, or here once they are most of it.
    if (++this.deleted > 1024 && this.deleted * 2 > this.order.length) this.compact();
  }

  private compact(): void {
    this.order = this.order.filter((d) => d.live);
    this.deleted = 0;
  }

  docs(): Map<string, KeyedDoc<unknown>> {
    if (!this.handedOut) {
      if (this.deleted > 0) this.compact();
      const out = new Map<string, KeyedDoc<unknown>>();
      const order = this.order;
      for (let i = 0; i < order.length; i++) {
        const d = order[i]!;
        out.set((d.ks ??= keyString(d.key)), { key: d.key, state: d.state });
      }
      this.handedOut = out;
    }
    return this.handedOut;
  }
}

/**
 * Several projections folded in memory side by side from one sequence of events: each event's
 * stream is looked up once for all of them. Each fold is what a `memoryFold` of its projection
 * fed the same events would hold.
 *
 * @example
 * const all = multiFold(defaultProjections());
 * for (const e of events) all.apply(fromStored(e));
 * all.folds.map((f) => f.docs.size);
 */
export interface MultiFold {
  /** One per projection, in the order given (they have no `apply` of their own: feed the multi fold). */
  readonly folds: FoldedProjection[];
  /**
   * Applies an event to every projection that follows its stream, unless the stream already went
   * past it, holding it back while its predecessor has not come; returns whether it took the event.
   */
  apply(incoming: Incoming): boolean;
  /** Events held back for a missing predecessor, once per stream (never applied if it does not come). */
  readonly held: number;
}

/** What a fold holds of one projection: a `MemoryFold` without its `apply`. */
export type FoldedProjection<S = unknown> = Omit<MemoryFold<S>, 'apply'>;

export const multiFold = (projections: readonly AnyProjection[]): MultiFold => {
  const all = projections.map((p) => new ProjectionDocs(p));
  // Per stream id: what the fold knows of it, `null` for a stream no projection follows (one
  // lookup per event for both questions).
  const streams = new Map<string, Followed | null>();
  // Streams with events held back (global order is commit-clock order, which two writers' clocks
  // can make disagree with a stream's versions): held until the predecessor comes.
  let holding = 0;
  // Bumped by every applied event: `applied` is made again when it moved.
  let stamp = 0;
  // The projections following a stream, by the stream's prefix (streams share the arrays).
  const followers = new Map<string, ProjectionDocs[]>();
  const byPrefix = all.every((d) => d.projection.streams.every((p) => !p.includes('#')));
  const followersOf = (streamId: string): ProjectionDocs[] => {
    if (!byPrefix) return all.filter((d) => follows(d.projection, streamId));
    const hash = streamId.indexOf('#');
    const prefix = hash < 0 ? streamId : streamId.slice(0, hash);
    let by = followers.get(prefix);
    if (by === undefined) followers.set(prefix, (by = all.filter((d) => follows(d.projection, prefix))));
    return by;
  };
  const applyOne = (stream: Followed, incoming: Incoming) => {
    const by = stream.by;
    if (stream.version === 0) for (let i = 0; i < by.length; i++) by[i]!.appliedOrder.push(stream);
    stream.version = incoming.version;
    stamp++;
    const event = incoming.event;
    if (!event) return;
    for (let i = 0; i < by.length; i++) by[i]!.apply(event);
  };
  const heldFor = (docs: ProjectionDocs | null): number => {
    let n = 0;
    if (holding > 0) for (const s of streams.values()) if (s?.waiting && (docs === null || s.by.includes(docs))) n += s.waiting.size;
    return n;
  };
  const folds = all.map((d): FoldedProjection => {
    let appliedOut: Map<string, number> | null = null;
    let appliedAt = -1;
    return {
      projection: d.projection,
      get docs() {
        return d.docs();
      },
      get applied() {
        if (!appliedOut || appliedAt !== stamp) {
          appliedOut = new Map();
          appliedAt = stamp;
          const order = d.appliedOrder;
          for (let i = 0; i < order.length; i++) appliedOut.set(order[i]!.streamId, order[i]!.version);
        }
        return appliedOut;
      },
      get held() {
        return heldFor(d);
      },
    };
  });
  return {
    folds,
    get held() {
      return heldFor(null);
    },
    apply: (incoming) => {
      const { streamId, version } = incoming;
      let stream = streams.get(streamId);
      if (stream === undefined) {
        const by = followersOf(streamId);
        stream = by.length > 0 ? { streamId, version: 0, waiting: null, by } : null;
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
 * A folded document as `ViewStore.bulkPut` writes it: with its list entry, if it is listed.
 *
 * @example
 * await views.bulkPut(ns, [...fold.docs.values()].map((d) => bulkDocOf(projection, d)), fold.applied);
 */
export const bulkDocOf = (projection: AnyProjection, d: KeyedDoc): BulkDoc => ({ key: d.key, state: d.state, list: projection.listEntryOf?.(d.state, d.key) });

export const memoryFold = <S = unknown>(projection: AnyProjection): MemoryFold<S> => {
  const multi = multiFold([projection]);
  const fold = multi.folds[0]!;
  return {
    projection,
    get docs() {
      return fold.docs as Map<string, KeyedDoc<S>>;
    },
    get applied() {
      return fold.applied;
    },
    get held() {
      return multi.held;
    },
    apply: multi.apply,
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
): Promise<{ folds: FoldedProjection[]; events: number; lastPosition: string | null; lastRecordedAt: string | null }> => {
  const all = multiFold(projections);
  let events = 0;
  let last: StoredEvent | undefined;
  for await (const e of store.iterateAll({ cursor: opts.cursor ?? null, pageSize: opts.pageSize ?? 1000 })) {
    const incoming = fromStored(e);
    all.apply(incoming);
    last = e;
    if (++events % 10_000 === 0) opts.onProgress?.(events);
  }
  return { folds: all.folds, events, lastPosition: last?.position ?? null, lastRecordedAt: last?.recordedAt ?? null };
};
