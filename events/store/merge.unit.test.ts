import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../envelope.ts';
import { mergeByPosition } from './merge.ts';

const ev = (position: string) => ({ position }) as StoredEvent;

// A source of pages of positions that logs when each page is asked for and answered; a page's
// answer waits until `release` lets it go (all at once by default).
const source = (name: string, pages: string[][], log: string[]) => {
  async function* gen(): AsyncGenerator<StoredEvent[]> {
    for (let i = 0; i < pages.length; i++) {
      log.push(`${name} asks ${i + 1}`);
      await new Promise((r) => setTimeout(r, 1));
      yield pages[i]!.map(ev);
    }
  }
  return gen();
};

describe('mergeByPosition', () => {
  it('merges sorted sources in position order, one page ahead per source from its second page on', async () => {
    const log: string[] = [];
    const a = source('a', [['1', '4'], ['5', '8'], ['9']], log);
    const b = source('b', [['2', '3'], ['6', '7']], log);
    const out: string[] = [];
    for await (const e of mergeByPosition([a, b])) {
      out.push(e.position);
      log.push(`read ${e.position}`);
    }
    expect(out).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9']);
    // a's page 3 is asked for as soon as its page 2 arrives, before 5 (the first of page 2) is read;
    // b's page 2 only once its page 1 is used up (a first page asks for nothing ahead).
    const at = (line: string) => log.indexOf(line);
    expect(at('a asks 3')).toBeGreaterThan(at('a asks 2'));
    expect(at('a asks 3')).toBeLessThan(at('read 5'));
    expect(at('b asks 2')).toBeGreaterThan(at('read 3'));
  });

  it('asks a source for nothing past its first page when the reader stops within it', async () => {
    const log: string[] = [];
    const a = source('a', [['1', '3'], ['5']], log);
    const b = source('b', [['2', '4'], ['6']], log);
    const out: string[] = [];
    for await (const e of mergeByPosition([a, b])) {
      out.push(e.position);
      if (out.length === 3) break;
    }
    expect(out).toEqual(['1', '2', '3']);
    expect(log).toEqual(['a asks 1', 'b asks 1']);
  });

  it('passes on a failure of a page asked for ahead, and closes every source', async () => {
    let closed = 0;
    async function* failing(): AsyncGenerator<StoredEvent[]> {
      try {
        yield [ev('1')];
        yield [ev('3')];
        throw new Error('page 3 failed');
      } finally {
        closed++;
      }
    }
    async function* fine(): AsyncGenerator<StoredEvent[]> {
      try {
        yield [ev('2')];
        yield [ev('4')];
      } finally {
        closed++;
      }
    }
    const out: string[] = [];
    await expect((async () => {
      for await (const e of mergeByPosition([failing(), fine()])) out.push(e.position);
    })()).rejects.toThrow('page 3 failed');
    expect(out).toEqual(['1', '2', '3']);
    expect(closed).toBe(2);
  });
});
