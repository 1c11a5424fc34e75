import { describe, expect, it } from 'vitest';
import { backoff } from './backoff.ts';

describe('backoff', () => {
  it('doubles the ceiling per attempt up to maxMs', () => {
    const delay = backoff({ baseMs: 10, maxMs: 100, jitter: 'none' });
    expect([0, 1, 2, 3, 4, 10].map(delay)).toEqual([10, 20, 40, 80, 100, 100]);
  });

  it('full jitter stays in [0, ceiling)', () => {
    expect(backoff({ baseMs: 100, maxMs: 1000, random: () => 0 })(2)).toBe(0);
    expect(backoff({ baseMs: 100, maxMs: 1000, random: () => 0.5 })(2)).toBe(200);
  });

  it('equal jitter stays in [ceiling / 2, ceiling)', () => {
    expect(backoff({ baseMs: 100, maxMs: 1000, jitter: 'equal', random: () => 0 })(2)).toBe(200);
    expect(backoff({ baseMs: 100, maxMs: 1000, jitter: 'equal', random: () => 0.5 })(2)).toBe(300);
  });
});
