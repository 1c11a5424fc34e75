import type { EventData, EventMetadata, EventType, StreamPrefix } from '../events/index.ts';

/**
 * An event as a projection folds it: a known catalog type with its parsed, current-version data
 * and the full metadata. Unknown types never reach `evolve`.
 *
 * @example
 * const e: ProjectionEvent = { type: 'BuildStarted', data, metadata };
 */
export type ProjectionEvent = { [T in EventType]: { type: T; data: EventData<T>; metadata: EventMetadata } }[EventType];

/**
 * Where one document of a read model lives: `pk` groups documents that one Query returns,
 * `sk` orders them inside it.
 *
 * @example
 * const key: DocKey = { pk: 'deployment#01JD…', sk: 'doc' };
 */
export interface DocKey {
  pk: string;
  sk: string;
}

/**
 * A document's entry in a list (the views table's `byList` index): the list it belongs to, its
 * place in it, and what a list shows of it (a summary, not the whole document).
 *
 * @example
 * const entry: ListEntry = { lpk: 'deployments#web', lsk: '2026-11-22T10:00:00.000Z#d1', item: summary };
 */
export interface ListEntry {
  lpk: string;
  lsk: string;
  item: unknown;
}

/**
 * A read model: documents folded from events by a pure `evolve`.
 *
 * The runner keeps, per projection and stream, the last applied version, so each event is applied
 * once and in stream order. Events of different streams may be applied in any order, so `evolve`
 * must give the same documents whatever the interleaving of streams (facts from one stream are
 * kept apart from those of another, or combined with order-free operations such as min/max).
 *
 * @example
 * const counter: Projection<{ n: number }> = {
 *   name: 'counter', version: 1, streams: ['project'],
 *   keysOf: (e) => [{ pk: 'count', sk: e.metadata.projectId }],
 *   initialState: () => ({ n: 0 }),
 *   evolve: (s) => ({ n: s.n + 1 }),
 * };
 */
export interface Projection<S = unknown> {
  /** Also the name `shiplog projections rebuild <name>` takes. */
  name: string;
  /** Bump when `evolve` changes meaning: `projections status` then asks for a rebuild. */
  version: number;
  /** The stream prefixes this projection folds; events of other streams are not even looked at. */
  streams: readonly StreamPrefix[];
  /** The documents an event changes (none: only the stream's applied version moves). */
  keysOf(event: ProjectionEvent): DocKey[];
  initialState(key: DocKey): S;
  /** Pure. `null` deletes the document. */
  evolve(state: S, event: ProjectionEvent, key: DocKey): S | null;
  /** The document's list entry, if it is listed. */
  listEntryOf?(state: S, key: DocKey): ListEntry | undefined;
  /**
   * The fast path of a fold that owns its states (`memoryFold`): `evolve` may change the state it
   * is given and return it; `copy` copies a state deep enough that such an `evolve` of the copy
   * leaves the original as it was. Same results as the pure `evolve`.
   */
  owned?: OwnedEvolve<S>;
}

/**
 * A projection's in-place `evolve` and the copy that makes it safe on a state someone else holds.
 *
 * @example
 * const owned: OwnedEvolve<{ n: number }> = { copy: (s) => ({ ...s }), evolve: (s) => { s.n++; return s; } };
 */
export interface OwnedEvolve<S> {
  copy(state: S): S;
  evolve(state: S, event: ProjectionEvent, key: DocKey): S | null;
}

/** A projection of any state, as the runner holds them side by side. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProjection = Projection<any>;

/**
 * One delivered or stored event as the runner sees it: where it sits in its stream, and the
 * parsed event when its type is known (`undefined` for a type this code does not know).
 *
 * @example
 * const incoming: Incoming = { streamId: 'build#d1', version: 3, event };
 */
export interface Incoming {
  streamId: string;
  version: number;
  event: ProjectionEvent | undefined;
}

// V8 keeps a string built by `+` or a template as a tree of its pieces (an object per piece and
// per join) until something reads its characters, which joins them into one block, in place.
let _joined = 0;
/**
 * The string itself, its pieces joined now: for strings a fold keeps (summaries, keys), so a
 * document holds one block rather than a tree (fewer objects for the collector to copy), and for
 * keys looked up in maps (hashing a joined string is the fast path).
 *
 * @example
 * const summary = flatString(`build ${buildId} queued`);
 */
export const flatString = (s: string): string => {
  _joined ^= s.charCodeAt(0); // the read joins the pieces; using its result keeps it from being optimized away
  return s;
};

/**
 * What `keysOf` returns for an event that changes no document: one shared, frozen array (most
 * events change nothing in most projections, and the fold only reads it).
 *
 * @example
 * keysOf: (e) => (e.type === 'ProjectCreated' ? [projectKeys.project(e.data.projectId)] : noKeys),
 */
export const noKeys = Object.freeze<DocKey[]>([]) as DocKey[];

/**
 * `make` of an id, kept for the ids seen lately (a table of `size` slots, a power of two, placed
 * by a few of the id's characters, so memory stays bounded and a lookup hashes nothing): for the keys a
 * projection builds per event, so events of one id give the same key strings, joined and hashed
 * once (a fold finds their document without building and hashing a string again). What it
 * returns is shared: never change it.
 *
 * @example
 * const deploymentKey = recentlyMade((id) => ({ pk: flatString(`deployment#${id}`), sk: 'doc' }));
 * deploymentKey('d1') === deploymentKey('d1'); // true
 */
export const recentlyMade = <T>(make: (id: string) => T, size = 4096): ((id: string) => T) => {
  const mask = size - 1;
  const ids = new Array<string | undefined>(size).fill(undefined);
  const made = new Array<T | undefined>(size).fill(undefined);
  return (id) => {
    const n = id.length;
    const slot = n < 5 ? n : ((id.charCodeAt(n - 1) * 29791 + id.charCodeAt(n - 2) * 961 + id.charCodeAt(n - 4) * 31 + id.charCodeAt(n >> 1)) ^ (n << 7)) & mask;
    if (ids[slot] === id) return made[slot]!;
    const value = make(id);
    ids[slot] = id;
    made[slot] = value;
    return value;
  };
};

/** The string form of a key, for maps and diffs. */
export const keyString = (key: DocKey): string => `${key.pk}\u0000${key.sk}`;

/**
 * Whether a projection folds events of this stream: the stream id is one of its prefixes, or
 * starts with one and a `#` (no allocation: the fold asks this once per new stream).
 *
 * @example
 * follows(deploymentsProjection, 'build#d1'); // true
 */
export const follows = (projection: AnyProjection, streamId: string): boolean => {
  const prefixes = projection.streams;
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i]!;
    if (streamId.startsWith(p) && (streamId.length === p.length || streamId.charCodeAt(p.length) === 35 /* # */)) return true;
  }
  return false;
};
