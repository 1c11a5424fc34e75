import { appendFile, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * How much of one deployment's records a {@link segmentedLog} keeps: files of at most
 * `segmentBytes`, at most `maxBytes` in all (the oldest files go first) and nothing older than
 * `maxAgeMs` (by a file's last write).
 *
 * @example
 * const r: Retention = { segmentBytes: 1 << 20, maxBytes: 20 << 20, maxAgeMs: 7 * 24 * 3600_000 };
 */
export interface Retention {
  segmentBytes: number;
  maxBytes: number;
  maxAgeMs: number;
}

interface Segment {
  file: string;
  size: number;
  mtimeMs: number;
}

const name = (n: number) => `${String(n).padStart(8, '0')}.jsonl`;
const isSegment = (f: string) => /^\d{8}\.jsonl$/.test(f);

/**
 * JSON lines in numbered files per key (`<dir>/<project>/<deployment>/00000001.jsonl`), appended
 * in order (appends to one key are serialized), read newest file first, pruned by a
 * {@link Retention} whenever a file is full. A torn last line (a crash mid-write) is skipped.
 * This process is the only writer: a key's newest file and its size are looked up once (its
 * first append) and then kept in memory, so an append is one file append; appends made while
 * one to the same key is under way are written together, in one append, after it.
 *
 * @example
 * const log = segmentedLog<{ time: string }>('/data/observability/logs', retention);
 * await log.append(['web', 'd1'], [{ time }]);
 * for await (const batch of log.newestFirst(['web', 'd1'])) …
 */
export const segmentedLog = <T>(dir: string, retention: Retention) => {
  const tails = new Map<string, Promise<unknown>>();
  const folder = (key: readonly string[]) => join(dir, ...key);
  /** Each key's newest file as this process last wrote it: its number and size. */
  const newest = new Map<string, { n: number; size: number }>();
  /** Appends waiting for the key's write under way: written together once it is done. */
  const waiting = new Map<string, { items: T[]; written: Promise<void> }>();

  const segments = async (key: readonly string[]): Promise<Segment[]> => {
    const names = (await readdir(folder(key)).catch(() => [] as string[])).filter(isSegment).sort();
    const found = await Promise.all(names.map(async (f) => {
      const s = await stat(join(folder(key), f)).catch(() => undefined);
      return s && { file: join(folder(key), f), size: s.size, mtimeMs: s.mtimeMs };
    }));
    return found.filter((s): s is Segment => s !== undefined);
  };

  const prune = async (key: readonly string[], now: number) => {
    const all = await segments(key);
    let total = all.reduce((n, s) => n + s.size, 0);
    // Oldest first; the newest file always stays.
    for (const s of all.slice(0, -1)) {
      if (total <= retention.maxBytes && now - s.mtimeMs <= retention.maxAgeMs) continue;
      await rm(s.file, { force: true });
      total -= s.size;
    }
  };

  // The key's newest file, from the disk (first append, or after the folder went away).
  const look = async (key: readonly string[]) => {
    await mkdir(folder(key), { recursive: true });
    const last = (await segments(key)).at(-1);
    return last ? { n: Number(last.file.slice(-14, -6)), size: last.size } : { n: 1, size: 0 };
  };

  const write = async (key: readonly string[], items: readonly T[]) => {
    const k = key.join('/');
    const text = items.map((i) => `${JSON.stringify(i)}\n`).join('');
    const bytes = Buffer.byteLength(text);
    for (let attempt = 0; ; attempt++) {
      const last = newest.get(k) ?? (await look(key));
      const full = last.size + bytes > retention.segmentBytes;
      const next = full && last.size > 0 ? { n: last.n + 1, size: 0 } : last;
      try {
        await appendFile(join(folder(key), name(next.n)), text);
      } catch (e) {
        newest.delete(k);
        // The folder was removed under us (the deployment's logs deleted): found again, once.
        if (attempt === 0 && (e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      newest.set(k, { n: next.n, size: next.size + bytes });
      if (full) await prune(key, Date.now());
      return;
    }
  };

  return {
    /** Appends items to the key's newest file, starting a new one when it is full. */
    append(key: readonly string[], items: readonly T[]): Promise<void> {
      if (items.length === 0) return Promise.resolve();
      const k = key.join('/');
      // Behind a write under way: joins the batch that goes next.
      const batch = waiting.get(k);
      if (batch) {
        batch.items.push(...items);
        return batch.written;
      }
      const busy = tails.get(k);
      const own = { items: [...items], written: Promise.resolve() };
      if (busy) waiting.set(k, own);
      const next = (busy ?? Promise.resolve()).then(() => {
        if (waiting.get(k) === own) waiting.delete(k);
        return write(key, own.items);
      });
      own.written = next;
      const tail = next.catch(() => undefined);
      tails.set(k, tail);
      void tail.then(() => tails.get(k) === tail && tails.delete(k));
      return next;
    },
    /** The key's items file by file, newest file first (items in a file oldest first); files last written before `sinceMs` are skipped. */
    async *newestFirst(key: readonly string[], sinceMs = 0): AsyncGenerator<T[]> {
      await tails.get(key.join('/'));
      for (const s of (await segments(key)).reverse()) {
        if (s.mtimeMs < sinceMs) return;
        const text = await readFile(s.file, 'utf8').catch(() => '');
        const items: T[] = [];
        for (const line of text.split('\n')) {
          if (!line) continue;
          try {
            items.push(JSON.parse(line) as T);
          } catch {
            // a torn line
          }
        }
        yield items;
      }
    },
    /** The keys below `prefix` that hold files (e.g. the deployments of a project). */
    async children(prefix: readonly string[]): Promise<string[]> {
      const entries = await readdir(folder(prefix), { withFileTypes: true }).catch(() => []);
      return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
    },
    /** Prunes every key under `dir` by age and size (run now and then; appends prune only their own key). */
    async sweep(now = Date.now()): Promise<void> {
      for (const p of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        if (!p.isDirectory()) continue;
        for (const d of await readdir(join(dir, p.name), { withFileTypes: true }).catch(() => [])) {
          if (d.isDirectory()) await prune([p.name, d.name], now);
        }
      }
    },
  };
};

/**
 * The log {@link segmentedLog} returns.
 *
 * @example
 * const log: SegmentedLog<RuntimeLogRecord> = segmentedLog(dir, retention);
 */
export type SegmentedLog<T> = ReturnType<typeof segmentedLog<T>>;
