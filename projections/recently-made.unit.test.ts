import { describe, expect, it } from 'vitest';
import { recentlyMade } from './types.ts';

describe('recentlyMade', () => {
  it('gives make(id) for every id, the same value again for a recent id, and never another id’s (slots shared by several ids)', () => {
    let calls = 0;
    const keyOf = recentlyMade((id) => {
      calls++;
      return { pk: `deployment#${id}`, sk: 'doc' };
    }, 8);
    const ids = Array.from({ length: 200 }, (_, i) => `d-${i % 50}-${(i * 7) % 13}`).concat(['', 'a', 'ab', 'abcd', 'abcde']);
    for (const id of ids) expect(keyOf(id)).toEqual({ pk: `deployment#${id}`, sk: 'doc' });
    // 8 slots for 50+ ids: some were made again, each at most once per lookup.
    expect(calls).toBeGreaterThan(8);
    expect(calls).toBeLessThanOrEqual(ids.length);
    const first = keyOf('d-1');
    expect(keyOf('d-1')).toBe(first);
    expect(keyOf(`d-${'1'}`)).toBe(first);
  });
});
