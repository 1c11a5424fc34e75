import { canonicalJson } from '../canonical.ts';
import { keyString, type DocKey, type ListEntry } from '../types.ts';
import type { Commit, KeyedState, Page, QueryOptions, RegistryEntry, StoredDoc, ViewStore } from './ports.ts';

interface Row {
  key: DocKey;
  json: string;
  rev: number;
  list?: { lpk: string; lsk: string; json: string } | undefined;
}

const clone = <T>(json: string): T => JSON.parse(json) as T;

const page = <T>(rows: { sort: string; value: T }[], opts: QueryOptions): Page<T> => {
  let sorted = rows
    .filter((r) => (opts.from === undefined || r.sort >= opts.from) && (opts.to === undefined || r.sort < opts.to))
    .sort((a, b) => (a.sort < b.sort ? -1 : a.sort > b.sort ? 1 : 0));
  if (opts.descending) sorted = sorted.reverse();
  if (opts.cursor) sorted = sorted.filter((r) => (opts.descending ? r.sort < opts.cursor! : r.sort > opts.cursor!));
  const limit = opts.limit ?? Infinity;
  const items = sorted.slice(0, limit);
  return { items: items.map((r) => r.value), cursor: sorted.length > limit ? items.at(-1)!.sort : null };
};

/**
 * The view store in memory, with the same conditional semantics as DynamoDB: for verify, for
 * tests and benchmarks of the runner's logic, and for tools that fold without a database.
 *
 * @example
 * const views = memoryViewStore();
 * const handle = makeProjectionHandler({ store, views });
 */
export const memoryViewStore = (): ViewStore & { namespaces(): string[] } => {
  const spaces = new Map<string, { rows: Map<string, Row>; applied: Map<string, number> }>();
  const registry = new Map<string, string>();
  const space = (ns: string) => {
    let s = spaces.get(ns);
    if (!s) spaces.set(ns, (s = { rows: new Map(), applied: new Map() }));
    return s;
  };
  const put = (ns: string, key: DocKey, state: unknown, rev: number, list: ListEntry | undefined) => {
    space(ns).rows.set(keyString(key), {
      key, json: JSON.stringify(state), rev, list: list && { lpk: list.lpk, lsk: list.lsk, json: JSON.stringify(list.item) },
    });
  };

  const load = (ns: string, streamId: string, keys: DocKey[]) => {
    const s = space(ns);
    const docs = new Map<string, StoredDoc>();
    for (const key of keys) {
      const row = s.rows.get(keyString(key));
      if (row) docs.set(keyString(key), { key, state: clone(row.json), rev: row.rev });
    }
    return { applied: s.applied.get(streamId) ?? 0, docs };
  };
  const commitMany = (commits: { ns: string; commit: Commit }[]): boolean => {
    for (const { ns, commit: c } of commits) {
      const s = space(ns);
      if ((s.applied.get(c.streamId) ?? 0) !== c.expectedApplied) return false;
      for (const w of c.writes) if ((s.rows.get(keyString(w.key))?.rev ?? 0) !== w.expectedRev) return false;
    }
    for (const { ns, commit: c } of commits) {
      const s = space(ns);
      s.applied.set(c.streamId, c.applied);
      for (const w of c.writes) {
        if (w.state === null) s.rows.delete(keyString(w.key));
        else put(ns, w.key, w.state, w.expectedRev + 1, w.list);
      }
    }
    return true;
  };

  return {
    namespaces: () => [...spaces.keys()],
    load: async (ns, streamId, keys) => load(ns, streamId, keys),
    loadMany: async (requests) => requests.map((r) => load(r.ns, r.streamId, r.keys)),
    commit: async (ns, c) => commitMany([{ ns, commit: c }]),
    commitMany: async (commits) => commitMany(commits),
    bulkPut: async (ns, docs, applied) => {
      for (const d of docs) {
        if (d.state === null) space(ns).rows.delete(keyString(d.key));
        else put(ns, d.key, d.state, 1, d.list);
      }
      for (const [streamId, v] of applied) space(ns).applied.set(streamId, v);
    },
    appliedVersions: async (ns, streamIds) => new Map(streamIds.map((id) => [id, space(ns).applied.get(id) ?? 0])),
    get: async (ns, key) => {
      const row = space(ns).rows.get(keyString(key));
      return row ? clone(row.json) : undefined;
    },
    query: async (ns, pk, opts = {}) =>
      page([...space(ns).rows.values()].filter((r) => r.key.pk === pk).map((r) => ({ sort: r.key.sk, value: clone(r.json) })), opts),
    queryList: async (ns, lpk, opts = {}) =>
      page([...space(ns).rows.values()].filter((r) => r.list?.lpk === lpk).map((r) => ({ sort: r.list!.lsk, value: clone(r.list!.json) })), opts),
    dump: async (ns) => {
      const s = space(ns);
      const docs = new Map<string, KeyedState>([...s.rows].map(([ks, r]) => [ks, { key: r.key, state: clone(r.json) }]));
      return { docs, applied: new Map(s.applied) };
    },
    drop: async (ns) => {
      const s = spaces.get(ns);
      spaces.delete(ns);
      return s ? s.rows.size + s.applied.size : 0;
    },
    readRegistry: async () => new Map([...registry].map(([name, json]) => [name, clone<RegistryEntry>(json)])),
    writeRegistry: async (entry, expected) => {
      const current = registry.get(entry.name);
      if ((current ?? null) !== (expected ? canonicalJson(expected) : null)) return false;
      registry.set(entry.name, canonicalJson(entry));
      return true;
    },
  };
};
