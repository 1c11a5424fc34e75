import { describe, expect, it } from 'vitest';
import { keepRecent } from './recent.ts';

describe('keepRecent', () => {
  it('keeps the newest max entries; setting a key again makes it the newest', () => {
    const m = new Map<string, number>();
    for (const [k, v] of [['a', 1], ['b', 2], ['c', 3]] as const) keepRecent(m, k, v, 3);
    keepRecent(m, 'a', 10, 3);
    keepRecent(m, 'd', 4, 3);
    expect([...m]).toEqual([['c', 3], ['a', 10], ['d', 4]]);
  });
});
