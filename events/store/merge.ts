import type { StoredEvent } from '../envelope.ts';

interface Head {
  pages: AsyncGenerator<StoredEvent[]>;
  buffer: StoredEvent[];
  at: number;
  done: boolean;
}

const refill = async (h: Head): Promise<void> => {
  while (!h.done && h.at >= h.buffer.length) {
    const next = await h.pages.next();
    if (next.done) h.done = true;
    else {
      h.buffer = next.value;
      h.at = 0;
    }
  }
};

/**
 * Merges sources that are each sorted by `position` into one sequence sorted by `position`,
 * fetching a source's next page only when its buffer runs out.
 *
 * @example
 * for await (const e of mergeByPosition([shard0Pages, shard1Pages])) fold(e);
 */
export async function* mergeByPosition(sources: AsyncGenerator<StoredEvent[]>[]): AsyncGenerator<StoredEvent> {
  const heads: Head[] = sources.map((pages) => ({ pages, buffer: [], at: 0, done: false }));
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
    await Promise.all(heads.map((h) => h.pages.return(undefined)));
  }
}
