import type { DocKey, ListEntry } from '../types.ts';

/**
 * A document as stored: its state and revision (bumped on every write, for optimistic updates).
 *
 * @example
 * const doc: StoredDoc = { key, state, rev: 3 };
 */
export interface StoredDoc {
  key: DocKey;
  state: unknown;
  rev: number;
}

/**
 * One document change in a commit: the new state (`null` deletes) and the revision it was
 * computed from (0: the document did not exist).
 *
 * @example
 * const w: DocWrite = { key, expectedRev: 2, state: next, list: { lpk, lsk, item } };
 */
export interface DocWrite {
  key: DocKey;
  expectedRev: number;
  state: unknown | null;
  list?: ListEntry | undefined;
}

/**
 * Applying events of one stream: the stream's applied version moves from `expectedApplied` to
 * `applied`, together with the document writes, or nothing happens.
 *
 * @example
 * await views.commit(ns, { streamId: 'build#d1', expectedApplied: 2, applied: 3, writes });
 */
export interface Commit {
  streamId: string;
  expectedApplied: number;
  applied: number;
  writes: DocWrite[];
}

/** A page of a query, and the cursor of the next page (`null`: no more). */
export interface Page<T> {
  items: T[];
  cursor: string | null;
}

/** How to read a partition or a list: order, page size, cursor and an optional sort-key range. */
export interface QueryOptions {
  limit?: number;
  cursor?: string | null;
  descending?: boolean;
  /** Inclusive lower bound of the sort key. */
  from?: string;
  /** Exclusive upper bound of the sort key. */
  to?: string;
}

/**
 * The registry of a projection's generations. `active` serves reads and is folded by the
 * runner; `building` is being rebuilt, and is folded by the runner too once `catching-up`.
 * `watermark`: a global position up to which the active generation is known to have applied
 * every event (where `projections status` starts counting). `baseline`: a rebuilt generation
 * was bulk-loaded with every event up to this position and stores no applied versions for the
 * streams it loaded; a stream's applied version there is derived from the store on first use.
 *
 * @example
 * const entry: RegistryEntry = { name: 'deployments', active: { generation: 'g1', version: 1, since }, building: null, watermark: null, nextGeneration: 2 };
 */
export interface RegistryEntry {
  name: string;
  active: { generation: string; version: number; since: string; baseline?: string | null } | null;
  building: { generation: string; version: number; state: 'loading' | 'catching-up'; startedAt: string; baseline?: string | null } | null;
  watermark: string | null;
  nextGeneration: number;
}

/**
 * Storage of the read models: documents keyed for the dashboard's queries, per-stream applied
 * versions, and the registry of generations. Every method takes a namespace,
 * `<projection>|<generation>`, so a rebuild writes a new generation while the old one serves.
 *
 * @example
 * const views = dynamoViewStore({ client, tableName: 'shiplog-views' });
 * const { applied, docs } = await views.load('deployments|g1', 'build#d1', [key]);
 */
export interface ViewStore {
  /** The stream's applied version and the current documents at those keys, read consistently. */
  load(ns: string, streamId: string, keys: DocKey[]): Promise<{ applied: number; docs: Map<string, StoredDoc> }>;
  /** Writes atomically if the stream is still at `expectedApplied` and every document at its revision; false otherwise. */
  commit(ns: string, commit: Commit): Promise<boolean>;
  /** `load` for several namespaces in one round trip (the runner reads every projection at once). */
  loadMany(requests: { ns: string; streamId: string; keys: DocKey[] }[]): Promise<{ applied: number; docs: Map<string, StoredDoc> }[]>;
  /** `commit` for several namespaces, all or nothing, in one round trip. */
  commitMany(commits: { ns: string; commit: Commit }[]): Promise<boolean>;
  /**
   * Writes documents (a `null` state deletes) and applied versions unconditionally (a rebuild's
   * load into a generation nobody reads or folds yet).
   */
  bulkPut(ns: string, docs: BulkDoc[], applied: Map<string, number>): Promise<void>;
  /** Applied versions of many streams (0 for a stream never applied). */
  appliedVersions(ns: string, streamIds: string[]): Promise<Map<string, number>>;
  get(ns: string, key: DocKey): Promise<unknown | undefined>;
  /** The documents of one partition, in sort-key order. */
  query(ns: string, pk: string, opts?: QueryOptions): Promise<Page<unknown>>;
  /** The list entries of one list, in list sort-key order. */
  queryList(ns: string, lpk: string, opts?: QueryOptions): Promise<Page<unknown>>;
  /** Every document and applied version of a namespace (verify, tests; reads the whole table). */
  dump(ns: string): Promise<{ docs: Map<string, KeyedState>; applied: Map<string, number> }>;
  /** Deletes a namespace; returns how many items went. */
  drop(ns: string): Promise<number>;
  readRegistry(): Promise<Map<string, RegistryEntry>>;
  /** Writes a registry entry if it is unchanged since `expected` was read (`undefined`: did not exist). */
  writeRegistry(entry: RegistryEntry, expected: RegistryEntry | undefined): Promise<boolean>;
}

/**
 * A document of a bulk load: its state (`null`: delete it) and list entry.
 *
 * @example
 * const doc: BulkDoc = { key, state, list: projection.listEntryOf?.(state, key) };
 */
export interface BulkDoc {
  key: DocKey;
  state: unknown;
  list?: ListEntry | undefined;
}

/** A document's key and state. */
export interface KeyedState {
  key: DocKey;
  state: unknown;
}

/**
 * The namespace of a projection's generation.
 *
 * @example
 * namespaceOf('deployments', 'g2'); // 'deployments|g2'
 */
export const namespaceOf = (projection: string, generation: string): string => `${projection}|${generation}`;
