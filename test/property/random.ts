/**
 * A small seeded PRNG (mulberry32) and helpers, so a failing property test names the seed that
 * reproduces it.
 *
 * @example
 * const r = seeded(42);
 * r.int(1, 6); r.pick(['a', 'b']); r.chance(0.2);
 */
export const seeded = (seed: number) => {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const chance = (p: number): boolean => next() < p;
  const shuffle = <T>(xs: readonly T[]): T[] => {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };
  const hex = (n: number): string => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(next() * 16)]).join('');
  const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  /** A ULID for a time, with seeded randomness. */
  const ulid = (ms: number): string => {
    let time = '';
    for (let i = 9, t = ms; i >= 0; i--, t = Math.floor(t / 32)) time = CROCKFORD[t % 32]! + time;
    return time + Array.from({ length: 16 }, () => CROCKFORD[Math.floor(next() * 32)]).join('');
  };
  return { next, int, pick, chance, shuffle, hex, ulid };
};

export type Random = ReturnType<typeof seeded>;
