import type { StoredEvent } from '../events/index.ts';
import type { EventStore } from '../events/store/index.ts';
import { bulkDocOf, memoryFold, type MemoryFold } from './fold.ts';
import { fromStored } from './incoming.ts';
import { ensureRegistered, generationName, updateRegistry } from './registry.ts';
import { makeProjectionRunner } from './runner.ts';
import { namespaceOf, type BulkDoc, type ViewStore } from './store/ports.ts';
import { follows, type AnyProjection, type DocKey } from './types.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const timeOf = (position: string): number => Date.parse(position.slice(0, 24));

export interface RebuildOptions {
  store: EventStore;
  views: ViewStore;
  projection: AnyProjection;
  /** The runners' registry cache time; the rebuild waits longer than this before relying on them. */
  registryTtlMs?: number;
  /** How far behind the last folded event the catch-up starts (appends commit out of position order by up to this). */
  settleMs?: number;
  /**
   * The documents are written in waves while the store is read: a wave starts after this many
   * events once the previous one is done, and writes what changed since, in one `bulkPut` (at
   * the view store's write concurrency). Default 5000.
   */
  waveEvents?: number;
  /** Take over from a rebuild that died. */
  force?: boolean;
  /** Keep the previous generation's items instead of deleting them after the switch. */
  keepPrevious?: boolean;
  now?: () => string;
  onProgress?: (step: string) => void;
}

export interface RebuildResult {
  name: string;
  version: number;
  generation: string;
  previous: string | null;
  /** Events folded from the store, documents written. */
  events: number;
  docs: number;
  /** Document writes and deletes sent: `docs`, and again each document that changed after a wave wrote it. */
  docWrites: number;
  streams: number;
  /** Events applied by the catch-up after the bulk load. */
  caughtUp: number;
  dropped: number;
  /** From the start until the new generation serves. */
  seconds: number;
  /** Deleting the previous generation, after the switch. */
  dropSeconds: number;
  /**
   * Where `seconds` went: reading and folding the store, writing the documents, and the rest
   * (registry steps, the wait for the runners, the catch-up).
   */
  phases: { foldSeconds: number; writeSeconds: number; restSeconds: number };
}

/**
 * Catches a namespace up with the store from a cursor: reads in global order and applies, per
 * stream, what the namespace has not applied yet (duplicates cost one batched read, nothing else).
 *
 * @example
 * await catchUp({ store, views, projection, ns: 'deployments|g2', cursor });
 */
export const catchUp = async (opts: {
  store: EventStore; views: ViewStore; projection: AnyProjection; ns: string; cursor: string | null; baseline?: string | null;
}) => {
  const runner = makeProjectionRunner({ store: opts.store, views: opts.views, projections: [opts.projection] });
  let applied = 0;
  let last: string | null = null;
  let chunk: StoredEvent[] = [];
  const flush = async () => {
    const byStream = new Map<string, StoredEvent[]>();
    for (const e of chunk) byStream.set(e.metadata.streamId, [...(byStream.get(e.metadata.streamId) ?? []), e]);
    const versions = await opts.views.appliedVersions(opts.ns, [...byStream.keys()]);
    const baseline = opts.baseline ?? null;
    for (const [streamId, events] of byStream) {
      const stored = versions.get(streamId) ?? 0;
      // Settled by the bulk load: only what came after the baseline can be missing.
      const todo = events.filter((e) => e.metadata.version > stored && !(stored === 0 && baseline !== null && e.position <= baseline));
      if (todo.length > 0) applied += await runner.applyStream(opts.projection, opts.ns, streamId, todo.map(fromStored), baseline);
    }
    chunk = [];
  };
  for await (const e of opts.store.iterateAll({ cursor: opts.cursor, pageSize: 500 })) {
    last = e.position;
    if (!follows(opts.projection, e.metadata.streamId)) continue;
    chunk.push(e);
    if (chunk.length >= 500) await flush();
  }
  await flush();
  return { applied, lastPosition: last };
};

/**
 * Rebuilds a projection into a new generation while the current one keeps serving, then
 * switches reads to it:
 * 1. claims the next generation in the registry (`loading`);
 * 2. folds the whole store in memory, in global order;
 * 3. writes the documents in bulk (BatchWriteItem) while it reads: in waves of what changed since
 *    the last wave (nobody reads or folds this generation yet, so a document may be written
 *    early and again), then what changed after the last wave;
 * 4. marks it `catching-up`, so runners fold new events into it as well, and waits until every
 *    runner has seen that;
 * 5. catches up from shortly before the last folded event through the runner's idempotent path;
 * 6. switches the registry's active generation and drops the old one.
 *
 * @example
 * const r = await rebuildProjection({ store, views, projection: deploymentsProjection });
 * r.generation; // 'g2'
 */
