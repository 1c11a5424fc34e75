import { backoff } from '../events/index.ts';
import type { EventBridgeEvent } from '../events/index.ts';
import type { EventStore } from '../events/store/index.ts';
import { defaultProjections } from './all.ts';
import { canonicalJson } from './canonical.ts';
import { applyEvent, type KeyedDoc } from './fold.ts';
import { fromBus, fromStored } from './incoming.ts';
import { cachedRegistry, liveNamespaces } from './registry.ts';
import type { Commit, DocWrite, StoredDoc, ViewStore } from './store/ports.ts';
import { follows, keyString, type AnyProjection, type DocKey, type Incoming } from './types.ts';

/** What the runner needs: the store (to fill gaps), the read models' storage and the projections. */
export interface ProjectionRunnerDeps {
  store: EventStore;
  views: ViewStore;
  projections?: AnyProjection[];
  /** How long the registry of generations is cached (a rebuild waits longer than this). */
  registryTtlMs?: number;
  /** Attempts per stream batch when concurrent deliveries keep winning the race. */
  maxAttempts?: number;
  now?: () => string;
}

/** A delivered event's predecessors are not in the store (yet): retry later. */
export class StreamGapError extends Error {
  override readonly name = 'StreamGapError';
  readonly retryable = true;
}

/** Concurrent writers kept moving the documents; the bus retries the event. */
export class ProjectionConflictError extends Error {
  override readonly name = 'ProjectionConflictError';
  readonly retryable = true;
}

/**
 * The applied version a bulk-loaded generation has of a stream it stores none for: the stream's
 * events up to the rebuild's baseline position (without a gap) were all folded into it.
 *
 * @example
 * await settledVersion(store, 'build#d1', registryEntry.active.baseline); // 4
 */
export const settledVersion = async (store: EventStore, streamId: string, baseline: string): Promise<number> => {
  let version = 0;
  for (const e of await store.readStream(streamId)) {
    if (e.position > baseline || e.metadata.version !== version + 1) break;
    version = e.metadata.version;
  }
  return version;
};

// A DynamoDB transaction holds 100 actions: the applied version plus at most 90 documents.
const MAX_BATCH_EVENTS = 50;
const MAX_BATCH_DOCS = 90;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Between two attempts of a batch that lost a race to a concurrent delivery.
const conflictDelay = backoff({ baseMs: 5, maxMs: 1000 });

const uniqueKeys = (projection: AnyProjection, events: Incoming[]): Map<string, DocKey> => {
  const keys = new Map<string, DocKey>();
  for (const i of events) if (i.event) for (const k of projection.keysOf(i.event)) keys.set(keyString(k), k);
  return keys;
};

/**
 * The projection runner. For each event and each projection following its stream, in every live
 * generation, it:
 * 1. reads the stream's applied version and the documents the event touches (one BatchGetItem);
 * 2. skips what is already applied (a duplicate delivery);
 * 3. when the event is ahead of its stream, reads the missing events from the store first;
 * 4. folds with the projection's pure `evolve` and commits documents and the new applied
 *    version in one conditional write, so a concurrent delivery cannot apply anything twice;
 *    on a lost race it reloads and tries again.
 * Unknown event types only move their stream's applied version.
 *
 * @example
 * const runner = makeProjectionRunner({ store, views });
 * await runner.handle(ebEvent);
 */
