import type { AnyProjection } from './types.ts';
import { namespaceOf, type RegistryEntry, type ViewStore } from './store/ports.ts';

export const generationName = (n: number): string => `g${n}`;

/**
 * The registry entry of a projection, created (first generation active, empty) when missing.
 *
 * @example
 * const entry = await ensureRegistered(views, deploymentsProjection, new Date().toISOString());
 */
export const ensureRegistered = async (views: ViewStore, projection: AnyProjection, now: string): Promise<RegistryEntry> => {
  for (;;) {
    const existing = (await views.readRegistry()).get(projection.name);
    if (existing) return existing;
    const entry: RegistryEntry = {
      name: projection.name,
      active: { generation: generationName(1), version: projection.version, since: now },
      building: null,
      watermark: null,
      nextGeneration: 2,
    };
    if (await views.writeRegistry(entry, undefined)) return entry;
  }
};

/**
 * Changes a registry entry with optimistic concurrency: re-reads and re-applies `change` until
 * the write wins. `change` may throw to refuse (e.g. a rebuild already running).
 *
 * @example
 * await updateRegistry(views, 'deployments', (e) => ({ ...e, watermark }));
 */
export const updateRegistry = async (
  views: ViewStore,
  name: string,
  change: (entry: RegistryEntry) => RegistryEntry,
): Promise<RegistryEntry> => {
  for (;;) {
    const current = (await views.readRegistry()).get(name);
    if (!current) throw new Error(`projection ${name} is not registered yet`);
    const next = change(current);
    if (await views.writeRegistry(next, current)) return next;
  }
};

/** The namespace that serves reads, if any. */
export const activeNamespace = (entry: RegistryEntry | undefined): string | undefined =>
  entry?.active ? namespaceOf(entry.name, entry.active.generation) : undefined;

/** A namespace the runner folds into, and its bulk-load baseline (see `RegistryEntry`). */
export interface LiveNamespace {
  ns: string;
  baseline: string | null;
}

/** The namespaces the runner folds into: the active one and a rebuild that is catching up. */
export const liveNamespaces = (entry: RegistryEntry): LiveNamespace[] => [
  ...(entry.active ? [{ ns: namespaceOf(entry.name, entry.active.generation), baseline: entry.active.baseline ?? null }] : []),
  ...(entry.building?.state === 'catching-up'
    ? [{ ns: namespaceOf(entry.name, entry.building.generation), baseline: entry.building.baseline ?? null }]
    : []),
];

/**
 * A registry read through a short-lived cache: the runner looks at it for every event, and a
 * rebuild waits longer than `ttlMs` after changing it before relying on runners having seen it.
 *
 * @example
 * const registry = cachedRegistry(views, projections, 1000);
 * const entries = await registry.get();
 */
export const cachedRegistry = (
  views: ViewStore,
  projections: AnyProjection[],
  ttlMs: number,
  now: () => string = () => new Date().toISOString(),
) => {
  let cache: { at: number; entries: Map<string, RegistryEntry> } | undefined;
  let loading: Promise<Map<string, RegistryEntry>> | undefined;
  const load = async (): Promise<Map<string, RegistryEntry>> => {
    const entries = await views.readRegistry();
    for (const p of projections) if (!entries.has(p.name)) entries.set(p.name, await ensureRegistered(views, p, now()));
    cache = { at: Date.now(), entries };
    return entries;
  };
  return {
    get: async (): Promise<Map<string, RegistryEntry>> => {
      if (cache && Date.now() - cache.at < ttlMs) return cache.entries;
      loading ??= load().finally(() => (loading = undefined));
      return loading;
    },
    invalidate: () => (cache = undefined),
  };
};