export const rebuildProjection = async (opts: RebuildOptions): Promise<RebuildResult> => {
  const { store, views, projection } = opts;
  const now = opts.now ?? (() => new Date().toISOString());
  const settleMs = opts.settleMs ?? 2000;
  const started = performance.now();
  const say = opts.onProgress ?? (() => undefined);
  const waveEvents = opts.waveEvents ?? 5000;

  // 1. claim a generation
  await ensureRegistered(views, projection, now());
  let stale: string | null = null;
  const claimed = await updateRegistry(views, projection.name, (e) => {
    if (e.building && !opts.force) {
      throw new Error(`projection ${projection.name} is already being rebuilt into ${e.building.generation} (since ${e.building.startedAt}); pass --force if that rebuild died`);
    }
    stale = e.building?.generation ?? null;
    return {
      ...e,
      building: { generation: generationName(e.nextGeneration), version: projection.version, state: 'loading', startedAt: now() },
      nextGeneration: e.nextGeneration + 1,
    };
  });
  const generation = claimed.building!.generation;
  const ns = namespaceOf(projection.name, generation);
  if (stale) await views.drop(namespaceOf(projection.name, stale));
  say(`${projection.name}: rebuilding into ${generation}`);

  // Each document's state as last written into the new generation.
  const written = new Map<string, { key: DocKey; state: unknown }>();
  // The documents changed since they were last written (a deleted one as `null`). The fold never
  // changes a state it handed out (it changes a copy), so a state other than the written one is
  // a changed document.
  const changedDocs = (fold: MemoryFold): BulkDoc[] => {
    const out: BulkDoc[] = [];
    const before = written.size;
    let kept = 0;
    for (const [ks, d] of fold.docs) {
      const last = written.get(ks);
      if (last) {
        kept++;
        if (last.state === d.state) continue;
      }
      out.push(bulkDocOf(projection, d));
      written.set(ks, { key: d.key, state: d.state });
    }
    if (kept < before) {
      const docs = fold.docs;
      for (const [ks, w] of written) {
        if (docs.has(ks)) continue;
        out.push({ key: w.key, state: null });
        written.delete(ks);
      }
    }
    return out;
  };
  // One wave of writes at a time, while the read goes on; a failed wave stops the read.
  let wave: Promise<void> | null = null;
  let waveFailure: { err: unknown } | null = null;
  let docWrites = 0;
  const writeWave = (docs: BulkDoc[]): Promise<void> => {
    docWrites += docs.length;
    return views.bulkPut(ns, docs, new Map());
  };

  try {
    // 2. fold the store in global order and 3. write the documents in waves while it is read
    // (into the generation nobody reads yet): each wave writes what changed since the last one.
    const folding = performance.now();
    const fold = memoryFold(projection);
    let events = 0;
    let sinceWave = 0;
    let last: StoredEvent | undefined;
    for await (const e of store.iterateAll({ pageSize: 1000 })) {
      fold.apply(fromStored(e));
      last = e;
      if (++events % 10_000 === 0) say(`${projection.name}: ${events} events folded`);
      if (++sinceWave < waveEvents || wave) continue;
      if (waveFailure) throw (waveFailure as { err: unknown }).err;
      sinceWave = 0;
      wave = writeWave(changedDocs(fold)).then(
        () => { wave = null; },
        (err: unknown) => { waveFailure = { err }; wave = null; },
      );
    }
    const lastPosition = last?.position ?? null;
    const lastRecordedAt = last?.recordedAt ?? null;
    // The rest: what changed after the last wave was taken.
    const writing = performance.now();
    await wave;
    if (waveFailure) throw (waveFailure as { err: unknown }).err;
    // Applied versions are not written: every stream is settled up to the baseline
    // (`settledVersion`), which saves an item per stream.
    await writeWave(changedDocs(fold));
    const loaded = performance.now();
    say(`${projection.name}: ${events} events, ${fold.docs.size} documents written`);
    // 4. runners fold into the new generation too
    await updateRegistry(views, projection.name, (e) => {
      if (e.building?.generation !== generation) throw new Error(`rebuild of ${projection.name} into ${generation} was taken over by another rebuild`);
      return { ...e, building: { ...e.building, state: 'catching-up', baseline: lastPosition } };
    });
    await sleep((opts.registryTtlMs ?? 1000) + 100);
    // 5. catch up
    const from = lastRecordedAt ? new Date(Date.parse(lastRecordedAt) - settleMs).toISOString() : null;
    const caught = await catchUp({ store, views, projection, ns, cursor: from, baseline: lastPosition });
    // 6. switch
    const head = caught.lastPosition;
    const watermark = head ? new Date(Math.min(timeOf(head), Date.now()) - settleMs).toISOString() : null;
    let previous: string | null = null;
    await updateRegistry(views, projection.name, (e) => {
      if (e.building?.generation !== generation) throw new Error(`rebuild of ${projection.name} into ${generation} was taken over by another rebuild`);
      previous = e.active?.generation ?? null;
      return { ...e, active: { generation, version: projection.version, since: now(), baseline: lastPosition }, building: null, watermark };
    });
    const seconds = (performance.now() - started) / 1000;
    say(`${projection.name}: ${generation} serves`);
    // 7. the old generation goes (a scan of the views table, after the switch)
    const dropping = performance.now();
    const dropped = previous && !opts.keepPrevious ? await views.drop(namespaceOf(projection.name, previous)) : 0;
    return {
      name: projection.name, version: projection.version, generation, previous, events, docs: fold.docs.size, docWrites, streams: fold.applied.size,
      caughtUp: caught.applied, dropped, seconds, dropSeconds: (performance.now() - dropping) / 1000,
      phases: {
        foldSeconds: (writing - folding) / 1000,
        writeSeconds: (loaded - writing) / 1000,
        restSeconds: seconds - (loaded - folding) / 1000,
      },
    };
  } catch (err) {
    // A wave still writing would land after the drop.
    await wave;
    // Leave the registry as it was (the old generation keeps serving) and the half-built one gone.
    await updateRegistry(views, projection.name, (e) => (e.building?.generation === generation ? { ...e, building: null } : e)).catch(() => undefined);
    await views.drop(ns).catch(() => undefined);
    throw err;
  }
};
