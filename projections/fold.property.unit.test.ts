import { describe, expect, it } from 'vitest';
import { generateHistory } from '../test/property/generator.ts';
import { defaultProjections } from './all.ts';
import { canonicalJson } from './canonical.ts';
import { memoryFold } from './fold.ts';
import { fromStored } from './incoming.ts';
import type { AnyProjection } from './types.ts';

// The folds change their documents in place (`Projection.owned`): the same documents as the pure
// `evolve`, and what `docs` handed out stays as it was while the fold goes on.
const histories = Array.from({ length: 12 }, (_, i) => generateHistory({ seed: 4100 + i, prefix: `fp${i}` }));
const pure = (p: AnyProjection): AnyProjection => ({ ...p, owned: undefined });
const json = (fold: ReturnType<typeof memoryFold>) => new Map([...fold.docs].map(([ks, d]) => [ks, canonicalJson(d.state)]));

describe.each(defaultProjections().map((p) => [p.name, p] as const))('memoryFold of %s', (_name, projection) => {
  it('gives the documents of the pure evolve, and the same again when folded twice from scratch', () => {
    for (const h of histories) {
      const incoming = h.events.map(fromStored);
      const once = memoryFold(projection);
      const again = memoryFold(projection);
      const reference = memoryFold(pure(projection));
      for (const i of incoming) for (const f of [once, again, reference]) f.apply(i);
      expect(once.docs.size, `seed ${h.seed}`).toBeGreaterThan(0);
      expect(json(once), `seed ${h.seed}`).toEqual(json(reference));
      expect(json(again), `seed ${h.seed}`).toEqual(json(once));
    }
  });

  it('never changes a document it handed out, whatever comes after', () => {
    for (const h of histories) {
      const incoming = h.events.map(fromStored);
      const fold = memoryFold(projection);
      const handedOut: { docs: Map<string, { state: unknown }>; json: Map<string, string> }[] = [];
      incoming.forEach((i, n) => {
        fold.apply(i);
        if (n % 7 === 3) handedOut.push({ docs: fold.docs, json: json(fold) });
      });
      expect(handedOut.length).toBeGreaterThan(3);
      for (const { docs, json: then } of handedOut) {
        expect(new Map([...docs].map(([ks, d]) => [ks, canonicalJson(d.state)])), `seed ${h.seed}`).toEqual(then);
      }
      const reference = memoryFold(pure(projection));
      for (const i of incoming) reference.apply(i);
      expect(json(fold), `seed ${h.seed}`).toEqual(json(reference));
    }
  });
});
