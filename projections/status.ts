import type { StoredEvent } from '../events/index.ts';
import type { EventStore } from '../events/store/index.ts';
import { activeNamespace, ensureRegistered, updateRegistry } from './registry.ts';
import type { RegistryEntry, ViewStore } from './store/ports.ts';
import { follows, type AnyProjection } from './types.ts';

/**
 * How far a projection is behind the store.
 *
 * @example
 * (await projectionStatus({ store, views, projections }))[0].behind; // 0
 */
export interface ProjectionStatus {
  name: string;
  /** The code's version, and the version that built the serving generation. */
  version: number;
  builtByVersion: number | null;
  needsRebuild: boolean;
  generation: string | null;
  rebuilding: { generation: string; state: string; startedAt: string } | null;
  /** Where counting started: everything before it is known to be applied. */
  checkpoint: string | null;
  /** The last event of the store. */
  head: string | null;
  /** Events of the store after the checkpoint that the serving generation has not applied. */
  behind: number;
  oldestBehind: { eventId: string; type: string; position: string } | null;
  /** Commit time of the head minus that of the oldest event not applied. */
  lagMs: number;
  scanned: number;
}

const timeOf = (position: string): number => Date.parse(position.slice(0, 24));

/**
 * Counts, for each projection, the events in the store after its checkpoint that it has not
 * applied (by comparing each event's version with the stream's applied version), in one pass over
 * the store from the oldest checkpoint. Then moves each checkpoint up to the first event not
 * applied (never closer than `settleMs` to now, as appends may still commit behind it), so the
 * next status reads less.
 *
 * @example
 * for (const s of await projectionStatus({ store, views, projections: defaultProjections() })) console.log(s.name, s.behind);
 */
export const projectionStatus = async (opts: {
  store: EventStore;
  views: ViewStore;
  projections: AnyProjection[];
  settleMs?: number;
  /** Move the checkpoints (default true). */
  advance?: boolean;
  now?: () => number;
}): Promise<ProjectionStatus[]> => {
  const { store, views, projections } = opts;
  const now = opts.now ?? Date.now;
  const settleMs = opts.settleMs ?? 2000;
  const entries = new Map<string, RegistryEntry>();
  for (const p of projections) entries.set(p.name, await ensureRegistered(views, p, new Date(now()).toISOString()));
  const watermarks = projections.map((p) => entries.get(p.name)!.watermark);
  const start = watermarks.some((w) => w === null) ? null : watermarks.sort()[0]!;

  const state = projections.map((p) => ({
    p, ns: activeNamespace(entries.get(p.name)), checkpoint: entries.get(p.name)!.watermark,
    baseline: entries.get(p.name)!.active?.baseline ?? null,
    behind: 0, oldest: null as StoredEvent | null, lastApplied: null as string | null,
  }));
  let head: string | null = null;
  let scanned = 0;
  let chunk: StoredEvent[] = [];
  const flush = async () => {
    for (const s of state) {
      const mine = chunk.filter((e) => follows(s.p, e.metadata.streamId) && (s.checkpoint === null || e.position > s.checkpoint));
      const versions = s.ns ? await views.appliedVersions(s.ns, mine.map((e) => e.metadata.streamId)) : new Map<string, number>();
      for (const e of mine) {
        const stored = versions.get(e.metadata.streamId) ?? 0;
        const settled = stored === 0 && s.baseline !== null && e.position <= s.baseline;
        if (!settled && e.metadata.version > stored) {
          s.behind++;
          s.oldest ??= e;
        } else if (!s.oldest) s.lastApplied = e.position;
      }
    }
    chunk = [];
  };
  for await (const e of store.iterateAll({ cursor: start, pageSize: 1000 })) {
    chunk.push(e);
    head = e.position;
    scanned++;
    if (chunk.length >= 1000) await flush();
  }
  await flush();

  const horizon = new Date(now() - settleMs).toISOString();
  const out: ProjectionStatus[] = [];
  for (const s of state) {
    const entry = entries.get(s.p.name)!;
    if (opts.advance !== false && s.ns) {
      // Up to the first event not applied, or the head; never past the settle horizon.
      const upTo = s.oldest ? s.lastApplied : head;
      const candidate = upTo && upTo < horizon ? upTo : upTo ? horizon : null;
      if (candidate && (entry.watermark === null || candidate > entry.watermark)) {
        await updateRegistry(views, s.p.name, (e) => (e.watermark === null || candidate > e.watermark ? { ...e, watermark: candidate } : e));
      }
    }
    out.push({
      name: s.p.name,
      version: s.p.version,
      builtByVersion: entry.active?.version ?? null,
      needsRebuild: entry.active !== null && entry.active.version !== s.p.version,
      generation: entry.active?.generation ?? null,
      rebuilding: entry.building ? { generation: entry.building.generation, state: entry.building.state, startedAt: entry.building.startedAt } : null,
      checkpoint: entry.watermark,
      head,
      behind: s.behind,
      oldestBehind: s.oldest ? { eventId: s.oldest.metadata.eventId, type: s.oldest.type, position: s.oldest.position } : null,
      lagMs: s.oldest && head ? timeOf(head) - timeOf(s.oldest.position) : 0,
      scanned,
    });
  }
  return out;
};
