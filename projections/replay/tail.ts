import { pause, type StoredEvent } from '../../events/index.ts';
import type { EventStore } from '../../events/store/index.ts';

// Positions start with the commit time as a 24-character ISO string.
const timeOf = (position: string): number => Date.parse(position.slice(0, 24));
const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Follows the store in global order from now (or `from`), polling, until `signal` aborts;
 * resolves with how many events it showed. Each poll re-reads a short overlap behind its cursor,
 * because an append that started earlier can commit with an earlier position after later ones
 * were read; events already shown are skipped by id.
 *
 * @example
 * const stop = new AbortController();
 * await tailEvents({ store, onEvent: (e) => console.log(e.type), signal: stop.signal });
 */
export const tailEvents = async (opts: {
  store: Pick<EventStore, 'readAll'>;
  onEvent: (event: StoredEvent) => void | Promise<void>;
  filter?: (event: StoredEvent) => boolean;
  /** ISO time to start at; default now. */
  from?: string;
  pollMs?: number;
  overlapMs?: number;
  pageSize?: number;
  signal?: AbortSignal;
}): Promise<number> => {
  const pollMs = opts.pollMs ?? 500;
  const overlapMs = opts.overlapMs ?? 2000;
  const pageSize = opts.pageSize ?? 500;
  const start = iso(opts.from ? Date.parse(opts.from) : Date.now());
  let cursor = start;
  const seen = new Map<string, string>(); // eventId → position, within the overlap
  let shown = 0;
  while (!opts.signal?.aborted) {
    let read: string | null = iso(timeOf(cursor) - overlapMs);
    while (read !== null) {
      const page = await opts.store.readAll({ cursor: read, limit: pageSize });
      for (const e of page.events) {
        if (seen.has(e.metadata.eventId) || e.position <= start) continue;
        seen.set(e.metadata.eventId, e.position);
        if (e.position > cursor) cursor = e.position;
        if (opts.filter && !opts.filter(e)) continue;
        await opts.onEvent(e);
        shown++;
      }
      read = page.events.length >= pageSize ? page.cursor : null;
    }
    const horizon = iso(timeOf(cursor) - 2 * overlapMs);
    for (const [id, pos] of seen) if (pos < horizon) seen.delete(id);
    await pause(pollMs, opts.signal);
  }
  return shown;
};
