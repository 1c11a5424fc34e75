import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogLine, LogStore } from '../../log-store.ts';

interface Follower {
  onLine: (l: LogLine) => void;
  onEnd: () => void;
}

/**
 * Build logs as JSON Lines files under `<dataDir>/logs/<deploymentId>.log`; a `.done` file marks
 * a finished log. Followers in this process get lines as they are appended.
 *
 * @example
 * const logs = localLogStore('/data/.shiplog');
 */
export const localLogStore = (dataDir: string, now: () => string = () => new Date().toISOString()): LogStore => {
  const dir = join(dataDir, 'logs');
  mkdirSync(dir, { recursive: true });
  const file = (id: string) => join(dir, `${id.replace(/[^A-Za-z0-9_-]/g, '_')}.log`);
  const doneFile = (id: string) => `${file(id)}.done`;
  const counters = new Map<string, number>();
  const followers = new Map<string, Set<Follower>>();

  const readAll = (id: string): LogLine[] =>
    existsSync(file(id))
      ? readFileSync(file(id), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine)
      : [];

  const nextNumber = (id: string): number => {
    let n = counters.get(id);
    if (n === undefined) n = readAll(id).at(-1)?.n ?? 0;
    counters.set(id, n + 1);
    return n + 1;
  };

  return {
    append: (id, stream, text) => {
      const line: LogLine = { n: nextNumber(id), at: now(), stream, text };
      appendFileSync(file(id), `${JSON.stringify(line)}\n`);
      for (const f of followers.get(id) ?? []) f.onLine(line);
    },
    read: async (id, after = 0) => readAll(id).filter((l) => l.n > after),
    close: (id) => {
      writeFileSync(doneFile(id), '');
      for (const f of followers.get(id) ?? []) f.onEnd();
      followers.delete(id);
    },
    isClosed: async (id) => existsSync(doneFile(id)),
    follow: (id, after, onLine, onEnd) => {
      const past = readAll(id).filter((l) => l.n > after);
      for (const l of past) onLine(l);
      if (existsSync(doneFile(id))) {
        onEnd();
        return () => {};
      }
      const f: Follower = { onLine, onEnd };
      const set = followers.get(id) ?? new Set();
      set.add(f);
      followers.set(id, set);
      return () => set.delete(f);
    },
  };
};
