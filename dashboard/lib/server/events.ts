import 'server-only';
import type { StoredEvent, EventStore } from '../../../events/index.ts';

/**
 * What the events explorer narrows the store to. Empty fields match everything; `window` is
 * how far back from now (`all` for the whole store).
 *
 * @example
 * const f = eventFilterFrom({ type: 'BuildFailed', window: '7d' });
 */
export interface EventFilter {
  type: string;
  project: string;
  deployment: string;
  window: '1h' | '24h' | '7d' | '30d' | 'all';
}

const windows: Record<EventFilter['window'], number | null> = { '1h': 3600e3, '24h': 86_400e3, '7d': 7 * 86_400e3, '30d': 30 * 86_400e3, all: null };

export const eventFilterFrom = (params: Record<string, string | string[] | undefined>): EventFilter => {
  const one = (k: string) => (typeof params[k] === 'string' ? (params[k] as string).trim() : '');
  const w = one('window');
  return { type: one('type'), project: one('project'), deployment: one('deployment'), window: w in windows ? (w as EventFilter['window']) : '24h' };
};

/**
 * One page of the explorer, oldest first within the window: by deployment (one indexed query),
 * by project (its index, from the window's start) or the whole store in global order. The
 * type filter reads on until `limit` matches or `scanLimit` events; `cursor` resumes after the
 * last event read.
 *
 * @example
 * const page = await explore(store, filter, { cursor: null });
 */
export const explore = async (
  store: EventStore,
  filter: EventFilter,
  opts: { cursor?: string | null; limit?: number; scanLimit?: number; nowMs?: number } = {},
): Promise<{ events: StoredEvent[]; cursor: string | null; scanned: number }> => {
  const limit = opts.limit ?? 50;
  const span = windows[filter.window];
  const from = span === null ? null : new Date((opts.nowMs ?? Date.now()) - span).toISOString();
  const keep = (e: StoredEvent) =>
    (!filter.type || e.type === filter.type) && (!filter.project || e.metadata.projectId === filter.project) && (from === null || e.metadata.occurredAt >= from);

  if (filter.deployment) {
    const all = (await store.readDeployment(filter.deployment)).filter(keep);
    return { events: all, cursor: null, scanned: all.length };
  }
  // Positions start with the time they were recorded at, so a time is a cursor too.
  let cursor = opts.cursor ?? from;
  const events: StoredEvent[] = [];
  let scanned = 0;
  const batch = Math.max(limit, 200);
  for (;;) {
    const page = filter.project
      ? await store.readProject(filter.project, { ...(cursor ? { after: cursor } : {}), limit: batch })
      : (await store.readAll({ cursor, limit: batch })).events;
    scanned += page.length;
    for (const e of page) if (keep(e)) events.push(e);
    if (page.length > 0) cursor = page.at(-1)!.position;
    if (page.length < batch) return { events, cursor: null, scanned };
    if (events.length >= limit || scanned >= (opts.scanLimit ?? 5000)) return { events, cursor, scanned };
  }
};
