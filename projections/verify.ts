import type { EventStore } from '../events/store/index.ts';
import { firstDifference } from './canonical.ts';
import { foldStore } from './fold.ts';
import { activeNamespace, ensureRegistered } from './registry.ts';
import type { ViewStore } from './store/ports.ts';
import type { AnyProjection, DocKey } from './types.ts';

/** A document where the live read model and a fresh fold of the store disagree. */
export interface VerifyDifference {
  key: DocKey;
  /** `missing`: the fold has it, the live model not; `extra`: the other way round. */
  kind: 'missing' | 'extra' | 'different';
  /** The first differing path, for `different`. */
  path: string | null;
}

export interface VerifyResult {
  name: string;
  generation: string | null;
  events: number;
  docs: number;
  differences: VerifyDifference[];
  /** Streams the live model has applied less of than the store holds (it is behind, not wrong). */
  streamsBehind: number;
}

/**
 * Rebuilds projections in memory from the store and compares them with their live (serving)
 * generation, document by document. Events committed while it runs can show up as differences:
 * run it again on a quiet store before believing one.
 *
 * @example
 * const results = await verifyProjections({ store, views, projections: defaultProjections() });
 * results.some((r) => r.differences.length > 0);
 */
export const verifyProjections = async (opts: { store: EventStore; views: ViewStore; projections: AnyProjection[]; now?: () => string }): Promise<VerifyResult[]> => {
  const now = opts.now ?? (() => new Date().toISOString());
  const { folds, events } = await foldStore(opts.store, opts.projections);
  const out: VerifyResult[] = [];
  for (const fold of folds) {
    const entry = await ensureRegistered(opts.views, fold.projection, now());
    const ns = activeNamespace(entry);
    const live = ns ? await opts.views.dump(ns) : { docs: new Map(), applied: new Map<string, number>() };
    const differences: VerifyDifference[] = [];
    for (const [ks, doc] of fold.docs) {
      const other = live.docs.get(ks);
      if (!other) differences.push({ key: doc.key, kind: 'missing', path: null });
      else {
        const path = firstDifference(doc.state, other.state);
        if (path) differences.push({ key: doc.key, kind: 'different', path });
      }
    }
    for (const [ks, doc] of live.docs) if (!fold.docs.has(ks)) differences.push({ key: doc.key, kind: 'extra', path: null });
    let streamsBehind = 0;
    // A rebuilt generation keeps no applied version for streams settled at its baseline.
    const baseline = entry.active?.baseline ?? null;
    for (const [streamId, v] of fold.applied) {
      const stored = live.applied.get(streamId);
      if (stored === undefined ? baseline === null : stored < v) streamsBehind++;
    }
    out.push({ name: fold.projection.name, generation: entry.active?.generation ?? null, events, docs: fold.docs.size, differences, streamsBehind });
  }
  return out;
};