export const makeProjectionRunner = (deps: ProjectionRunnerDeps) => {
  const { store, views } = deps;
  const projections = deps.projections ?? defaultProjections();
  const maxAttempts = deps.maxAttempts ?? 30;
  const registry = cachedRegistry(views, projections, deps.registryTtlMs ?? 1000, deps.now);

  const applyStream = async (
    projection: AnyProjection, ns: string, streamId: string, given: Incoming[], baseline: string | null = null,
  ): Promise<number> => {
    let pending = [...given].sort((a, b) => a.version - b.version);
    let appliedCount = 0;
    for (let attempt = 0; ;) {
      // 1. what is applied, and the documents of the first events
      const wanted = uniqueKeys(projection, pending.slice(0, MAX_BATCH_EVENTS));
      const loaded = await views.load(ns, streamId, [...wanted.values()]);
      const stored = loaded.applied;
      // A stream a rebuild loaded has no applied version of its own yet: what it loaded is settled.
      const applied = stored === 0 && baseline ? await settledVersion(store, streamId, baseline) : stored;
      // 2. duplicates
      let todo = pending.filter((i) => i.version > applied);
      if (todo.length === 0) return appliedCount;
      // 3. a gap: the store has what came before
      if (todo[0]!.version !== applied + 1) {
        todo = (await store.readStream(streamId, { fromVersion: applied + 1 })).map(fromStored);
        if (todo[0]?.version !== applied + 1) {
          throw new StreamGapError(`${streamId}: version ${applied + 1} is not in the store yet (applied ${applied}, delivered ${pending[0]!.version})`);
        }
      }
      // 4. fold a batch that fits one transaction
      const batch: Incoming[] = [];
      const keys = new Map<string, DocKey>();
      for (const i of todo) {
        const mine = i.event ? projection.keysOf(i.event) : [];
        const added = mine.filter((k) => !keys.has(keyString(k))).length;
        if (batch.length > 0 && (batch.length >= MAX_BATCH_EVENTS || keys.size + added > MAX_BATCH_DOCS)) break;
        batch.push(i);
        for (const k of mine) keys.set(keyString(k), k);
      }
      const docs = loaded.docs;
      const missing = [...keys].filter(([ks]) => !wanted.has(ks)).map(([, k]) => k);
      if (missing.length > 0) {
        const more = await views.load(ns, streamId, missing);
        if (more.applied !== stored) continue;
        for (const [ks, d] of more.docs) docs.set(ks, d);
      }
      const writes = changesOf(projection, docs, batch);
      const last = batch.at(-1)!.version;
      if (await views.commit(ns, { streamId, expectedApplied: stored, applied: last, writes })) {
        appliedCount += batch.length;
        pending = todo.slice(batch.length);
        attempt = 0;
        if (pending.length === 0) return appliedCount;
        continue;
      }
      // Lost a race (the same event delivered twice at once, or another stream's event on a shared document).
      if (++attempt >= maxAttempts) throw new ProjectionConflictError(`${projection.name}: ${streamId} v${last} kept conflicting after ${attempt} attempts`);
      await sleep(conflictDelay(attempt));
    }
  };

  const changesOf = (projection: AnyProjection, docs: Map<string, StoredDoc>, events: Incoming[]): DocWrite[] => {
    const working = new Map<string, KeyedDoc<unknown | null>>();
    const current = (key: DocKey) => {
      const ks = keyString(key);
      return working.has(ks) ? working.get(ks)!.state : docs.get(ks)?.state;
    };
    for (const i of events) for (const [ks, change] of applyEvent(projection, current, i)) working.set(ks, change);
    const writes: DocWrite[] = [];
    for (const [ks, { key, state }] of working) {
      const before = docs.get(ks);
      if (state === null ? before === undefined : before !== undefined && canonicalJson(before.state) === canonicalJson(state)) continue;
      writes.push({ key, expectedRev: before?.rev ?? 0, state, list: state === null ? undefined : projection.listEntryOf?.(state, key) });
    }
    return writes;
  };

  // The usual case, one event next in its stream for every projection: one read and one write for all of them.
  const apply = async (incoming: Incoming): Promise<void> => {
    const entries = await registry.get();
    const targets = projections
      .filter((p) => follows(p, incoming.streamId))
      .flatMap((p) => liveNamespaces(entries.get(p.name)!).map(({ ns, baseline }) => ({ p, ns, baseline })));
    if (targets.length === 0) return;
    const loaded = await views.loadMany(targets.map(({ p, ns }) => ({
      ns, streamId: incoming.streamId, keys: incoming.event ? p.keysOf(incoming.event) : [],
    })));
    const slow: typeof targets = [];
    const commits: { ns: string; commit: Commit }[] = [];
    const committing: typeof targets = [];
    targets.forEach((t, i) => {
      const { applied, docs } = loaded[i]!;
      if (incoming.version <= applied) return;
      if (incoming.version !== applied + 1 || (applied === 0 && t.baseline)) return void slow.push(t);
      commits.push({ ns: t.ns, commit: { streamId: incoming.streamId, expectedApplied: applied, applied: incoming.version, writes: changesOf(t.p, docs, [incoming]) } });
      committing.push(t);
    });
    if (commits.length > 0 && !(await views.commitMany(commits))) slow.push(...committing);
    // Gaps and lost races: per projection, with gap filling and retries.
    await Promise.all(slow.map(({ p, ns, baseline }) => applyStream(p, ns, incoming.streamId, [incoming], baseline)));
  };

  return {
    projections,
    registry,
    /** Applies one delivered EventBridge event to every projection. */
    handle: async (raw: unknown): Promise<void> => apply(fromBus(raw)),
    apply,
    /** Applies events of one stream to one namespace; returns how many it applied. */
    applyStream,
  };
};

export type ProjectionRunner = ReturnType<typeof makeProjectionRunner>;

/**
 * The bus handler of the `Projections` subscription: every shiplog event, at least once, in any
 * order. Throws (so the bus retries) when the store cannot fill a gap yet or races keep being lost;
 * throws a non-retryable error for events that are not shiplog events.
 *
 * @example
 * const handle = makeProjectionHandler({ store, views });
 * localBus({ subscribers: [{ name: 'Projections', pattern, policy, handle }], … });
 */
export const makeProjectionHandler = (deps: ProjectionRunnerDeps): ((event: EventBridgeEvent) => Promise<void>) => {
  const runner = makeProjectionRunner(deps);
  return (event) => runner.handle(event);
};
