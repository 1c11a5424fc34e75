import { describe, expect, it } from 'vitest';
import { generateHistory } from '../test/property/generator.ts';
import { seeded } from '../test/property/random.ts';
import { defaultProjections } from './all.ts';
import { canonicalJson } from './canonical.ts';
import { memoryFold, multiFold, type FoldedProjection } from './fold.ts';
import { fromStored } from './incoming.ts';
import type { Incoming } from './types.ts';

// A multi fold looks each event's stream up once for all its projections: each of its folds must
// hold what a `memoryFold` of that projection alone holds after the same events (documents in the
// same order, applied versions, held-back events), whatever the order and repeats of delivery.
const histories = Array.from({ length: 8 }, (_, i) => generateHistory({ seed: 5200 + i, prefix: `mf${i}` }));

const snapshotOf = (docs: Map<string, { key?: unknown; state: unknown }>) => ({
  docs: [...docs].map(([ks, d]) => [ks, canonicalJson(d.key), canonicalJson(d.state)]),
});
const snapshot = (fold: FoldedProjection) => ({ ...snapshotOf(fold.docs), applied: [...fold.applied], held: fold.held });
const statesOf = (maps: Map<string, { state: unknown }>[]) => JSON.stringify(maps.map((docs) => [...docs].map(([ks, d]) => [ks, canonicalJson(d.state)])));

/** Each event 1–2 times, and some events swapped with a later event of their stream (held back until it comes). */
const disordered = (events: Incoming[], seed: number): Incoming[] => {
  const r = seeded(seed);
  const order = [...events];
  for (let i = 0; i < order.length; i++) {
    if (!r.chance(0.2)) continue;
    const j = order.findIndex((e, k) => k > i && e.streamId === order[i]!.streamId);
    if (j > i && j - i < 40) [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.flatMap((e) => Array.from({ length: r.int(1, 2) }, () => e));
};

const compare = (stream: Incoming[], label: string, everyN = 0) => {
  const projections = defaultProjections();
  const multi = multiFold(projections);
  const alone = projections.map((p) => memoryFold(p));
  const handedOut: { multi: string; alone: string; maps: Map<string, { state: unknown }>[] }[] = [];
  stream.forEach((incoming, n) => {
    const took = multi.apply(incoming);
    const tookAlone = alone.map((f) => f.apply(incoming));
    // The multi fold takes an event when any projection following its stream takes it.
    expect(took, `${label} event ${n}`).toBe(tookAlone.some(Boolean));
    if (everyN > 0 && n % everyN === everyN - 1) {
      const maps = multi.folds.map((f) => f.docs);
      handedOut.push({ multi: statesOf(maps), alone: JSON.stringify(alone.map(snapshot)), maps });
    }
  });
  expect(multi.folds.map((f) => f.projection.name)).toEqual(projections.map((p) => p.name));
  multi.folds.forEach((fold, i) => {
    expect(fold.docs.size, `${label} ${fold.projection.name}`).toBeGreaterThan(0);
    expect(snapshot(fold), `${label} ${fold.projection.name}`).toEqual(snapshot(alone[i]!));
  });
  return handedOut;
};

describe('multiFold', () => {
  it('holds, per projection, what a memoryFold of it alone holds after the same events', () => {
    for (const h of histories) compare(h.events.map(fromStored), `seed ${h.seed}`);
  });

  it('does so too with repeated events and events ahead of their predecessor (held back, then applied)', () => {
    for (const h of histories) {
      const stream = disordered(h.events.map(fromStored), h.seed);
      compare(stream, `seed ${h.seed} disordered`);
      // Some events were ahead of their predecessor at some point.
      const probe = multiFold(defaultProjections());
      let everHeld = false;
      for (const e of stream) {
        probe.apply(e);
        everHeld ||= probe.held > 0;
      }
      expect(everHeld, `seed ${h.seed}`).toBe(true);
    }
  });

  it('holds back an event until its predecessor comes, once per stream, and counts it for each projection following the stream', () => {
    const h = histories[0]!;
    const incoming = h.events.map(fromStored);
    const second = incoming.find((e) => e.streamId.startsWith('release#') && e.version === 2)!;
    const multi = multiFold(defaultProjections());
    expect(multi.apply(second)).toBe(true);
    expect(multi.apply(second)).toBe(false);
    expect(multi.held).toBe(1);
    // `release#` streams are followed by projects, deployments, activity and delivery.
    expect(multi.folds.map((f) => f.held)).toEqual([1, 1, 1, 1]);
    expect(multi.folds.map((f) => f.applied.has(second.streamId))).toEqual([false, false, false, false]);
    multi.apply(incoming.find((e) => e.streamId === second.streamId && e.version === 1)!);
    expect(multi.held).toBe(0);
    expect(multi.folds.map((f) => f.applied.get(second.streamId))).toEqual([2, 2, 2, 2]);
  });

  it('never changes documents it handed out, and they were what separate folds held then', () => {
    for (const h of histories.slice(0, 4)) {
      const handedOut = compare(h.events.map(fromStored), `seed ${h.seed} handed out`, 9);
      expect(handedOut.length).toBeGreaterThan(3);
      for (const { multi, alone, maps } of handedOut) {
        // What the multi fold handed out then is what the separate folds held then...
        expect(JSON.stringify(maps.map((docs, i) => ({ ...snapshotOf(docs), applied: JSON.parse(alone)[i].applied, held: JSON.parse(alone)[i].held }))), `seed ${h.seed}`).toEqual(alone);
        // ... and the folding that went on since has not changed it.
        expect(statesOf(maps), `seed ${h.seed}`).toEqual(multi);
      }
    }
  });

  it('skips events of streams no projection follows', () => {
    const projects = defaultProjections().filter((p) => p.name === 'projects');
    const multi = multiFold(projects);
    const build = histories[0]!.events.map(fromStored).find((e) => e.streamId.startsWith('build#'))!;
    expect(multi.apply(build)).toBe(false);
    expect(multi.folds[0]!.applied.size).toBe(0);
  });
});
