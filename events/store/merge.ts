import type { StoredEvent } from '../envelope.ts';

interface Head {
  pages: AsyncGenerator<StoredEvent[]>;
  buffer: StoredEvent[];
  at: number;
  done: boolean;
  /** Pages taken so far. */
  taken: number;
  /** The next page, asked for while this one is read. */
  ahead: Promise<IteratorResult<StoredEvent[]>> | null;
}

const refill = async (h: Head): Promise<void> => {
  while (!h.done && h.at >= h.buffer.length) {
    const next = await (h.ahead ?? h.pages.next());
    h.ahead = null;
    if (next.done) {
      h.done = true;
      continue;
    }
    h.buffer = next.value;
    h.at = 0;
    // A source read past its first page is read at length (a rebuild, a catch-up): its next page
    // is asked for now, so the store answers while this one is folded. A short read (one page
    // per source) asks for nothing it will not use.
    if (++h.taken > 1) {
      h.ahead = h.pages.next();
      h.ahead.catch(() => undefined);
    }
  }
};

/**
 * Merges sources that are each sorted by `position` into one sequence sorted by `position`.
 * A source's first page is fetched at once; from its second page on, its next page is fetched
 * while the current one is read (one page ahead per source).
 *
 * @example
 * for await (const e of mergeByPosition([shard0Pages, shard1Pages])) fold(e);
 */
export async function* mergeByPosition(sources: AsyncGenerator<StoredEvent[]>[]): AsyncGenerator<StoredEvent> {
  const heads: Head[] = sources.map((pages) => ({ pages, buffer: [], at: 0, done: false, taken: 0, ahead: null }));
  try {
    await Promise.all(heads.map(refill));
    for (;;) {
      let best: Head | undefined;
      for (const h of heads) {
        if (h.at >= h.buffer.length) continue;
        if (!best || h.buffer[h.at]!.position < best.buffer[best.at]!.position) best = h;
      }
      if (!best) return;
      yield best.buffer[best.at++]!;
      await refill(best);
    }
  } finally {
    // A page asked for ahead settles first (a generator's `return` waits for it).
    await Promise.all(heads.map((h) => h.pages.return(undefined)));
  }
}
