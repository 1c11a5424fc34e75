import type { RuntimeLogLevel, RuntimeLogQuery, RuntimeLogRecord, RuntimeLogStore } from '../../ports.ts';
import { segmentedLog, type Retention } from './segments.ts';

const rank: Record<RuntimeLogLevel, number> = { debug: 0, info: 1, warning: 2, error: 3 };

/**
 * Whether a record is at or above a level.
 *
 * @example
 * atLeast(record, 'error');
 */
export const atLeast = (r: RuntimeLogRecord, level: RuntimeLogLevel | undefined): boolean => !level || rank[r.level] >= rank[level];

/**
 * The default retention of runtime logs: 1 MiB files, 20 MiB and 7 days per deployment.
 *
 * @example
 * localRuntimeLogStore({ dir, retention: { ...runtimeLogRetention, maxBytes: 5 << 20 } });
 */
export const runtimeLogRetention: Retention = { segmentBytes: 1 << 20, maxBytes: 20 << 20, maxAgeMs: 7 * 24 * 3600_000 };

/**
 * Runtime logs on this machine: JSON lines per deployment under `dir`
 * (`<dir>/<project>/<deployment>/00000001.jsonl`), kept within `retention`; followers are told
 * of each record appended by this process.
 *
 * @example
 * const logs = localRuntimeLogStore({ dir: join(dataDir, 'observability', 'logs') });
 * await logs.append([record]);
 */
export const localRuntimeLogStore = (opts: { dir: string; retention?: Partial<Retention> }): RuntimeLogStore & { sweep(): Promise<void> } => {
  const log = segmentedLog<RuntimeLogRecord>(opts.dir, { ...runtimeLogRetention, ...opts.retention });
  const followers = new Map<string, Set<(r: RuntimeLogRecord) => void>>();
  const keyOf = (r: { projectId: string; deploymentId: string }) => [r.projectId, r.deploymentId] as const;

  return {
    async append(records) {
      const byKey = new Map<string, RuntimeLogRecord[]>();
      for (const r of records) byKey.set(keyOf(r).join('/'), [...(byKey.get(keyOf(r).join('/')) ?? []), r]);
      for (const [k, list] of byKey) {
        await log.append(keyOf(list[0]!), list);
        for (const r of list) for (const f of followers.get(k) ?? []) f(r);
      }
    },
    async query(q: RuntimeLogQuery) {
      const limit = q.limit ?? 1000;
      const sinceMs = q.since ? Date.parse(q.since) : 0;
      const found: RuntimeLogRecord[] = [];
      for await (const batch of log.newestFirst(keyOf(q), sinceMs)) {
        const keep = batch.filter((r) => atLeast(r, q.level) && (!q.since || r.time >= q.since));
        found.unshift(...keep);
        if (found.length >= limit) break;
      }
      return found.slice(-limit);
    },
    follow(q, onRecord) {
      const k = keyOf(q).join('/');
      const f = (r: RuntimeLogRecord) => atLeast(r, q.level) && onRecord(r);
      followers.set(k, (followers.get(k) ?? new Set()).add(f));
      return () => void followers.get(k)?.delete(f);
    },
    sweep: () => log.sweep(),
  };
};

